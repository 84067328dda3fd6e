package main

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/prometheus/client_golang/prometheus"

	"kpitrail/app"
	"kpitrail/asyncapi"
	"kpitrail/auth"
	"kpitrail/console"
	"kpitrail/eventstore"
	"kpitrail/feed"
	"kpitrail/httpapi"
	"kpitrail/idempotency"
	"kpitrail/intake"
	"kpitrail/internal/datadir"
	"kpitrail/jobs"
	"kpitrail/lease"
	"kpitrail/metrics"
	"kpitrail/natsauth"
	"kpitrail/projections"
	"kpitrail/tracing"
)

// registerGauges exposes projection lag and dead letters, read at scrape,
// and the embedded NATS server's JetStream figures.
func registerGauges(reg *metrics.Registry, live *projections.Live, embedded *eventstore.Embedded) {
	lag := func() (uint64, float64) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		events, secs, _ := live.Lag(ctx)
		return events, secs
	}
	gauge := func(name, help string, fn func() float64) {
		metrics.Register(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
	}
	gauge("kpitrail_projection_lag_events", "Events in the log not yet in the read models", func() float64 {
		e, _ := lag()
		return float64(e)
	})
	gauge("kpitrail_projection_lag_seconds", "Record-time age of the newest event not yet applied", func() float64 {
		_, s := lag()
		return s
	})
	asOf := func(f func(projections.AsOfStats) int64) func() float64 {
		return func() float64 { return float64(f(live.AsOfStats())) }
	}
	counter := func(name, help string, fn func() float64) {
		metrics.Register(reg, prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, fn))
	}
	gauge("kpitrail_asof_replays_running", "As-of replays being built now", asOf(func(s projections.AsOfStats) int64 { return s.Running }))
	counter("kpitrail_asof_replays_started_total", "As-of replays started since start", asOf(func(s projections.AsOfStats) int64 { return s.Started }))
	counter("kpitrail_asof_reads_shared_total", "As-of reads answered from a replay another read started or kept", asOf(func(s projections.AsOfStats) int64 { return s.Shared }))
	counter("kpitrail_asof_replays_cancelled_total", "As-of replays stopped because their readers left", asOf(func(s projections.AsOfStats) int64 { return s.Cancelled }))
	counter("kpitrail_asof_reads_busy_total", "As-of reads refused for want of a replay turn", asOf(func(s projections.AsOfStats) int64 { return s.Busy }))
	gauge("kpitrail_asof_kept_bytes", "Bytes of as-of replay files kept", asOf(func(s projections.AsOfStats) int64 { return s.KeptBytes }))
	gauge("kpitrail_dead_letters", "Events the read models could not apply", func() float64 {
		var n int
		_ = live.With(context.Background(), nil, func(db *projections.DB) error {
			var err error
			n, err = db.DeadLetterCount(context.Background())
			return err
		})
		return float64(n)
	})
	if embedded != nil {
		metrics.Register(reg, metrics.NewJetStreamCollector(embedded.Server()))
	}
}

// Server is a running `kpitrail serve`: the system plus its HTTP API.
type Server struct {
	cfg    ServeConfig
	sys    *System
	tokens *auth.Tokens
	keys   *idempotency.Keys
	live   *projections.Live
	jobs   *jobs.Manager
	intake *intake.Intake
	feed   *feed.Feed
	// feedConn is the feed's own connection; the feed never closes it.
	feedConn *nats.Conn
	ln       net.Listener
	http     *http.Server
	handler  *starting
	// lock makes this process the data directory's only owner.
	lock   *datadir.Lock
	errc   chan error
	closed bool
	api    *httpapi.Server
	// exports is kept for its budget's tests.
	exports *exports
	// background ends the server's own goroutines (the checkpointer).
	background context.CancelFunc
	// traces flushes and stops the trace exporter, last.
	traces *tracing.Provider
	log    *slog.Logger
	// leases elect the instance that runs each singleton job when several
	// share the cluster (nil with the embedded server); holder is this
	// instance's name in them.
	leases *lease.Leases
	holder string
	// singletons are the running singleton jobs (shared.go).
	singletons sync.WaitGroup
}

// StartServer opens everything and starts serving; tests call it with a
// temp data dir and port 0.
func StartServer(ctx context.Context, cfg ServeConfig, log *slog.Logger) (*Server, error) {
	// The lock comes before anything opens a file in the directory: a
	// second server must not so much as start an embedded NATS on it.
	lock, err := datadir.Acquire(cfg.DataDir, datadir.Holder{Command: "serve", HTTP: cfg.HTTPAddr, NATS: natsAddress(cfg)})
	if err != nil {
		return nil, err
	}
	traces, err := startTracing(ctx, &cfg, log)
	if err != nil {
		lock.Release()
		return nil, err
	}
	s := &Server{cfg: cfg, errc: make(chan error, 1), log: log, lock: lock, traces: traces}
	// Listeners first, then the tokens: what is wrong is said before
	// anything starts (startup.go).
	if s.ln, err = listen(cfg); err != nil {
		s.Close()
		return nil, err
	}
	s.serve()
	// auth.db is checked before the event log opens; the cluster's token
	// bucket can only be read once NATS is connected.
	if !cfg.shared() {
		if err := s.openTokens(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	sys, err := OpenSystem(ctx, cfg, log)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.sys = sys
	if cfg.shared() {
		if err := s.openTokens(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	if err := s.openLeases(ctx); err != nil {
		s.Close()
		return nil, err
	}
	log.Info("signing key", "key_id", sys.Store.Signer().KeyID(), "public_key", sys.Store.Signer().PublicKeyText(),
		"keyring", sys.keys.ring)
	if sys.AdoptedUnsigned > 0 {
		log.Warn("a new keyring adopted the unsigned history written before kpitrail signed its log",
			"through_position", sys.AdoptedUnsigned, "keyring", sys.keys.ring)
	}
	sys.Service.Authorize = app.TraceAuthorize(cfg.tracer, auth.Authorizer(sys.Service.Load))
	if err := s.openIdempotency(ctx); err != nil {
		s.Close()
		return nil, err
	}
	sys.Service.Keys = s.keys
	if s.live, err = projections.OpenLive(ctx, filepath.Join(cfg.DataDir, "readmodels.db"), sys.Log(), projections.RunnerOptions{Tracer: cfg.tracer}, log); err != nil {
		s.Close()
		return nil, err
	}
	s.live.LimitAsOf(cfg.Limits.AsOf)
	s.live.TakeSnapshots(cfg.Limits.Snapshots)
	registerGauges(sys.Metrics, s.live, sys.Embedded)
	wireControl(sys, s.live)
	s.exports = newExports(filepath.Join(cfg.DataDir, "exports"), s.live, sys.Store, cfg.Limits.Exports)
	asyncAPI, err := asyncapi.Document()
	if err != nil {
		s.Close()
		return nil, err
	}
	imps := &imports{dir: filepath.Join(cfg.DataDir, "imports"), svc: sys.Service, store: sys.Store, settleWait: s.live.Wait,
		limits: cfg.Limits.importer(), keys: s.keys, turn: make(chan struct{}, 1), wait: cfg.Limits.importWait(),
		warnings: liveWarnings(s.live), pace: cfg.Limits.ImportPace, slice: cfg.Limits.ImportSlice,
		leases: s.leases, log: log}
	s.jobs = jobs.New(cfg.Limits.Jobs)
	exps := s.exports
	// One budget per token, whether it comes to the API or the console.
	limiter := httpapi.NewRateLimiter(cfg.RatePerSecond, cfg.RateBurst)
	api := httpapi.New(httpapi.Config{
		Service: sys.Service, Tokens: s.tokens, Events: sys.Store, Reads: s.live, Waiter: s.live, Ready: s.live.Ready, Fault: sys.Guard.Err,
		Audit: &auditor{store: sys.Store, keyring: sys.Store.Keyring(), readModels: func(ctx context.Context, fn func(*projections.DB) error) error {
			return s.live.With(ctx, nil, fn)
		}, record: filepath.Join(cfg.DataDir, "audit", "verified.json"), sys: sys, now: time.Now},
		Admin:   &admin{dataDir: cfg.DataDir, sys: sys, live: s.live},
		Imports: imps,
		Exports: exps,
		Jobs:    s.jobs,
		Changes: changes{js: sys.Store.JetStreamContext()},
		Metrics: sys.Metrics, AsyncAPI: asyncAPI, Logger: log, Limiter: limiter,
		ReportersReadAll: cfg.ReporterReads == "all",
		Streams:          cfg.Limits.Streams, ImportMaxBytes: cfg.Limits.ImportMaxBytes,
	})
	s.api = api
	// The web console shares the API's port, parts and rules; it has the
	// console's paths and GET /, the API everything else.
	sessions, err := s.tokens.Sessions(auth.SessionConfig{})
	if err != nil {
		s.Close()
		return nil, err
	}
	web := console.New(console.Config{Service: sys.Service, Tokens: s.tokens, Sessions: sessions, Reads: s.live,
		Waiter: s.live, Events: sys.Store, Chains: sys.Store, Keyring: sys.Store.Keyring(), Imports: imps, Exports: exps, Jobs: s.jobs,
		ReportersReadAll: cfg.ReporterReads == "all", Limiter: limiter, Logger: log})
	root := http.NewServeMux()
	root.Handle("/", api)
	root.Handle("/console/", web)
	root.Handle("GET /{$}", web)
	// Departments' systems submit the same commands as NATS requests. The
	// intake gets its own connection: watermill closes the connection of a
	// router's subscriber and publisher when the router stops.
	intakeConn, err := sys.Connect("kpitrail-intake", natsauth.RoleIntake)
	if err != nil {
		s.Close()
		return nil, err
	}
	if s.intake, err = intake.Start(ctx, intake.Config{Conn: intakeConn, Service: sys.Service, Auth: s.tokens, Logger: log, Tracer: cfg.tracer}); err != nil {
		intakeConn.Close()
		s.Close()
		return nil, err
	}
	// The downstream feed publishes integration events on kpitrail.changes.>,
	// on a connection of its own that cannot touch the event log.
	if s.feedConn, err = sys.Connect("kpitrail-feed", natsauth.RoleFeed); err != nil {
		s.Close()
		return nil, err
	}
	if s.feed, err = feed.Open(ctx, feed.Config{Conn: s.feedConn, Log: sys.Log(), Dir: filepath.Join(cfg.DataDir, "feed"),
		Replicas: cfg.Replicas, Logger: log}); err != nil {
		s.Close()
		return nil, err
	}
	if cfg.Demo && sys.Guard.Err() == nil {
		if err := loadDemo(ctx, sys, s.live, cfg.DataDir, cfg.DemoUnits, log); err != nil {
			s.Close()
			return nil, err
		}
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.background = cancel
	s.singleton(bg, leaseFeed, func(ctx context.Context) {
		if err := s.feed.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("downstream feed stopped", "err", err)
		}
	})
	if cfg.CheckpointEvery > 0 {
		s.singleton(bg, leaseCheckpointer, func(ctx context.Context) {
			checkpointer(ctx, cfg.CheckpointEvery, s.live, sys.Service, log)
		})
	}
	if err := lock.Update(func(h *datadir.Holder) {
		h.HTTP = s.ln.Addr().String()
		if sys.Embedded != nil && sys.Embedded.ClientURL() != "" {
			h.NATS = sys.Embedded.ClientURL()
		}
	}); err != nil {
		s.Close()
		return nil, err
	}
	s.api = api
	s.http.RegisterOnShutdown(api.Shutdown)
	s.handler.ready(tracing.HTTP(cfg.tracer, root))
	return s, nil
}

// serve answers on the bound listener, "starting" until the API is ready.
func (s *Server) serve() {
	s.handler = &starting{}
	s.http = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: 5 * time.Minute,
		ConnContext: httpapi.ConnContext}
	if s.cfg.TLSCert != "" {
		s.http.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	go func() {
		var err error
		if s.cfg.TLSCert != "" {
			err = s.http.ServeTLS(s.ln, s.cfg.TLSCert, s.cfg.TLSKey)
		} else {
			err = s.http.Serve(httpapi.ProblemListener(s.ln))
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.errc <- err
	}()
}

// natsAddress says where the server's NATS is, for the lock file.
func natsAddress(cfg ServeConfig) string {
	switch {
	case cfg.NATSURL != "":
		return cfg.NATSURL
	case cfg.NATSListen != "":
		return "nats://" + cfg.NATSListen
	}
	return "embedded, in-process only"
}

// Addr is the HTTP address actually bound (port 0 resolved).
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops accepting requests, lets in-flight ones finish, then closes
// the read models and NATS in dependency order.
func (s *Server) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.stopSingletons()
	var errs []error
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, s.http.Shutdown(ctx))
		cancel()
	}
	if s.jobs != nil {
		// Running jobs stop at their next safe point (an import between two
		// slices, a rebuild before its swap) before the store closes.
		s.jobs.Close()
	}
	if s.intake != nil {
		errs = append(errs, s.intake.Close())
	}
	if s.feed != nil {
		errs = append(errs, s.feed.Close())
	}
	if s.feedConn != nil {
		s.feedConn.Close()
	}
	if s.tokens != nil {
		errs = append(errs, s.tokens.Close())
	}
	if s.live != nil {
		errs = append(errs, s.live.Close())
	}
	if s.sys != nil {
		s.sys.Close()
	}
	if s.keys != nil {
		errs = append(errs, s.keys.Close())
	}
	if s.traces != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := s.traces.Shutdown(ctx); err != nil {
			s.log.Warn("traces not all exported at shutdown", "err", err)
		}
		cancel()
	}
	// Last: the directory is free only once every file in it is closed.
	errs = append(errs, s.lock.Release())
	return errors.Join(errs...)
}
