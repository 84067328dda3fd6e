package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/projections"
)

// EventReader reads the raw log for downstream consumers.
type EventReader interface {
	Read(ctx context.Context, after uint64, opts eventstore.ReadOptions, fn func(eventstore.Message) error) error
	LastPosition(ctx context.Context) (uint64, error)
}

type eventsPage struct {
	Events []domain.Envelope `json:"events"`
	// Next is the position to pass as ?after= for the next page.
	Next uint64 `json:"next"`
	// Last is the log's last position when the page was read.
	Last uint64 `json:"last"`
}

// listEvents pages through the raw log by position. A damaged or foreign
// message is skipped here (it is listed under /v1/admin/dead-letters) but
// its position still advances Next, so a consumer never loops on it.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	after, err := uintParam(q.Get("after"), 0, "after")
	if err != nil {
		return err
	}
	limit, err := uintParam(q.Get("limit"), 100, "limit")
	if err != nil {
		return err
	}
	if limit < 1 || limit > 1000 {
		return domain.Invalid("limit", "range", "must be 1..1000, got %d", limit)
	}
	last, err := s.cfg.Events.LastPosition(r.Context())
	if err != nil {
		return err
	}
	asOf, err := asOfParam(r)
	if err != nil {
		return err
	}
	if asOf != nil {
		w.Header().Set("Kpitrail-As-Of", asOf.UTC().Format(time.RFC3339Nano))
	}
	page := eventsPage{Events: []domain.Envelope{}, Next: after, Last: last}
	var msgs []eventstore.Message
	if after < last {
		err = s.cfg.Events.Read(r.Context(), after, eventstore.ReadOptions{Limit: int(limit)}, func(m eventstore.Message) error {
			msgs = append(msgs, m)
			return nil
		})
		if err != nil {
			return err
		}
	}
	// hidden is keyed by where an event is, not by its id: a foreign
	// message can repeat another event's id.
	type at struct {
		pos uint64
		idx int
	}
	var hidden map[at]bool
	if v := NewVisibility(s.scope(r)); !v.All() {
		// Which task an event concerns is known from the read models, so a
		// scoped page stops where they stand: an event past them is left
		// for the next page rather than judged unreadable and skipped.
		hidden = map[at]bool{}
		err = s.cfg.Reads.With(r.Context(), nil, func(db *projections.DB) error {
			cp, err := db.Checkpoint(r.Context())
			if err != nil {
				return err
			}
			for i, m := range msgs {
				if m.Position > cp.Position {
					msgs = msgs[:i]
					break
				}
			}
			for _, m := range msgs {
				if m.Foreign != nil {
					continue
				}
				for _, e := range m.Events {
					ok, err := v.Event(r.Context(), db, e)
					if err != nil {
						return err
					}
					hidden[at{m.Position, e.Index}] = !ok
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, m := range msgs {
		page.Next = m.Position
		if m.Foreign != nil {
			continue // not kpitrail's: a dead letter, never an event
		}
		for _, e := range m.Events {
			// as_of keeps only what was recorded by then.
			if (asOf == nil || !e.RecordedAt.After(*asOf)) && !hidden[at{m.Position, e.Index}] {
				page.Events = append(page.Events, e)
			}
		}
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func uintParam(v string, def uint64, name string) (uint64, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, domain.Invalid(name, "uint", "must be a non-negative integer, got %q", v)
	}
	return n, nil
}
