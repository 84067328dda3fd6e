package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Read delivers every message after position `after`, in order. It uses one
// ordered consumer for the whole read (no acknowledgements, flow-controlled,
// recreated by the client on a gap), which is the fastest way JetStream
// offers to stream a log; readers keep their own checkpoint. Every message
// carries the store's verdict on it (Message.Foreign).
func (s *JetStream) Read(ctx context.Context, after uint64, opts ReadOptions, fn func(Message) error) error {
	end := uint64(0)
	if !opts.Follow {
		last, err := s.LastPosition(ctx)
		if err != nil {
			return err
		}
		if last <= after {
			return nil
		}
		end = last
	}
	cons, err := s.js.OrderedConsumer(ctx, s.cfg.Stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{s.cfg.SubjectPrefix + ".>"},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    after + 1,
	})
	if err != nil {
		return fmt.Errorf("read from %d: %w", after+1, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1024))
	if err != nil {
		return fmt.Errorf("read from %d: %w", after+1, err)
	}
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
			it.Stop()
		case <-stopped:
			it.Stop()
		}
	}()
	n := 0
	for {
		m, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) && ctx.Err() != nil {
				if opts.Follow {
					return nil
				}
				return ctx.Err()
			}
			return fmt.Errorf("read: %w", err)
		}
		meta, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		seq := meta.Sequence.Stream
		msg := decodeMessage(s.cfg.SubjectPrefix, m.Subject(), seq, m.Data(), m.Headers())
		msg.StoredAt = meta.Timestamp
		if !opts.Unjudged {
			msg.Foreign = Authentic(s.trust, msg)
		}
		if err := fn(msg); err != nil {
			return err
		}
		n++
		if (opts.Limit > 0 && n >= opts.Limit) || (!opts.Follow && seq >= end) {
			return nil
		}
	}
}
