package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// directBatchSize is how many messages one batched direct get returns.
const directBatchSize = 256

// subjectMessages reads every message on subject from sequence from on,
// with batched direct gets: one request returns up to directBatchSize
// messages, so a cold load of an aggregate costs one round trip instead of
// one per message (or the creation of a consumer). nats.go has no API for
// batched direct get, so the request is made by hand: a JSON body on
// $JS.API.DIRECT.GET.<stream>, replies on an inbox, ended by a 204 (end of
// batch, with the count still pending) or a 404 (nothing more).
func (s *JetStream) subjectMessages(ctx context.Context, subject string, from uint64, fn func(*jetstream.RawStreamMsg)) error {
	nc := s.js.Conn()
	req, _ := json.Marshal(map[string]any{"seq": from, "next_by_subj": subject, "batch": directBatchSize})
	inbox := nc.NewRespInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	api := "$JS.API.DIRECT.GET." + s.cfg.Stream
	var noResponderSince time.Time
	for {
		if err := nc.PublishRequest(api, inbox, req); err != nil {
			return err
		}
		var last uint64
		for {
			m, err := sub.NextMsgWithContext(ctx)
			if errors.Is(err, nats.ErrNoResponders) && last == 0 {
				// No server serves the stream's direct gets at this moment
				// (the server's 503, which nats.go answers as this error;
				// see retryNoResponders): the same request again, shortly.
				if noResponderSince.IsZero() {
					noResponderSince = time.Now()
				}
				if pauseForResponder(ctx, noResponderSince.Add(s.cfg.Timeout)) != nil {
					return fmt.Errorf("direct get %s: %w", subject, err)
				}
				break
			}
			if err != nil {
				return fmt.Errorf("direct get %s: %w", subject, err)
			}
			if len(m.Data) == 0 && m.Header.Get("Status") != "" {
				switch m.Header.Get("Status") {
				case "404":
					return nil
				case "204":
					pending, _ := strconv.ParseUint(m.Header.Get("Nats-Num-Pending"), 10, 64)
					if pending == 0 || last == 0 {
						return nil
					}
					req, _ = json.Marshal(map[string]any{"seq": last + 1, "next_by_subj": subject, "batch": directBatchSize})
				default:
					return fmt.Errorf("direct get %s: %s %s", subject, m.Header.Get("Status"), m.Header.Get("Description"))
				}
				break
			}
			seq, err := strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64)
			if err != nil {
				return fmt.Errorf("direct get %s: bad sequence header: %w", subject, err)
			}
			last = seq
			fn(&jetstream.RawStreamMsg{Subject: m.Header.Get(jetstream.SubjectHeader), Sequence: seq, Header: m.Header, Data: m.Data})
		}
	}
}
