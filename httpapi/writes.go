package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"

	"kpitrail/app"
	"kpitrail/auth"
	"kpitrail/domain"
)

// WriteResponse is the body of every successful write.
type WriteResponse struct {
	Aggregate domain.AggregateRef `json:"aggregate"`
	Version   uint64              `json:"version"`
	Position  uint64              `json:"position"`
	EventIDs  []string            `json:"event_ids"`
	Events    []EventSummary      `json:"events"`
	// Created names what the write created by its id field (task_id,
	// indicator_id, problem_id), whether the request or the server named it.
	Created map[string]string `json:"created,omitempty"`
	// Visible is true when the read models already include this write
	// (always after ?wait=true unless the wait timed out).
	Visible bool `json:"visible"`
}

type EventSummary struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	AggregateVersion uint64 `json:"aggregate_version"`
}

// command builds a domain command from the decoded body and the request's
// path values, refusing a body that names another aggregate than the path.
type command[C domain.Command] func(r *http.Request, c *C) error

// writeRoute decodes the body into C, fills it from the path, and runs it.
func writeRoute[C domain.Command](s *Server, status int, fill command[C]) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		var c C
		if err := decodeBody(r, &c); err != nil {
			return err
		}
		if err := fill(r, &c); err != nil {
			return err
		}
		return s.execute(w, r, c, status)
	}
}

// pathID puts a path value into a body field, refusing a different value.
func pathID(r *http.Request, name string, field *string, jsonName string) error {
	v := r.PathValue(name)
	if *field != "" && *field != v {
		return domain.Invalid(jsonName, "matches_path", "body says %q, the path says %q", *field, v)
	}
	*field = v
	return nil
}

// newID returns the id for a resource the server names. With an
// Idempotency-Key it is derived from the key, so a retry addresses the same
// aggregate and meets its own earlier result.
func newID(r *http.Request, prefix string) string {
	p, _ := auth.FromContext(r.Context())
	if key := r.Header.Get("Idempotency-Key"); key != "" {
		sum := sha256.Sum256([]byte(p.TokenID + "\x00" + prefix + "\x00" + key))
		return prefix + hex.EncodeToString(sum[:8])
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func (s *Server) execute(w http.ResponseWriter, r *http.Request, cmd domain.Command, status int) error {
	p, _ := auth.FromContext(r.Context())
	meta, err := requestMeta(r, p)
	if err != nil {
		return err
	}
	var opts app.Options
	if r.Header.Get("Idempotency-Key") != "" {
		opts.Request = app.RequestDigest(r.Method, r.URL.Path, cmd)
	}
	if im := r.Header.Get("If-Match"); im != "" {
		if opts.ExpectedVersion, err = app.ParseExpectedVersion("If-Match", im); err != nil {
			return err
		}
	}
	res, err := s.cfg.Service.Execute(r.Context(), meta, cmd, opts)
	if err != nil {
		return err
	}
	out := WriteResponse{Aggregate: res.Aggregate, Version: res.Version, Position: res.Position, EventIDs: res.EventIDs,
		Created: app.Created(cmd)}
	for _, e := range res.Events {
		out.Events = append(out.Events, EventSummary{ID: e.ID, Name: e.Name, AggregateVersion: e.AggregateVersion})
	}
	wait := false
	if v := r.URL.Query().Get("wait"); v != "" {
		var err error
		if wait, err = strconv.ParseBool(v); err != nil {
			return domain.Invalid("wait", "bool", "must be true or false, got %q", v)
		}
	}
	if wait && s.cfg.Waiter != nil {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.WaitTimeout)
		out.Visible = s.cfg.Waiter.Wait(ctx, res.Position) == nil
		cancel()
	}
	w.Header().Set("ETag", etag(res.Version))
	writeJSON(w, status, out)
	return nil
}

// requestMeta stamps who and why from the authenticated caller and the
// headers; nothing in the body can set the actor.
func requestMeta(r *http.Request, p auth.Principal) (domain.Meta, error) {
	key := r.Header.Get("Idempotency-Key")
	if len(key) > 100 {
		return domain.Meta{}, domain.Invalid("Idempotency-Key", "max_length", "at most 100 characters")
	}
	if key == "" {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		key = "auto-" + hex.EncodeToString(b)
	}
	corr := r.Header.Get("X-Correlation-Id")
	if len(corr) > 100 {
		return domain.Meta{}, domain.Invalid("X-Correlation-Id", "max_length", "at most 100 characters")
	}
	// Keys are scoped to the token: two clients choosing the same key never
	// see each other's results.
	return domain.Meta{Actor: p.Actor(), ActorTokenID: p.TokenID, CommandID: p.TokenID + "/" + key, CorrelationID: corr, Source: "api"}, nil
}

func etag(v uint64) string { return `"` + strconv.FormatUint(v, 10) + `"` }
