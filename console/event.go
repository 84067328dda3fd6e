package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/projections"
)

// The raw event page: one message of the log at its position, every
// envelope field as stored (the content a hash covers, its previous hash
// and its own), so an auditor can check an audit-trail row against the
// log itself.

type eventPage struct {
	Position uint64
	Subject  string
	Last     uint64
	Events   []eventView
	Err      string
	// KeyID is the key that signed the message ("" for unsigned history
	// the keyring adopted); Foreign is the store's verdict when the
	// message is not kpitrail's (its signature does not verify).
	KeyID   string
	Foreign string
}

type eventView struct {
	domain.Envelope
	Payload string // indented JSON
	// HashOK is whether the stored hash is the hash of the content.
	HashOK bool
}

var errStopRead = errors.New("stop")

func (c *Console) event(w http.ResponseWriter, r *http.Request, v *view) error {
	pos, err := strconv.ParseUint(r.PathValue("position"), 10, 64)
	if err != nil || pos == 0 {
		return domain.Invalid("position", "uint", "a log position is a positive integer, got %q", r.PathValue("position"))
	}
	p := eventPage{Position: pos}
	if p.Last, err = c.cfg.Events.LastPosition(r.Context()); err != nil {
		return err
	}
	if pos > p.Last {
		return domain.NotFound("position %d is past the end of the log (%d)", pos, p.Last)
	}
	var msg *eventstore.Message
	err = c.cfg.Events.Read(r.Context(), pos-1, eventstore.ReadOptions{Limit: 1}, func(m eventstore.Message) error {
		if m.Position != pos {
			return errStopRead
		}
		msg = &m
		return nil
	})
	if err != nil && !errors.Is(err, errStopRead) {
		return err
	}
	if msg == nil {
		return noMessage(pos)
	}
	visible, err := c.visibleEvents(r.Context(), v, *msg)
	if err != nil {
		return err
	}
	p.Subject, p.KeyID = msg.Subject, msg.KeyID
	if msg.Err != nil {
		p.Err = msg.Err.Error()
	}
	if msg.Foreign != nil {
		p.Foreign = msg.Foreign.Error()
	}
	for i, e := range msg.Events {
		// An as-of page shows nothing recorded after its instant.
		if !visible[i] || (v.AsOf != nil && e.RecordedAt.After(*v.AsOf)) {
			continue
		}
		var pretty bytes.Buffer
		if json.Indent(&pretty, e.Payload, "", "  ") != nil {
			pretty.Reset()
			pretty.Write(e.Payload)
		}
		h, herr := e.ComputeHash()
		p.Events = append(p.Events, eventView{Envelope: e, Payload: pretty.String(), HashOK: herr == nil && h == e.Hash})
	}
	return c.render(w, v, http.StatusOK, "event", "事件 #"+strconv.FormatUint(pos, 10), p)
}

func noMessage(pos uint64) error {
	return domain.NotFound("the log has no message at position %d", pos)
}

// visibleEvents says which of a message's events the reader may see, by
// the API's read scope: a reporter sees the events of its departments'
// tasks and their indicators, and a message with none of those (or one
// that is not kpitrail's) answers exactly as a position with no message.
// Which task an event concerns is known from the read models, so they are
// given a moment to reach the message first.
func (c *Console) visibleEvents(ctx context.Context, v *view, m eventstore.Message) ([]bool, error) {
	out := make([]bool, len(m.Events))
	vis := v.visibility()
	if vis.All() {
		for i := range out {
			out[i] = true
		}
		return out, nil
	}
	if m.Err != nil || m.Foreign != nil {
		return nil, noMessage(m.Position)
	}
	if c.cfg.Waiter != nil {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_ = c.cfg.Waiter.Wait(wctx, m.Position)
		cancel()
	}
	seen := false
	err := c.cfg.Reads.With(ctx, nil, func(db *projections.DB) error {
		for i, e := range m.Events {
			ok, err := vis.Event(ctx, db, e)
			if err != nil {
				return err
			}
			out[i], seen = ok, seen || ok
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !seen {
		return nil, noMessage(m.Position)
	}
	return out, nil
}
