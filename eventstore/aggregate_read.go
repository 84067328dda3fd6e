package eventstore

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/domain"
)

// AggregateMessages reads every message stored on the aggregate's subject,
// straight from the stream and in order, each decoded as the readers
// decode it (a message that cannot be read carries Err). Unlike Load it
// never answers from the write model's memory and skips nothing, which is
// what a verification of one aggregate's chain needs: it must see what the
// stream holds, not what this process believes it appended.
func (s *JetStream) AggregateMessages(ctx context.Context, ref domain.AggregateRef, fn func(Message) error) error {
	if err := ref.Validate(); err != nil {
		return err
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	var ferr error
	err := s.subjectMessages(ctx, s.subject(ref), 1, func(raw *jetstream.RawStreamMsg) {
		if ferr == nil {
			ferr = fn(decodeMessage(s.cfg.SubjectPrefix, raw.Subject, raw.Sequence, raw.Data, raw.Header))
		}
	})
	if err != nil {
		return fmt.Errorf("read %s: %w", ref, err)
	}
	return ferr
}
