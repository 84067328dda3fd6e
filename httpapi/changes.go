package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kpitrail/domain"
	"kpitrail/projections"
)

// Changes follows the downstream feed's integration events.
type Changes interface {
	// Follow calls fn for every integration event after stream sequence
	// after, until ctx ends, or (follow false) until the stream's end.
	Follow(ctx context.Context, after uint64, follow bool, fn func(seq uint64, subject string, data []byte) error) error
}

// streamChanges serves the integration events as server-sent events: the
// API's change notifications for dashboards. Each event's id is its
// sequence in the change stream, so a browser's automatic reconnect
// (Last-Event-ID) resumes exactly where it broke off.
func (s *Server) streamChanges(w http.ResponseWriter, r *http.Request) error {
	after, err := uintParam(r.URL.Query().Get("after"), 0, "after")
	if err != nil {
		return err
	}
	follow := true
	if v := r.URL.Query().Get("follow"); v != "" {
		if follow, err = strconv.ParseBool(v); err != nil {
			return domain.Invalid("follow", "bool", "must be true or false, got %q", v)
		}
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		if after, err = uintParam(id, 0, "Last-Event-ID"); err != nil {
			return err
		}
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		return fmt.Errorf("streaming unsupported")
	}
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": kpitrail change notifications\n\n")
	flusher.Flush()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	// A comment now and then keeps proxies from closing an idle stream.
	go func() {
		t := time.NewTicker(15 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				s.sseMu.Lock()
				fmt.Fprint(w, ": keep-alive\n\n")
				flusher.Flush()
				s.sseMu.Unlock()
			}
		}
	}()
	readable := s.changeFilter(r)
	err = s.cfg.Changes.Follow(ctx, after, follow, func(seq uint64, subject string, data []byte) error {
		tokens := strings.Split(strings.TrimPrefix(subject, "kpitrail.changes."), ".")
		event := strings.Join(tokens[:2], ".")
		if ok, err := readable(ctx, tokens[len(tokens)-1], data); err != nil || !ok {
			return err
		}
		s.sseMu.Lock()
		defer s.sseMu.Unlock()
		if _, err := fmt.Fprintf(w, "id: %s\nevent: %s\ndata: %s\n\n", strconv.FormatUint(seq, 10), event, data); err != nil {
			return err
		}
		flusher.Flush()
		return nil
	})
	if err != nil && ctx.Err() == nil {
		s.log.Error("change stream ended", "err", err)
	}
	return nil
}

// changeFilter says whether the caller may read a change about a task. A
// change can reach the stream before the read models hold its task (both
// follow the log on their own), so an unknown task is asked about again
// once the read models have reached the change's log position.
func (s *Server) changeFilter(r *http.Request) func(ctx context.Context, taskID string, data []byte) (bool, error) {
	v := NewVisibility(s.scope(r))
	if v.All() {
		return func(context.Context, string, []byte) (bool, error) { return true, nil }
	}
	ask := func(ctx context.Context, taskID string) (ok, known bool, err error) {
		err = s.cfg.Reads.With(ctx, nil, func(db *projections.DB) error {
			ok, known, err = v.taskKnown(ctx, db, taskID)
			return err
		})
		return ok, known, err
	}
	return func(ctx context.Context, taskID string, data []byte) (bool, error) {
		ok, known, err := ask(ctx, taskID)
		if err != nil || known {
			return ok, err
		}
		var change struct {
			Position uint64 `json:"position"`
		}
		if json.Unmarshal(data, &change) != nil || change.Position == 0 || s.cfg.Waiter == nil {
			return false, nil
		}
		wctx, cancel := context.WithTimeout(ctx, s.cfg.WaitTimeout)
		defer cancel()
		if err := s.cfg.Waiter.Wait(wctx, change.Position); err != nil {
			return false, ctx.Err()
		}
		ok, _, err = ask(ctx, taskID)
		return ok, err
	}
}
