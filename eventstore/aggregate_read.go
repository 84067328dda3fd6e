package eventstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/domain"
)

// AggregateMessages reads every message stored on the aggregate's subject
// in any unit (and, in a log that has them, on its subject of the old
// layout), straight from the stream and in order, each decoded as the
// readers decode it (a message that cannot be read carries Err). Unlike
// Load it never answers from the write model's memory and skips nothing,
// which is what a verification of one aggregate's chain needs: it must see
// what the stream holds, not what this process believes it appended.
func (s *JetStream) AggregateMessages(ctx context.Context, ref domain.AggregateRef, fn func(Message) error) error {
	if err := ref.Validate(); err != nil {
		return err
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	legacy, err := s.legacyLog(ctx)
	if err != nil {
		return fmt.Errorf("read %s: %w", ref, err)
	}
	var msgs []Message
	var ferr error
	visit := func(raw *jetstream.RawStreamMsg) {
		m := decodeMessage(s.cfg.SubjectPrefix, raw.Subject, raw.Sequence, raw.Data, raw.Header)
		switch {
		case legacy:
			msgs = append(msgs, m) // two subjects: merged by position below
		case ferr == nil:
			ferr = fn(m)
		}
	}
	if legacy {
		if err := s.subjectMessages(ctx, LegacySubject(s.cfg.SubjectPrefix, ref), 1, visit); err != nil {
			return fmt.Errorf("read %s: %w", ref, err)
		}
	}
	if err := s.subjectMessages(ctx, AggregateFilter(s.cfg.SubjectPrefix, ref), 1, visit); err != nil {
		return fmt.Errorf("read %s: %w", ref, err)
	}
	slices.SortFunc(msgs, func(a, b Message) int { return cmp.Compare(a.Position, b.Position) })
	for _, m := range msgs {
		if ferr == nil {
			ferr = fn(m)
		}
	}
	return ferr
}
