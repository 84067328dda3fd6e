// Package httpapi is kpitrail's HTTP JSON API under /v1.
package httpapi

import (
	"context"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kpitrail/app"
	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/jobs"
	"kpitrail/metrics"
)

// Waiter blocks until the read models include a position (read-your-writes).
type Waiter interface {
	Wait(ctx context.Context, position uint64) error
}

// Config wires the API to the rest of the system.
type Config struct {
	Service *app.Service
	Tokens  *auth.Tokens
	Reads   ReadModels
	Events  EventReader
	Audit   Audit
	Admin   Admin
	Imports Imports
	Exports Exports
	// Jobs runs the long operations a client asks to run as jobs (Prefer:
	// respond-async) and keeps their records (/v1/jobs).
	Jobs    *jobs.Manager
	Changes Changes
	Waiter  Waiter
	Metrics *metrics.Registry
	// AsyncAPI is the document of the NATS side, served at
	// /v1/asyncapi.json (package asyncapi builds it).
	AsyncAPI []byte
	Logger   *slog.Logger
	// Ready reports whether the read models have caught up (for /readyz).
	Ready func() bool
	// Fault, when it returns an error, makes /readyz fail naming it: the
	// event stream failed its guard and writes are refused.
	Fault func() error
	// RatePerSecond and Burst limit requests per token; 0 disables.
	RatePerSecond float64
	Burst         int
	// Limiter, when set, is the limit itself, shared with the console;
	// RatePerSecond and Burst then go unused.
	Limiter *RateLimiter
	// WaitTimeout bounds ?wait=true. Default 10 s.
	WaitTimeout time.Duration
	// ReportersReadAll lets reporters read every department's tasks (serve
	// --reporter-reads all); otherwise they read their own (scope.go).
	ReportersReadAll bool
	// Streams bound GET /v1/changes.
	Streams StreamLimits
	// ImportMaxBytes bounds an uploaded file. Default MaxImportBytes.
	ImportMaxBytes int64
}

// Server serves the API.
type Server struct {
	cfg      Config
	mux      *http.ServeMux
	log      *slog.Logger
	requests *prometheus.CounterVec
	latency  prometheus.Histogram
	verifies *prometheus.CounterVec
	limiter  *RateLimiter
	streams  *streamSet
	// streamsCut counts streams ended by the server, by reason.
	streamsCut *prometheus.CounterVec
}

func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.NewRegistry()
	}
	if cfg.WaitTimeout == 0 {
		cfg.WaitTimeout = 10 * time.Second
	}
	if cfg.ImportMaxBytes <= 0 {
		cfg.ImportMaxBytes = MaxImportBytes
	}
	cfg.Streams.setDefaults()
	s := &Server{cfg: cfg, mux: http.NewServeMux(), log: cfg.Logger, streams: newStreamSet(cfg.Streams)}
	s.streamsCut = metrics.Register(cfg.Metrics, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kpitrail_change_streams_cut_total", Help: "Change streams the server ended, by reason"}, []string{"reason"}))
	metrics.Register(cfg.Metrics, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "kpitrail_change_streams_open", Help: "Change streams open now"}, func() float64 { return float64(s.streams.count()) }))
	s.requests = metrics.Register(cfg.Metrics, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kpitrail_http_requests_total", Help: "HTTP requests by route and status"}, []string{"route", "status"}))
	s.latency = metrics.Register(cfg.Metrics, prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "kpitrail_http_request_seconds", Help: "HTTP request latency", Buckets: metrics.LatencyBuckets}))
	s.verifies = metrics.Register(cfg.Metrics, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "kpitrail_audit_verifications_total",
		Help: "Log verifications run through the API, by result: ok, findings (the log is not what was written), error"},
		[]string{"result"}))
	for _, result := range []string{"ok", "findings", "error"} {
		s.verifies.WithLabelValues(result) // present at 0, so a rate over them starts from the first scrape
	}
	if s.limiter = cfg.Limiter; s.limiter == nil {
		s.limiter = NewRateLimiter(cfg.RatePerSecond, cfg.Burst)
	}
	s.routes()
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Shutdown ends the long-lived responses (change streams), which an
// http.Server's graceful shutdown would otherwise wait for, and refuses
// new ones. Register it with http.Server.RegisterOnShutdown.
func (s *Server) Shutdown() { s.streams.shutdown() }

// OpenStreams is the number of change streams open now.
func (s *Server) OpenStreams() int { return s.streams.count() }

// handle registers a route behind the common middleware. access says who
// may call it: "" for anyone, "read" for any valid token, "admin".
func (s *Server) handle(pattern, access string, h func(http.ResponseWriter, *http.Request) error) {
	route := pattern
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("panic in handler", "route", route, "panic", v)
				writeError(rec, r, s.log, domain.Internal(nil, "panic"))
			}
			s.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
			s.latency.Observe(time.Since(start).Seconds())
		}()
		if err := checkHeaders(r); err != nil {
			writeError(rec, r, s.log, err)
			return
		}
		if access != "" {
			p, err := s.authenticate(r)
			if err != nil {
				writeError(rec, r, s.log, err)
				return
			}
			if s.limiter != nil {
				if ok, retry := s.limiter.Allow(p.TokenID); !ok {
					rec.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
					writeProblem(rec, RateLimited(r.URL.Path))
					return
				}
			}
			if access == "admin" && !auth.CanAdmin(p.Role) {
				writeError(rec, r, s.log, domain.Forbidden("role %s may not call %s", p.Role, route))
				return
			}
			r = r.WithContext(auth.WithPrincipal(r.Context(), p))
			if err := s.awaitPosition(r); err != nil {
				rec.Header().Set("Retry-After", "1")
				writeError(rec, r, s.log, err)
				return
			}
		}
		if err := h(rec, r); err != nil {
			writeError(rec, r, s.log, err)
		}
	})
}

func (s *Server) authenticate(r *http.Request) (auth.Principal, error) {
	h := r.Header.Get("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		return auth.Principal{}, domain.Unauthorized("send Authorization: Bearer <token>")
	}
	p, err := s.cfg.Tokens.Authenticate(r.Context(), token)
	if err != nil {
		return auth.Principal{}, auth.Refusal(err)
	}
	return p, nil
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Flush() { _ = r.FlushError() }

// FlushError lets http.ResponseController report a failed flush.
func (r *statusRecorder) FlushError() error {
	return http.NewResponseController(r.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection (write
// deadlines for change streams).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func authPrincipal(r *http.Request) (auth.Principal, bool) { return auth.FromContext(r.Context()) }
