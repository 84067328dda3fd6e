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
// in any unit and on its subject of the old layout, straight from the
// stream and in order, each decoded as the readers decode it (a message
// that cannot be read carries Err). Unlike Load it never answers from the
// write model's memory and skips nothing, which is what a verification of
// one aggregate's chain needs: it must see what the stream holds, not what
// this process believes it appended. It reads the old layout's subject
// whether or not the log had any when the store opened: a message
// published there later is for the verification to see.
func (s *JetStream) AggregateMessages(ctx context.Context, ref domain.AggregateRef, fn func(Message) error) error {
	if err := ref.Validate(); err != nil {
		return err
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	var msgs []Message
	visit := func(raw *jetstream.RawStreamMsg) {
		msgs = append(msgs, decodeMessage(s.cfg.SubjectPrefix, raw.Subject, raw.Sequence, raw.Data, raw.Header))
	}
	for _, filter := range []string{LegacySubject(s.cfg.SubjectPrefix, ref), AggregateFilter(s.cfg.SubjectPrefix, ref)} {
		if err := s.subjectMessages(ctx, filter, 1, visit); err != nil {
			return fmt.Errorf("read %s: %w", ref, err)
		}
	}
	// Two filters: merged by position.
	slices.SortFunc(msgs, func(a, b Message) int { return cmp.Compare(a.Position, b.Position) })
	for _, m := range msgs {
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}
