// Package console is kpitrail's web console: server-rendered pages for the
// assessment office, department reporters, auditors and year-end reviewers,
// served by `kpitrail serve` on the API's port under /console/.
//
// It owns no rule and no query of its own. Pages read the read models
// through the same projections calls the API makes (the same function,
// so the same numbers) and show a reporter only what the API's read scope
// lets it read (httpapi.Visibility and friends, the API's own functions),
// writes go through the command service with the
// signed-in token's principal (so the same authorization matrix and the
// same audit stamp, with source "console"), and the actions a page offers
// are the ones auth.Permits allows. What the console adds is presentation:
// html/template pages (one per view, one shared layout), charts drawn as
// SVG on the server, sessions and CSRF.
//
// Everything it serves is embedded in the binary and comes from its own
// origin: no CDN, no web font, no framework; a Content-Security-Policy
// that allows nothing else is set on every response. Charts are SVG made
// here rather than by a JavaScript library because a page must render,
// print and be read by a screen reader on an intranet with no network and
// with scripts blocked; the one small script only echoes a chart point's
// value where keyboard focus or the pointer is.
package console

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"kpitrail/app"
	"kpitrail/audit"
	"kpitrail/auth"
	"kpitrail/httpapi"
	"kpitrail/jobs"
	"kpitrail/projections"
	"kpitrail/signing"
)

// ReadModels gives the live read models, or the read models as known at
// a past record time (projections.Live).
type ReadModels interface {
	With(ctx context.Context, asOf *time.Time, fn func(*projections.DB) error) error
}

// Waiter blocks until the read models include a position, so a page
// shown after a write includes it.
type Waiter interface {
	Wait(ctx context.Context, position uint64) error
}

// Config wires the console to the rest of the system; cmd/kpitrail fills
// it with the same parts the API gets.
type Config struct {
	Service  *app.Service
	Tokens   *auth.Tokens
	Sessions *auth.Sessions
	Reads    ReadModels
	Waiter   Waiter
	// Events reads the raw log (the event page).
	Events httpapi.EventReader
	// Chains reads one aggregate's messages for its chain verification,
	// which judges every signature against Keyring (the keys the API's
	// audit verify trusts); without both the audit page shows no check.
	Chains  audit.AggregateReader
	Keyring *signing.Keyring
	// Imports and Exports are the API's own; nil hides the pages.
	Imports httpapi.Imports
	Exports httpapi.Exports
	// Jobs is the API's job manager: an import applied here runs as a
	// job in it. Nil: the import runs within the request.
	Jobs *jobs.Manager
	// ReportersReadAll lets reporters read every department's tasks (serve
	// --reporter-reads all); otherwise a reporter's pages show only the
	// tasks its departments lead or co-own, as the API's reads do.
	ReportersReadAll bool
	// Limiter is the API's per-token rate limit, shared: a token's console
	// requests and API requests draw on one budget. Nil: no limit.
	Limiter *httpapi.RateLimiter
	// Location is the calendar times are shown and typed in. Default
	// China Standard Time.
	Location *time.Location
	Logger   *slog.Logger
}

// Console serves the pages.
type Console struct {
	cfg   Config
	mux   *http.ServeMux
	log   *slog.Logger
	pages *pages
	stash *stash
}

// New builds the console; it panics only on a template that does not
// parse, which the tests catch.
func New(cfg Config) *Console {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Location == nil {
		cfg.Location = projections.DefaultLocation
	}
	c := &Console{cfg: cfg, mux: http.NewServeMux(), log: cfg.Logger, pages: mustParsePages(), stash: newStash()}
	c.routes()
	return c
}

// ServeHTTP serves /console/... (and nothing else: cmd sends it only
// those paths and GET /).
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w.Header())
	c.mux.ServeHTTP(w, r)
}
