package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
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

// change is one integration event on its way to a subscriber.
type change struct {
	seq   uint64
	event string
	data  []byte
}

// errBehind ends a subscriber's follower when its buffer is full.
var errBehind = errors.New("subscriber fell behind")

// streamChanges serves the integration events as server-sent events: the
// API's change notifications for dashboards. Each event's id is its
// sequence in the change stream, so a browser's automatic reconnect
// (Last-Event-ID) resumes exactly where it broke off.
//
// A subscriber costs the server a bounded amount whatever the client does.
// Each has its own ordered consumer, read by a follower goroutine into a
// buffer of its own; the follower never touches the response. Only this
// handler writes, each write under a deadline, so a client that stops
// reading blocks nobody else: its writes time out and the stream ends. A
// client that reads, but more slowly than changes arrive, keeps its buffer
// full; once it has stayed full for BehindAfter the follower stops, and the
// handler sends what is buffered and a last "behind" event whose id is the
// last change sent, so a reconnect resumes from there. A client catching up
// on a backlog drains its buffer as fast as it fills and is never cut.
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
	stop, release, rc, err := s.startEventStream(w, r)
	if err != nil {
		return err
	}
	defer release()
	lim := s.cfg.Streams
	send := func(text string) error {
		// The deadline bounds how long one stalled client can hold this
		// handler; it also lifts the server's whole-response WriteTimeout,
		// which would otherwise end every stream after a few minutes.
		_ = rc.SetWriteDeadline(time.Now().Add(lim.WriteTimeout))
		if _, err := io.WriteString(w, text); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := send(": kpitrail change notifications\n\n"); err != nil {
		return nil
	}

	ctx, cancel := context.WithCancel(r.Context())
	buffer := make(chan change, lim.Buffer)
	followed := make(chan error, 1)
	// The caller's read scope is applied by the follower, before a change
	// takes a place in the buffer: a change it may not read costs no write.
	readable := s.changeFilter(r)
	go func() {
		var patience *time.Timer
		followed <- s.cfg.Changes.Follow(ctx, after, follow, func(seq uint64, subject string, data []byte) error {
			if ok, err := readable(ctx, taskOf(subject), data); err != nil || !ok {
				return err
			}
			c := change{seq: seq, event: eventName(subject), data: data}
			select {
			case buffer <- c:
				return nil
			default:
			}
			if patience == nil {
				patience = time.NewTimer(lim.BehindAfter)
			} else {
				patience.Reset(lim.BehindAfter)
			}
			defer patience.Stop()
			select {
			case buffer <- c:
				return nil
			case <-patience.C:
				return errBehind
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var followErr error
	finished := false
	defer func() {
		cancel()
		if !finished {
			<-followed
		}
	}()

	last := after
	write := func(c change) error {
		if err := send(fmt.Sprintf("id: %d\nevent: %s\ndata: %s\n\n", c.seq, c.event, c.data)); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				s.streamsCut.WithLabelValues("write_timeout").Inc()
			}
			return err
		}
		last = c.seq
		return nil
	}
	keepAlive := time.NewTicker(lim.KeepAlive)
	defer keepAlive.Stop()
	for {
		select {
		case c := <-buffer:
			if write(c) != nil {
				return nil
			}
		case <-keepAlive.C:
			// A comment now and then keeps proxies from closing an idle
			// stream, and finds a client that has gone.
			if send(": keep-alive\n\n") != nil {
				return nil
			}
		case <-stop:
			return nil // the server is shutting down
		case <-ctx.Done():
			return nil
		case followErr = <-followed:
			finished = true
			for drained := false; !drained; {
				select {
				case c := <-buffer:
					if write(c) != nil {
						return nil
					}
				default:
					drained = true
				}
			}
			switch {
			case errors.Is(followErr, errBehind):
				s.streamsCut.WithLabelValues("behind").Inc()
				_ = send(fmt.Sprintf("id: %d\nevent: behind\ndata: {\"resume_after\":%d,\"detail\":\"this client read more slowly than changes arrived; reconnect with Last-Event-ID: %d\"}\n\n",
					last, last, last))
			case followErr != nil && ctx.Err() == nil:
				s.log.Error("change stream ended", "err", followErr)
			}
			return nil
		}
	}
}

// eventName is the integration event type a change subject carries
// (kpitrail.changes.<type>.<task>).
func eventName(subject string) string {
	parts := strings.Split(strings.TrimPrefix(subject, "kpitrail.changes."), ".")
	if len(parts) < 2 {
		return strings.Join(parts, ".")
	}
	return parts[0] + "." + parts[1]
}

// taskOf is the task a change subject names (its last token).
func taskOf(subject string) string {
	return subject[strings.LastIndexByte(subject, '.')+1:]
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
