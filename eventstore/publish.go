package eventstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// publish sends msg to the stream and waits for the server's
// acknowledgement, as jetstream's PublishMsg does (the same request, the
// same retries while no server answers, the same errors), but reads the
// usual acknowledgement without encoding/json: that decode cost an append
// a few microseconds of the client's CPU, on the path of every command.
// Anything but a plain acknowledgement of this stream (an error, a
// duplicate, a domain) is decoded in full, as jetstream decodes it.
func (s *JetStream) publish(ctx context.Context, msg *nats.Msg) (*jetstream.PubAck, error) {
	nc := s.js.Conn()
	resp, err := nc.RequestMsgWithContext(ctx, msg)
	for r := 0; errors.Is(err, nats.ErrNoResponders) && r < jetstream.DefaultPubRetryAttempts; r++ {
		// No server took it (a leader election, a restart): try again
		// shortly, as jetstream does.
		select {
		case <-ctx.Done():
		case <-time.After(jetstream.DefaultPubRetryWait):
		}
		resp, err = nc.RequestMsgWithContext(ctx, msg)
	}
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) {
			return nil, jetstream.ErrNoStreamResponse
		}
		return nil, err
	}
	return s.parsePubAck(resp.Data)
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
