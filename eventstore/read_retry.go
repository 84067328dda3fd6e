package eventstore

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// readRetryWait is the pause between two tries of a read no server
// answered.
const readRetryWait = 100 * time.Millisecond

// retryNoResponders runs get again while the server answers that nobody
// serves its subject, until the store's timeout (or ctx) ends the wait.
//
// A direct get is answered by whichever server of the stream has
// subscribed to the stream's direct-get subject, and a server subscribes
// only once its replica is current: on a stream just formed, after a
// restart or while replicas catch up there can be a moment with none, and
// the request comes back at once with "no responders" rather than waiting
// for one. Publishes retry that case (see publish); reads did not, so
// the first load on a just-formed R3 stream could fail for no lasting
// reason. The last answer is returned as it came once the wait is over.
func retryNoResponders[T any](ctx context.Context, timeout time.Duration, get func() (T, error)) (T, error) {
	v, err := get()
	if !errors.Is(err, nats.ErrNoResponders) {
		return v, err
	}
	deadline := time.Now().Add(timeout)
	for errors.Is(err, nats.ErrNoResponders) {
		if pauseForResponder(ctx, deadline) != nil {
			return v, err
		}
		v, err = get()
	}
	return v, err
}

// pauseForResponder waits readRetryWait, or less to stop at deadline; it
// fails when the deadline has passed or ctx ends first.
func pauseForResponder(ctx context.Context, deadline time.Time) error {
	wait := min(readRetryWait, time.Until(deadline))
	if wait <= 0 {
		return context.DeadlineExceeded
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// getMsg is st.GetMsg, tried again while no server answers.
func (s *JetStream) getMsg(ctx context.Context, st jetstream.Stream, seq uint64, opts ...jetstream.GetMsgOpt) (*jetstream.RawStreamMsg, error) {
	return retryNoResponders(ctx, s.cfg.Timeout, func() (*jetstream.RawStreamMsg, error) {
		return st.GetMsg(ctx, seq, opts...)
	})
}
