package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.opentelemetry.io/otel/trace"

	"kpitrail/app"
	"kpitrail/auth"
	"kpitrail/eventstore"
	"kpitrail/metrics"
	"kpitrail/natsauth"
	"kpitrail/tracing"
)

// ServeConfig is everything `kpitrail serve` needs. Flags win over the
// environment, which wins over the defaults.
type ServeConfig struct {
	DataDir    string
	HTTPAddr   string
	NATSURL    string // external cluster; empty runs the embedded server
	NATSListen string // expose the embedded server on TCP
	// NATSDepartments and NATSDownstream name the department and downstream
	// systems the embedded server accepts, each with its own nkey under
	// <data>/nats/ (package natsauth).
	NATSDepartments []string
	NATSDownstream  []string
	// External cluster credentials: kpitrail's, and optionally a separate
	// user for the command intake (the cluster's kpitrail-intake).
	NATSUser       string
	NATSPass       string
	NATSToken      string
	NATSCreds      string
	NATSNkey       string
	NATSIntakeUser string
	NATSIntakePass string
	NATSCA         string
	NATSCert       string
	NATSKey        string
	Replicas       int
	NoSync         bool
	Demo           bool
	DemoUnits      int
	AdminToken     string
	// TLSCert and TLSKey serve HTTPS instead of HTTP.
	TLSCert, TLSKey string
	// NATSTLSCert and NATSTLSKey require TLS on --nats-listen.
	NATSTLSCert, NATSTLSKey string
	// CheckpointEvery records the log's checkpoint root (0: never).
	CheckpointEvery time.Duration
	// RatePerSecond limits requests per token (0: off).
	RatePerSecond float64
	RateBurst     int
	// TokenTTL is the lifetime of a token issued without one; TokenMaxTTL
	// bounds what may be asked for (0: the auth package's defaults).
	TokenTTL, TokenMaxTTL time.Duration
	// ReporterReads is "own" (reporters read their departments' tasks
	// only; the default) or "all".
	ReporterReads string
	// GroupCommitWait holds a group commit open for more appends; 0 commits
	// whatever has queued while the last batch was in flight; negative
	// appends each command on its own.
	GroupCommitWait time.Duration
	// StreamCheckEvery is how often the stream guard checks the event
	// stream (it also checks at once on the server's stream advisories).
	StreamCheckEvery time.Duration
	// Tracing is what the standard OTEL_ variables ask of traces; tracer is
	// the provider serve runs with (tests set it, with an in-memory
	// exporter), nil or no-op when traces are off.
	Tracing tracing.Config
	tracer  trace.TracerProvider
	// offline opens the system for a tool: the stream is never created,
	// changed or recorded, and a guard fault is an error.
	offline bool
	// noGuard leaves the stream to the caller (kpitrail stream).
	noGuard bool
	// SigningKey and Keyring are the instance's Ed25519 key and the keys
	// trusted to have signed the log (default: under DataDir/keys).
	SigningKey, Keyring string
	// ReadOnlyKeys opens the store with the keyring alone: it judges what
	// it reads and appends nothing (offline verify, rebuild, replay).
	ReadOnlyKeys bool
	// Limits are the budgets of streams, replays, imports and exports.
	Limits Limits
	// Instance names this serve among the instances sharing a cluster (in
	// the lease bucket and logs); LeaseTTL is how long a dead instance's
	// singleton jobs wait for another to take them over (shared.go).
	Instance string
	LeaseTTL time.Duration
}

// serveFlags parses serve's command line alone (tests use it).
func (m *Main) serveFlags(args []string) (ServeConfig, error) {
	var c ServeConfig
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	finish := m.bindServeFlags(fs, &c)
	if err := fs.Parse(args); err != nil {
		return ServeConfig{}, err
	}
	return c, finish()
}

func (m *Main) serveCommand() *cobra.Command {
	var cfg ServeConfig
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the server: embedded NATS, projections, the HTTP API and the web console",
		Long: "Run the server. Flags win over the environment (KPITRAIL_*), which wins over the defaults. Secrets\n" +
			"come from the environment only: KPITRAIL_ADMIN_TOKEN, KPITRAIL_NATS_PASSWORD, KPITRAIL_NATS_TOKEN.",
		Args: exactArgs(0),
	}
	finish := m.bindServeFlags(c.Flags(), &cfg)
	c.RunE = func(cc *cobra.Command, _ []string) error {
		if err := finish(); err != nil {
			return usageErrorf(cc, "%v", err)
		}
		return m.runServe(cc.Context(), cfg)
	}
	return c
}

// bindServeFlags registers serve's flags on fs, writing into c; finish
// checks what was given and reads the secrets from the environment.
func (m *Main) bindServeFlags(fs *pflag.FlagSet, cp *ServeConfig) (finish func() error) {
	env := func(k, def string) string {
		if v := m.Getenv(k); v != "" {
			return v
		}
		return def
	}
	var errs []error
	replicas, err := strconv.Atoi(env("KPITRAIL_REPLICAS", "1"))
	if err != nil {
		errs = append(errs, fmt.Errorf("KPITRAIL_REPLICAS: %w", err))
	}
	c := cp
	fs.StringVar(&c.DataDir, "data", env("KPITRAIL_DATA", "./kpitrail-data"), "data directory (JetStream files, read models)")
	fs.StringVar(&c.HTTPAddr, "http", env("KPITRAIL_HTTP", "127.0.0.1:8080"), "HTTP listen address")
	fs.StringVar(&c.NATSURL, "nats-url", env("KPITRAIL_NATS_URL", ""), "external NATS URLs (comma-separated); empty runs NATS embedded")
	fs.StringVar(&c.NATSListen, "nats-listen", env("KPITRAIL_NATS_LISTEN", ""), "expose the embedded NATS server on host:port")
	fs.Var(newListFlag(&c.NATSDepartments, env("KPITRAIL_NATS_DEPARTMENTS", "")), "nats-departments",
		"department systems the embedded server accepts for intake, comma-separated; each gets <data>/nats/intake/<name>.nk")
	fs.Var(newListFlag(&c.NATSDownstream, env("KPITRAIL_NATS_DOWNSTREAM", "")), "nats-downstream",
		"downstream systems the embedded server accepts on the change feed, comma-separated; each gets <data>/nats/downstream/<name>.nk")
	fs.StringVar(&c.NATSUser, "nats-user", env("KPITRAIL_NATS_USER", ""), "NATS user on the external cluster (password in KPITRAIL_NATS_PASSWORD)")
	fs.StringVar(&c.NATSCreds, "nats-creds", env("KPITRAIL_NATS_CREDS", ""), "NATS credentials file")
	fs.StringVar(&c.NATSNkey, "nats-nkey", env("KPITRAIL_NATS_NKEY", ""), "NATS nkey seed file")
	fs.StringVar(&c.NATSIntakeUser, "nats-intake-user", env("KPITRAIL_NATS_INTAKE_USER", ""),
		"external cluster: the command intake's own NATS user (password in KPITRAIL_NATS_INTAKE_PASSWORD)")
	fs.StringVar(&c.NATSCA, "nats-ca", env("KPITRAIL_NATS_CA", ""), "CA file to verify the NATS servers")
	fs.StringVar(&c.NATSCert, "nats-cert", env("KPITRAIL_NATS_CERT", ""), "client certificate for NATS mutual TLS")
	fs.StringVar(&c.NATSKey, "nats-key", env("KPITRAIL_NATS_KEY", ""), "client key for NATS mutual TLS")
	fs.IntVar(&c.Replicas, "replicas", replicas, "stream replicas (3 on a cluster)")
	fs.BoolVar(&c.NoSync, "no-sync", false, "embedded NATS: do not fsync before acknowledging (benchmarks only)")
	fs.DurationVar(&c.GroupCommitWait, "group-commit-wait", 0, "hold a group commit open this long for more appends (0: commit what has queued, no added latency; <0: no group commit)")
	fs.BoolVar(&c.Demo, "demo", false, "load the demo data set when the store is empty")
	fs.IntVar(&c.DemoUnits, "units", 0, "with --demo: also load this many districts of one city, with the seed district's tasks and figures of their own")
	fs.StringVar(&c.TLSCert, "tls-cert", env("KPITRAIL_TLS_CERT", ""), "serve HTTPS with this certificate")
	fs.StringVar(&c.TLSKey, "tls-key", env("KPITRAIL_TLS_KEY", ""), "key of --tls-cert")
	fs.StringVar(&c.NATSTLSCert, "nats-tls-cert", env("KPITRAIL_NATS_TLS_CERT", ""), "require TLS on --nats-listen with this certificate")
	fs.StringVar(&c.NATSTLSKey, "nats-tls-key", env("KPITRAIL_NATS_TLS_KEY", ""), "key of --nats-tls-cert")
	fs.DurationVar(&c.CheckpointEvery, "checkpoint-every", time.Hour, "record the log's checkpoint root this often (0: never)")
	fs.Float64Var(&c.RatePerSecond, "rate", 200, "requests per second per token (0: no limit)")
	fs.IntVar(&c.RateBurst, "rate-burst", 400, "request burst per token")
	c.TokenTTL, c.TokenMaxTTL = auth.DefaultTokenTTL, auth.DefaultTokenMaxTTL
	for _, d := range []struct {
		dst             *time.Duration
		flag, ev, usage string
	}{
		{&c.TokenTTL, "token-ttl", "KPITRAIL_TOKEN_TTL", "lifetime of a token issued without --expires-in (e.g. 90d, 720h)"},
		{&c.TokenMaxTTL, "token-max-ttl", "KPITRAIL_TOKEN_MAX_TTL", "longest lifetime a token may be issued with"},
	} {
		if v := m.Getenv(d.ev); v != "" {
			if *d.dst, err = parseLifetime(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", d.ev, err))
			}
		}
		fs.Var((*lifetimeFlag)(d.dst), d.flag, d.usage)
	}
	fs.StringVar(&c.ReporterReads, "reporter-reads", env("KPITRAIL_REPORTER_READS", "own"), "own: reporters read only their departments' tasks and indicators; all: they read everything")
	fs.DurationVar(&c.StreamCheckEvery, "stream-check-every", 10*time.Second, "check the event stream against its record this often (and on every stream advisory)")
	fs.StringVar(&c.SigningKey, "signing-key", env("KPITRAIL_SIGNING_KEY", ""), "Ed25519 key file (PKCS#8 PEM, mode 600) that signs the log; made on the first start (default DATA/keys/signing.key)")
	fs.StringVar(&c.Keyring, "keyring", env("KPITRAIL_KEYRING", ""), "keyring file of the keys trusted to have signed the log (default DATA/keys/keyring.json)")
	fs.StringVar(&c.Instance, "instance", env("KPITRAIL_INSTANCE", ""), "this instance's name among those sharing a NATS cluster (default: host, pid and HTTP address)")
	fs.DurationVar(&c.LeaseTTL, "lease-ttl", 6*time.Second, "on a shared cluster: how long the instance running a singleton job (checkpointer, change feed, imports) may go silent before another takes it over")
	c.Limits.flags(fs)
	return func() error {
		if c.ReporterReads != "own" && c.ReporterReads != "all" {
			errs = append(errs, fmt.Errorf("--reporter-reads must be own or all, got %q", c.ReporterReads))
		}
		// Secrets come from the environment only, never from flags that
		// show in the process list.
		c.NATSPass = m.Getenv("KPITRAIL_NATS_PASSWORD")
		c.NATSToken = m.Getenv("KPITRAIL_NATS_TOKEN")
		c.NATSIntakePass = m.Getenv("KPITRAIL_NATS_INTAKE_PASSWORD")
		c.AdminToken = m.Getenv("KPITRAIL_ADMIN_TOKEN")
		var err error
		if c.Tracing, err = tracing.ConfigFromEnv(m.Getenv); err != nil {
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	}
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
	// Guard checks the event stream against its record (nil without a
	// data directory, for a tool reading a cluster).
	Guard *eventstore.Guard
	// Keys are the embedded server's identities (nil on a cluster).
	Keys   *natsauth.Keys
	remote eventstore.RemoteConfig
	intake eventstore.RemoteConfig
	// keys are the files of the signing key and keyring; rotating allows
	// one rotation at a time.
	keys     keyPaths
	rotating sync.Mutex
	// AdoptedUnsigned is the history, written before kpitrail signed its
	// messages, that this start's new keyring accepted (0: none).
	AdoptedUnsigned uint64
}

// Connect opens another connection to the same NATS as role, for a
// component that closes its connection when it stops (watermill's
// publishers and subscribers do) or should have only its own permissions.
// On a cluster the intake uses its own user when one is configured, and
// everything else kpitrail's.
func (s *System) Connect(name string, role natsauth.Role) (*nats.Conn, error) {
	if s.Embedded != nil {
		return s.Embedded.Connect(name, s.Keys.Option(role))
	}
	cfg := s.remote
	if role == natsauth.RoleIntake && s.intake.User != "" {
		cfg = s.intake
	}
	cfg.Name = name
	return eventstore.ConnectRemote(cfg)
}

func (c ServeConfig) checkNATS() error {
	var errs []error
	if c.NATSURL != "" && len(c.NATSDepartments)+len(c.NATSDownstream) > 0 {
		errs = append(errs, errors.New("--nats-departments and --nats-downstream configure the embedded server; on a cluster, configure the users in its config (deploy/nats/nats.conf)"))
	}
	if c.NATSURL == "" && c.NATSListen == "" && len(c.NATSDepartments)+len(c.NATSDownstream) > 0 {
		errs = append(errs, errors.New("--nats-departments and --nats-downstream need --nats-listen"))
	}
	if c.NATSURL == "" && c.NATSListen != "" && (c.NATSUser != "" || c.NATSToken != "") {
		errs = append(errs, errors.New("--nats-user and KPITRAIL_NATS_TOKEN are for --nats-url: the embedded server's clients authenticate with nkeys (--nats-departments, --nats-downstream; kpitrail's own key is <data>/nats/kpitrail.nk)"))
	}
	if c.NATSIntakeUser != "" && c.NATSURL == "" {
		errs = append(errs, errors.New("--nats-intake-user is for --nats-url; the embedded server gives the intake its own key"))
	}
	return errors.Join(errs...)
}

// OpenSystem connects (or starts) NATS, opens the event store and checks
// its stream (see openGuard).
func OpenSystem(ctx context.Context, c ServeConfig, log *slog.Logger) (*System, error) {
	if err := c.checkNATS(); err != nil {
		return nil, err
	}
	sys := &System{keys: c.keyPaths()}
	signer, kr, fresh, err := openKeys(c)
	if err != nil {
		return nil, err
	}
	if c.NATSURL == "" {
		// Every identity is an nkey, the server's listener included: no
		// anonymous client and no shared password, whether it listens or not.
		if sys.Keys, err = natsauth.LoadKeys(filepath.Join(c.DataDir, "nats"), c.NATSDepartments, c.NATSDownstream); err != nil {
			return nil, err
		}
		users, err := sys.Keys.Users()
		if err != nil {
			return nil, err
		}
		sys.Embedded, err = eventstore.StartEmbedded(eventstore.EmbeddedConfig{
			StoreDir: filepath.Join(c.DataDir, "jetstream"), Listen: c.NATSListen, NoSync: c.NoSync,
			Users: users, TLSCert: c.NATSTLSCert, TLSKey: c.NATSTLSKey,
		})
		if err != nil {
			return nil, err
		}
		sys.Conn, err = sys.Embedded.Connect("kpitrail", sys.Keys.Option(natsauth.RoleKpitrail))
	} else {
		sys.remote = eventstore.RemoteConfig{URLs: c.NATSURL, User: c.NATSUser, Password: c.NATSPass,
			Token: c.NATSToken, CredsFile: c.NATSCreds, NkeyFile: c.NATSNkey, CAFile: c.NATSCA, CertFile: c.NATSCert, KeyFile: c.NATSKey, Name: "kpitrail"}
		if c.NATSIntakeUser != "" {
			sys.intake = sys.remote
			sys.intake.User, sys.intake.Password, sys.intake.Token, sys.intake.CredsFile, sys.intake.NkeyFile = c.NATSIntakeUser, c.NATSIntakePass, "", "", ""
		}
		sys.Conn, err = eventstore.ConnectRemote(sys.remote)
	}
	if err != nil {
		sys.Close()
		return nil, err
	}
	var verified string
	if c.DataDir != "" {
		verified = filepath.Join(c.DataDir, "verified.cache")
	}
	sys.Store, err = eventstore.OpenJetStream(ctx, sys.Conn, eventstore.Config{Replicas: c.Replicas, Attach: true, Signer: signer, Trust: kr,
		Shared: c.shared(), VerifiedCache: verified})
	if err != nil {
		sys.Close()
		return nil, err
	}
	if !c.noGuard {
		if err := sys.openGuard(ctx, c, log); err != nil {
			sys.Close()
			return nil, err
		}
	}
	// Keys are settled on the stream the guard accepted: adopting history
	// or finishing a rotation on a stream that is not the recorded one
	// would vouch for what nobody checked.
	if !c.ReadOnlyKeys && (sys.Guard == nil || sys.Guard.Err() == nil) {
		if err := sys.settleKeys(ctx, fresh); err != nil {
			sys.Close()
			return nil, err
		}
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
	if sys.Guard != nil {
		appends = app.Gate(appends, sys.Guard)
	}
	sys.Service = app.NewService(app.Trace(app.Instrument(appends, sys.Metrics), c.tracer))
	sys.Service.Observe = app.TraceCommands(c.tracer)
	return sys, nil
}

// Close drains the connection so acknowledged work is flushed, then stops
// the embedded server.
func (s *System) Close() {
	s.Guard.Close()
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

func (m *Main) runServe(ctx context.Context, cfg ServeConfig) error {
	cfg.Limits.applyMemoryLimit(m.Getenv)
	srv, err := StartServer(ctx, cfg, m.Logger)
	if err != nil {
		return err
	}
	m.Logger.Info("kpitrail serving", "http", srv.Addr(), "data", cfg.DataDir, "nats", natsMode(cfg, srv.sys))
	if k := srv.sys.Keys; k != nil && cfg.NATSListen != "" {
		// Where the keys to hand out are; never the keys themselves.
		files := []string{"kpitrail=" + k.KpitrailSeedFile()}
		for _, c := range k.Clients {
			files = append(files, string(c.Role)+" "+c.Name+"="+c.File)
		}
		m.Logger.Info("NATS identities (nkeys)", "files", files)
	}
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

// listFlag is a comma-separated list flag whose default comes from the
// environment.
type listFlag struct{ list *[]string }

func newListFlag(list *[]string, def string) listFlag {
	*list = splitList(def)
	return listFlag{list}
}

func (f listFlag) String() string {
	if f.list == nil {
		return ""
	}
	return strings.Join(*f.list, ",")
}

func (f listFlag) Set(s string) error { *f.list = splitList(s); return nil }
func (f listFlag) Type() string       { return "list" }
