package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/internal/problem"
	"kpitrail/jobs"
)

// A client asks for a long operation to run as a job with this header
// (RFC 7240): the answer is 202 with the job's record and a Location.
func wantsJob(r *http.Request) bool {
	for _, v := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "respond-async") {
				return true
			}
		}
	}
	return false
}

// jobView is a job's record as the API shows it: the failure as the same
// problem document every other error is.
type jobView struct {
	jobs.Snapshot
	Problem *problem.Problem  `json:"problem,omitempty"`
	Links   map[string]string `json:"links"`
}

func viewJob(s jobs.Snapshot) jobView {
	v := jobView{Snapshot: s, Links: map[string]string{"self": "/v1/jobs/" + s.ID, "events": "/v1/jobs/" + s.ID + "/events"}}
	if !s.State.Finished() {
		v.Links["cancel"] = "/v1/jobs/" + s.ID + "/cancel"
	}
	if s.Err != nil {
		p := problem.From(s.Err, "/v1/jobs/"+s.ID)
		v.Problem = &p
	}
	return v
}

// startJob runs fn as a job of the caller's, with the request's reason.
// The reason is the operator's why, recorded with the job.
func (s *Server) startJob(w http.ResponseWriter, r *http.Request, kind string, fn jobs.Func) error {
	p, _ := authPrincipal(r)
	snap, err := StartJob(s.cfg.Jobs, s.log, p, kind, r.URL.Query().Get("reason"), fn)
	if err != nil {
		if domain.ErrorCode(err) == domain.ETOOMANY {
			w.Header().Set("Retry-After", "10")
		}
		return err
	}
	w.Header().Set("Location", "/v1/jobs/"+snap.ID)
	writeJSON(w, http.StatusAccepted, viewJob(snap))
	return nil
}

// StartJob queues fn as a job of p's with its reason (checked as every
// free text is), and logs who started it and why. The API and the console
// start their jobs here, so both meet the same budget and leave the same
// record.
func StartJob(m *jobs.Manager, log *slog.Logger, p auth.Principal, kind, reason string, fn jobs.Func) (jobs.Snapshot, error) {
	if m == nil {
		return jobs.Snapshot{}, &domain.Error{Code: domain.EUNAVAILABLE, Rule: "jobs", Message: "this server runs no jobs"}
	}
	if err := domain.CheckText("reason", reason, false, domain.MaxLongText); err != nil {
		return jobs.Snapshot{}, err
	}
	snap, err := m.Start(jobs.Owner{Actor: p.Actor(), TokenID: p.TokenID, Role: string(p.Role)}, kind, reason, fn)
	if err != nil {
		return jobs.Snapshot{}, err
	}
	log.Info("job started", "job", snap.ID, "kind", kind, "actor", snap.StartedBy.Actor, "token_id", snap.StartedBy.TokenID, "reason", reason)
	return snap, nil
}

// MayWatchJob says whether p may see (and cancel) a job: its own, or any
// for the office and admins. Both the API and the console ask it.
func MayWatchJob(p auth.Principal, s jobs.Snapshot) bool { return mayWatch(p, s) }

// mayWatch says whether the caller may see a job: its own, or any for the
// office and admins.
func mayWatch(p auth.Principal, s jobs.Snapshot) bool {
	return p.Role == auth.RoleAdmin || p.Role == auth.RoleOffice || s.StartedBy.TokenID == p.TokenID
}

func (s *Server) job(r *http.Request) (jobs.Snapshot, error) {
	p, _ := authPrincipal(r)
	if s.cfg.Jobs != nil {
		if snap, ok := s.cfg.Jobs.Get(r.PathValue("id")); ok && mayWatch(p, snap) {
			return snap, nil
		}
	}
	// Someone else's job is not found either: its id tells nothing.
	return jobs.Snapshot{}, domain.NotFound("job %s", r.PathValue("id"))
}

func (s *Server) jobRoutes() {
	s.handle("GET /v1/jobs", "read", func(w http.ResponseWriter, r *http.Request) error {
		p, _ := authPrincipal(r)
		state := r.URL.Query().Get("state")
		list := []jobView{}
		if s.cfg.Jobs != nil {
			for _, snap := range s.cfg.Jobs.List(func(j jobs.Snapshot) bool {
				return mayWatch(p, j) && (state == "" || string(j.State) == state)
			}) {
				list = append(list, viewJob(snap))
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"jobs": list})
		return nil
	})
	s.handle("GET /v1/jobs/{id}", "read", func(w http.ResponseWriter, r *http.Request) error {
		snap, err := s.job(r)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, viewJob(snap))
		return nil
	})
	s.handle("POST /v1/jobs/{id}/cancel", "read", func(w http.ResponseWriter, r *http.Request) error {
		snap, err := s.job(r)
		if err != nil {
			return err
		}
		if !snap.State.Finished() {
			snap, _ = s.cfg.Jobs.Cancel(snap.ID)
			p, _ := authPrincipal(r)
			s.log.Info("job cancel requested", "job", snap.ID, "actor", p.Actor(), "token_id", p.TokenID)
		}
		// 202: a running job stops at its next safe point; follow the
		// record (or its events) to see it cancelled.
		writeJSON(w, http.StatusAccepted, viewJob(snap))
		return nil
	})
	s.handle("GET /v1/jobs/{id}/events", "read", s.streamJob)
}

// jobEventGap is the least time between two progress events of one
// stream: a job may report thousands of steps a second, a person reads a
// few.
const jobEventGap = 250 * time.Millisecond

// streamJob sends a job's record as server-sent events, each time it
// changes (at most every jobEventGap): "job" while it runs, then one "end"
// with the final state (without the result and the problem's details,
// which GET /v1/jobs/{id} has), and the stream closes. A stream counts against
// the same per-token and total caps, write deadline and keep-alive as the
// change streams; a watcher holds one wake-up, never a queue, so a slow
// client costs the same as a fast one and sees the latest record.
func (s *Server) streamJob(w http.ResponseWriter, r *http.Request) error {
	snap, err := s.job(r)
	if err != nil {
		return err
	}
	wake, unwatch, ok := s.cfg.Jobs.Watch(snap.ID)
	if !ok {
		return domain.NotFound("job %s", snap.ID)
	}
	defer unwatch()
	stop, release, rc, err := s.startEventStream(w, r)
	if err != nil {
		return err
	}
	defer release()
	lim := s.cfg.Streams
	send := func(event string, s jobs.Snapshot) error {
		// The result and the problem's details (an import's report: a line
		// per command) can be megabytes; the stream says how the job
		// ended, and GET /v1/jobs/{id} has the rest.
		v := viewJob(s)
		v.Result = nil
		if v.Problem != nil {
			p := *v.Problem
			p.Details = nil
			v.Problem = &p
		}
		b, _ := json.Marshal(v)
		_ = rc.SetWriteDeadline(time.Now().Add(lim.WriteTimeout))
		if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", s.Version, event, b); err != nil {
			return err
		}
		return rc.Flush()
	}
	keepAlive := time.NewTicker(lim.KeepAlive)
	defer keepAlive.Stop()
	ctx := r.Context()
	var sent uint64
	for {
		cur, ok := s.cfg.Jobs.Get(snap.ID)
		if !ok {
			return nil // forgotten (retention) while watched
		}
		if cur.State.Finished() {
			_ = send("end", cur)
			return nil
		}
		if cur.Version != sent {
			if send("job", cur) != nil {
				return nil
			}
			sent = cur.Version
		}
		if !pause(ctx, stop, jobEventGap) {
			return nil
		}
		select {
		case <-wake:
		case <-keepAlive.C:
			_ = rc.SetWriteDeadline(time.Now().Add(lim.WriteTimeout))
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return nil
			}
		case <-stop:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// pause waits d unless the request or the server ends first.
func pause(ctx context.Context, stop <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
	case <-ctx.Done():
	}
	return false
}
