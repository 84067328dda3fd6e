package eventstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// publish sends msg to the stream and waits for the server's
// acknowledgement, with jetstream's PublishMsg's retries while no server
// answers and its errors. It differs in two ways that matter on the path of
// every command: the reply comes back on one of the store's own reply
// inboxes (see request), and the usual acknowledgement is read without
// encoding/json. Anything but a plain acknowledgement of this stream (an
// error, a duplicate, a domain) is decoded in full, as jetstream decodes it.
//
// cfg.Timeout bounds the whole publish, retries included, whatever ctx
// allows.
func (s *JetStream) publish(ctx context.Context, msg *nats.Msg) (*jetstream.PubAck, error) {
	deadline := time.Now().Add(s.cfg.Timeout)
	resp, err := s.replies.request(ctx, msg, deadline)
	for r := 0; errors.Is(err, nats.ErrNoResponders) && r < jetstream.DefaultPubRetryAttempts; r++ {
		// No server took it (a leader election, a restart): try again
		// shortly, as jetstream does.
		select {
		case <-ctx.Done():
		case <-time.After(min(jetstream.DefaultPubRetryWait, time.Until(deadline))):
		}
		resp, err = s.replies.request(ctx, msg, deadline)
	}
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) {
			return nil, jetstream.ErrNoStreamResponse
		}
		return nil, err
	}
	return s.parsePubAck(resp.Data)
}

// replyInboxes are the reply subjects appends are published with: each a
// synchronous subscription that one append at a time takes from the pool,
// publishes with, reads its reply from, and gives back. The reply goes
// from the connection's reader straight to the waiting append. A request
// through nats.Conn.RequestMsg takes one more goroutine hand-off (its
// shared reply subscription runs a handler that passes the reply on by
// channel), and on a machine whose other core has gone idle while the
// command was decided and encoded, each hand-off can wait for a sleeping
// thread: measured here, 15-20 us of a 65-85 us round trip.
type replyInboxes struct {
	nc   *nats.Conn
	mu   sync.Mutex
	free []*replyInbox
}

type replyInbox struct {
	prefix string // <inbox>.; a request's reply subject adds its number
	sub    *nats.Subscription
	n      uint64 // requests sent through it
}

// request publishes msg with a reply subject of its own and waits for the
// reply until ctx is done or the deadline passes, as
// nats.Conn.RequestMsgWithContext does with a context that has the
// deadline: the same errors for no responders (the server's 503 status), a
// cancelled ctx, the deadline (context.DeadlineExceeded) and a closed
// connection.
func (r *replyInboxes) request(ctx context.Context, msg *nats.Msg, deadline time.Time) (*nats.Msg, error) {
	in, err := r.take()
	if err != nil {
		return nil, err
	}
	in.n++
	msg.Reply = in.prefix + strconv.FormatUint(in.n, 10)
	defer func() { msg.Reply = "" }()
	if err := r.nc.PublishMsg(msg); err != nil {
		r.give(in)
		return nil, err
	}
	for {
		resp, err := in.next(ctx, deadline)
		if errors.Is(err, nats.ErrNoResponders) {
			r.give(in) // the server's answer: the inbox is clean
			return nil, err
		}
		if err != nil {
			// The reply may still come: this inbox is not used again.
			_ = in.sub.Unsubscribe()
			return nil, err
		}
		if resp.Subject != msg.Reply {
			continue // a reply to an earlier request on this inbox: not ours
		}
		r.give(in)
		return resp, nil
	}
}

// next waits for the inbox's next message.
func (in *replyInbox) next(ctx context.Context, deadline time.Time) (*nats.Msg, error) {
	wait := time.Until(deadline)
	if wait <= 0 {
		return nil, context.DeadlineExceeded
	}
	if ctx.Done() == nil {
		// A context that is never cancelled: the subscription's own
		// (pooled) timer bounds the wait, which spares every append a
		// timeout context of its own.
		m, err := in.sub.NextMsg(wait)
		if errors.Is(err, nats.ErrTimeout) {
			return nil, context.DeadlineExceeded
		}
		return m, err
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	return in.sub.NextMsgWithContext(ctx)
}

func (r *replyInboxes) take() (*replyInbox, error) {
	r.mu.Lock()
	if n := len(r.free); n > 0 {
		in := r.free[n-1]
		r.free = r.free[:n-1]
		r.mu.Unlock()
		return in, nil
	}
	r.mu.Unlock()
	prefix := r.nc.NewInbox() + "."
	sub, err := r.nc.SubscribeSync(prefix + "*")
	if err != nil {
		return nil, err
	}
	return &replyInbox{prefix: prefix, sub: sub}, nil
}

func (r *replyInboxes) give(in *replyInbox) {
	r.mu.Lock()
	r.free = append(r.free, in)
	r.mu.Unlock()
}

// pubAckResponse is what jetstream decodes an acknowledgement into.
type pubAckResponse struct {
	Error *jetstream.APIError `json:"error,omitempty"`
	*jetstream.PubAck
}

// parsePubAck reads the server's reply to a publish. The server writes a
// plain acknowledgement as {"stream":"<name>","seq":<n>}; that form is
// read directly, everything else through encoding/json.
func (s *JetStream) parsePubAck(data []byte) (*jetstream.PubAck, error) {
	if seq, ok := plainPubAck(data, s.cfg.Stream); ok {
		return &jetstream.PubAck{Stream: s.cfg.Stream, Sequence: seq}, nil
	}
	var ack pubAckResponse
	if err := json.Unmarshal(data, &ack); err != nil {
		return nil, jetstream.ErrInvalidJSAck
	}
	if ack.Error != nil {
		return nil, fmt.Errorf("nats: %w", ack.Error)
	}
	if ack.PubAck == nil || ack.PubAck.Stream == "" {
		return nil, jetstream.ErrInvalidJSAck
	}
	return ack.PubAck, nil
}

// plainPubAck returns n when data is exactly {"stream":"<stream>","seq":n}
// with n a JSON integer that fits a uint64.
func plainPubAck(data []byte, stream string) (uint64, bool) {
	const head, mid = `{"stream":"`, `","seq":`
	rest, ok := bytes.CutPrefix(data, []byte(head))
	if !ok || len(stream) == 0 {
		return 0, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(stream)); !ok {
		return 0, false
	}
	if rest, ok = bytes.CutPrefix(rest, []byte(mid)); !ok {
		return 0, false
	}
	digits, ok := bytes.CutSuffix(rest, []byte("}"))
	if !ok || len(digits) == 0 || (digits[0] == '0' && len(digits) > 1) {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	seq, err := strconv.ParseUint(string(digits), 10, 64)
	return seq, err == nil
}
