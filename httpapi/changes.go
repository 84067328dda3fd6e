package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kpitrail/domain"
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
	err = s.cfg.Changes.Follow(ctx, after, follow, func(seq uint64, subject string, data []byte) error {
		event := strings.Join(strings.Split(strings.TrimPrefix(subject, "kpitrail.changes."), ".")[:2], ".")
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
