package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"kpitrail/domain"
	"kpitrail/eventstore"
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
	found := false
	err = c.cfg.Events.Read(r.Context(), pos-1, eventstore.ReadOptions{Limit: 1}, func(m eventstore.Message) error {
		if m.Position != pos {
			return errStopRead
		}
		found, p.Subject = true, m.Subject
		if m.Err != nil {
			p.Err = m.Err.Error()
		}
		for _, e := range m.Events {
			// An as-of page shows nothing recorded after its instant.
			if v.AsOf != nil && e.RecordedAt.After(*v.AsOf) {
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
		return nil
	})
	if err != nil && !errors.Is(err, errStopRead) {
		return err
	}
	if !found {
		return domain.NotFound("the log has no message at position %d", pos)
	}
	return c.render(w, v, http.StatusOK, "event", "事件 #"+strconv.FormatUint(pos, 10), p)
}
