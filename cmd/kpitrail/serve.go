package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"kpitrail/app"
	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/metrics"
)

// ServeConfig is everything `kpitrail serve` needs. Flags win over the
// environment, which wins over the defaults.
type ServeConfig struct {
	DataDir    string
	HTTPAddr   string
	NATSURL    string // external cluster; empty runs the embedded server
	NATSListen string // expose the embedded server on TCP
	NATSUser   string
	NATSPass   string
	NATSToken  string
	NATSCreds  string
	NATSCA     string
	NATSCert   string
	NATSKey    string
	Replicas   int
	NoSync     bool
	Demo       bool
	AdminToken string
	// TLSCert and TLSKey serve HTTPS instead of HTTP.
	TLSCert, TLSKey string
	// NATSTLSCert and NATSTLSKey require TLS on --nats-listen.
	NATSTLSCert, NATSTLSKey string
	// CheckpointEvery records the log's checkpoint root (0: never).
	CheckpointEvery time.Duration
	// RatePerSecond limits requests per token (0: off).
	RatePerSecond float64
	RateBurst     int
	// GroupCommitWait holds a group commit open for more appends; 0 commits
	// whatever has queued while the last batch was in flight; negative
	// appends each command on its own.
	GroupCommitWait time.Duration
	// Limits are the budgets of streams, replays, imports and exports.
	Limits Limits
}

func (m *Main) serveFlags(args []string) (ServeConfig, error) {
	env := func(k, def string) string {
		if v := m.Getenv(k); v != "" {
			return v
		}
		return def
	}
	replicas, err := strconv.Atoi(env("KPITRAIL_REPLICAS", "1"))
	if err != nil {
		return ServeConfig{}, fmt.Errorf("KPITRAIL_REPLICAS: %w", err)
	}
	var c ServeConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&c.DataDir, "data", env("KPITRAIL_DATA", "./kpitrail-data"), "data directory (JetStream files, read models)")
	fs.StringVar(&c.HTTPAddr, "http", env("KPITRAIL_HTTP", "127.0.0.1:8080"), "HTTP listen address")
	fs.StringVar(&c.NATSURL, "nats-url", env("KPITRAIL_NATS_URL", ""), "external NATS URLs (comma-separated); empty runs NATS embedded")
	fs.StringVar(&c.NATSListen, "nats-listen", env("KPITRAIL_NATS_LISTEN", ""), "expose the embedded NATS server on host:port")
	fs.StringVar(&c.NATSUser, "nats-user", env("KPITRAIL_NATS_USER", ""), "NATS user")
	fs.StringVar(&c.NATSCreds, "nats-creds", env("KPITRAIL_NATS_CREDS", ""), "NATS credentials file")
	fs.StringVar(&c.NATSCA, "nats-ca", env("KPITRAIL_NATS_CA", ""), "CA file to verify the NATS servers")
	fs.StringVar(&c.NATSCert, "nats-cert", env("KPITRAIL_NATS_CERT", ""), "client certificate for NATS mutual TLS")
	fs.StringVar(&c.NATSKey, "nats-key", env("KPITRAIL_NATS_KEY", ""), "client key for NATS mutual TLS")
	fs.IntVar(&c.Replicas, "replicas", replicas, "stream replicas (3 on a cluster)")
	fs.BoolVar(&c.NoSync, "no-sync", false, "embedded NATS: do not fsync before acknowledging (benchmarks only)")
	fs.DurationVar(&c.GroupCommitWait, "group-commit-wait", 0, "hold a group commit open this long for more appends (0: commit what has queued, no added latency; <0: no group commit)")
	fs.BoolVar(&c.Demo, "demo", false, "load the demo data set when the store is empty")
	fs.StringVar(&c.TLSCert, "tls-cert", env("KPITRAIL_TLS_CERT", ""), "serve HTTPS with this certificate")
	fs.StringVar(&c.TLSKey, "tls-key", env("KPITRAIL_TLS_KEY", ""), "key of --tls-cert")
	fs.StringVar(&c.NATSTLSCert, "nats-tls-cert", env("KPITRAIL_NATS_TLS_CERT", ""), "require TLS on --nats-listen with this certificate")
	fs.StringVar(&c.NATSTLSKey, "nats-tls-key", env("KPITRAIL_NATS_TLS_KEY", ""), "key of --nats-tls-cert")
	fs.DurationVar(&c.CheckpointEvery, "checkpoint-every", time.Hour, "record the log's checkpoint root this often (0: never)")
	fs.Float64Var(&c.RatePerSecond, "rate", 200, "requests per second per token (0: no limit)")
	fs.IntVar(&c.RateBurst, "rate-burst", 400, "request burst per token")
	c.Limits.flags(fs)
	if err := fs.Parse(args); err != nil {
		return ServeConfig{}, err
	}
	// Secrets come from the environment only, never from flags that show in
	// the process list.
	c.NATSPass = m.Getenv("KPITRAIL_NATS_PASSWORD")
	c.NATSToken = m.Getenv("KPITRAIL_NATS_TOKEN")
	c.AdminToken = m.Getenv("KPITRAIL_ADMIN_TOKEN")
	return c, nil
}

// System is a running kpitrail: NATS, the event store and the command service.
type System struct {
	Embedded *eventstore.Embedded // nil when connected to an external cluster
	Conn     *nats.Conn
	Store    *eventstore.JetStream
	// Commits are the group committer the service appends through, nil when
	// group commit is off: concurrent commands share one sync.
	Commits *eventstore.GroupCommitter
	Service *app.Service
	Metrics *metrics.Registry
	remote  eventstore.RemoteConfig
}

// Connect opens another connection to the same NATS, for a component that
// closes its connection when it stops (watermill's publishers and
// subscribers do).
func (s *System) Connect(name string) (*nats.Conn, error) {
	if s.Embedded != nil {
		return s.Embedded.Connect(name)
	}
	cfg := s.remote
	cfg.Name = name
	return eventstore.ConnectRemote(cfg)
}

// OpenSystem connects (or starts) NATS and opens the event store.
func OpenSystem(ctx context.Context, c ServeConfig) (*System, error) {
	sys := &System{}
	var err error
	if c.NATSURL == "" {
		sys.Embedded, err = eventstore.StartEmbedded(eventstore.EmbeddedConfig{
			StoreDir: filepath.Join(c.DataDir, "jetstream"), Listen: c.NATSListen, NoSync: c.NoSync,
			User: c.NATSUser, Password: c.NATSPass, TLSCert: c.NATSTLSCert, TLSKey: c.NATSTLSKey,
		})
		if err != nil {
			return nil, err
		}
		sys.Conn, err = sys.Embedded.Connect("kpitrail")
	} else {
		sys.remote = eventstore.RemoteConfig{URLs: c.NATSURL, User: c.NATSUser, Password: c.NATSPass,
			Token: c.NATSToken, CredsFile: c.NATSCreds, CAFile: c.NATSCA, CertFile: c.NATSCert, KeyFile: c.NATSKey, Name: "kpitrail"}
		sys.Conn, err = eventstore.ConnectRemote(sys.remote)
	}
	if err != nil {
		sys.Close()
		return nil, err
	}
	sys.Store, err = eventstore.OpenJetStream(ctx, sys.Conn, eventstore.Config{Replicas: c.Replicas})
	if err != nil {
		sys.Close()
		return nil, err
	}
	sys.Metrics = metrics.NewRegistry()
	var appends app.Store = sys.Store
	if c.GroupCommitWait >= 0 {
		if sys.Commits, err = eventstore.NewGroupCommitter(sys.Store, eventstore.GroupCommitConfig{MaxWait: c.GroupCommitWait}); err != nil {
			sys.Close()
			return nil, err
		}
		appends = sys.Commits
	}
	sys.Service = app.NewService(app.Instrument(appends, sys.Metrics))
	return sys, nil
}

// LoadTask loads a task for authorization checks.
func (s *System) LoadTask(ctx context.Context, id string) (*domain.Task, error) {
	a, err := s.Service.Load(ctx, domain.AggregateRef{Type: domain.AggregateTask, ID: id})
	if err != nil {
		return nil, err
	}
	return a.(*domain.Task), nil
}

// Close drains the connection so acknowledged work is flushed, then stops
// the embedded server.
func (s *System) Close() {
	if s.Commits != nil {
		s.Commits.Close()
	}
	if s.Conn != nil {
		_ = s.Conn.Drain()
		for i := 0; i < 50 && !s.Conn.IsClosed(); i++ {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if s.Embedded != nil {
		s.Embedded.Shutdown()
	}
}

func (m *Main) runServe(ctx context.Context, args []string) error {
	cfg, err := m.serveFlags(args)
	if err != nil {
		return err
	}
	cfg.Limits.applyMemoryLimit(m.Getenv)
	srv, err := StartServer(ctx, cfg, m.Logger)
	if err != nil {
		return err
	}
	m.Logger.Info("kpitrail serving", "http", srv.Addr(), "data", cfg.DataDir, "nats", natsMode(cfg, srv.sys))
	select {
	case <-ctx.Done():
	case err := <-srv.errc:
		if err != nil {
			srv.Close()
			return err
		}
	}
	m.Logger.Info("kpitrail shutting down")
	return srv.Close()
}

func natsMode(c ServeConfig, s *System) string {
	if s.Embedded == nil {
		return "external " + c.NATSURL
	}
	if u := s.Embedded.ClientURL(); u != "" {
		return "embedded, listening on " + u
	}
	return "embedded"
}
