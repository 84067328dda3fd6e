package main

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"kpitrail/auth"
	"kpitrail/console"
	"kpitrail/feed"
	"kpitrail/httpapi"
	"kpitrail/intake"
	"kpitrail/metrics"
	"kpitrail/projections"
)

// registerGauges exposes projection lag and dead letters, read at scrape.
func registerGauges(reg *metrics.Registry, live *projections.Live) {
	lag := func() (uint64, float64) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		events, secs, _ := live.Lag(ctx)
		return events, secs
	}
	reg.Gauge("kpitrail_projection_lag_events", "Events in the log not yet in the read models", func() float64 {
		e, _ := lag()
		return float64(e)
	})
	reg.Gauge("kpitrail_projection_lag_seconds", "Record-time age of the newest event not yet applied", func() float64 {
		_, s := lag()
		return s
	})
	reg.Gauge("kpitrail_dead_letters", "Events the read models could not apply", func() float64 {
		var n int
		_ = live.With(context.Background(), nil, func(db *projections.DB) error {
			var err error
			n, err = db.DeadLetterCount(context.Background())
			return err
		})
		return float64(n)
	})
}

// Server is a running `kpitrail serve`: the system plus its HTTP API.
type Server struct {
	cfg    ServeConfig
	sys    *System
	tokens *auth.Tokens
	live   *projections.Live
	intake *intake.Intake
	feed   *feed.Feed
	ln     net.Listener
	http   *http.Server
	errc   chan error
	closed bool
	// background ends the server's own goroutines (the checkpointer).
	background context.CancelFunc
	log        *slog.Logger
}

// StartServer opens everything and starts serving; tests call it with a
// temp data dir and port 0.
func StartServer(ctx context.Context, cfg ServeConfig, log *slog.Logger) (*Server, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, err
	}
	sys, err := OpenSystem(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, sys: sys, errc: make(chan error, 1), log: log}
	if s.tokens, err = auth.OpenTokens(filepath.Join(cfg.DataDir, "auth.db"), cfg.AdminToken); err != nil {
		s.Close()
		return nil, err
	}
	sys.Service.Authorize = auth.Authorizer(sys.LoadTask)
	if s.live, err = projections.OpenLive(ctx, filepath.Join(cfg.DataDir, "readmodels.db"), sys.Store, projections.RunnerOptions{}, log); err != nil {
		s.Close()
		return nil, err
	}
	registerGauges(sys.Metrics, s.live)
	imps := &imports{dir: filepath.Join(cfg.DataDir, "imports"), svc: sys.Service, store: sys.Store, wait: s.live.Wait}
	exps := newExports(filepath.Join(cfg.DataDir, "exports"), s.live, sys.Store)
	api := httpapi.New(httpapi.Config{
		Service: sys.Service, Tokens: s.tokens, Events: sys.Store, Reads: s.live, Waiter: s.live, Ready: s.live.Ready,
		Admin:   &admin{dataDir: cfg.DataDir, sys: sys, live: s.live},
		Imports: imps,
		Exports: exps,
		Changes: changes{js: sys.Store.JetStreamContext()},
		Metrics: sys.Metrics, Logger: log, RatePerSecond: cfg.RatePerSecond, Burst: cfg.RateBurst,
	})
	// The web console shares the API's port, parts and rules; it has the
	// console's paths and GET /, the API everything else.
	sessions, err := s.tokens.Sessions(auth.SessionConfig{})
	if err != nil {
		s.Close()
		return nil, err
	}
	web := console.New(console.Config{Service: sys.Service, Tokens: s.tokens, Sessions: sessions, Reads: s.live,
		Waiter: s.live, Events: sys.Store, Chains: sys.Store, Imports: imps, Exports: exps, Logger: log})
	root := http.NewServeMux()
	root.Handle("/", api)
	root.Handle("/console/", web)
	root.Handle("GET /{$}", web)
	// Departments' systems submit the same commands as NATS requests. The
	// intake gets its own connection: watermill closes the connection of a
	// router's subscriber and publisher when the router stops.
	intakeConn, err := sys.Connect("kpitrail-intake")
	if err != nil {
		s.Close()
		return nil, err
	}
	if s.intake, err = intake.Start(ctx, intake.Config{Conn: intakeConn, Service: sys.Service, Auth: s.tokens, Logger: log}); err != nil {
		intakeConn.Close()
		s.Close()
		return nil, err
	}
	// The downstream feed publishes integration events on kpitrail.changes.>.
	if s.feed, err = feed.Open(ctx, feed.Config{Conn: sys.Conn, Log: sys.Store, Dir: filepath.Join(cfg.DataDir, "feed"),
		Replicas: cfg.Replicas, Logger: log}); err != nil {
		s.Close()
		return nil, err
	}
	go func() {
		if err := s.feed.Run(context.WithoutCancel(ctx)); err != nil {
			log.Error("downstream feed stopped", "err", err)
		}
	}()
	if cfg.Demo {
		if err := loadDemo(ctx, sys, log); err != nil {
			s.Close()
			return nil, err
		}
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.background = cancel
	go checkpointer(bg, cfg.CheckpointEvery, s.live, sys.Service, log)
	if s.ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		s.Close()
		return nil, err
	}
	s.http = &http.Server{Handler: root, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: 5 * time.Minute}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		s.Close()
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	go func() {
		var err error
		if cfg.TLSCert != "" {
			s.http.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			err = s.http.ServeTLS(s.ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			err = s.http.Serve(s.ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.errc <- err
	}()
	return s, nil
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
	if s.background != nil {
		s.background()
	}
	var errs []error
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		errs = append(errs, s.http.Shutdown(ctx))
		cancel()
	}
	if s.intake != nil {
		errs = append(errs, s.intake.Close())
	}
	if s.feed != nil {
		errs = append(errs, s.feed.Close())
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
	return errors.Join(errs...)
}
