package eventstore

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// EmbeddedConfig configures the in-process NATS server, kpitrail's default.
type EmbeddedConfig struct {
	// StoreDir holds JetStream's files (under the data directory).
	StoreDir string
	// Listen exposes the server on host:port so the nats CLI and other
	// clients can attach; empty keeps it in-process only.
	Listen string
	// NoSync turns off fsync before acknowledgement. Only for benchmarks and
	// throwaway runs: JetStream's default 2-minute sync interval can lose
	// acknowledged writes on power loss, which an audit log must not.
	NoSync bool
	// Users are the identities the server accepts, each with its
	// permissions (package natsauth). With none, it accepts any client,
	// which is only for tests and tools that never listen.
	Users []*server.NkeyUser
	// MaxPayload bounds one message (one command's events). Default 1 MiB.
	MaxPayload int32
	// TLSCert and TLSKey make the listening port require TLS.
	TLSCert, TLSKey string
}

// Embedded is a running in-process server.
type Embedded struct {
	srv *server.Server
}

// StartEmbedded starts the server and waits until it is ready.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	if cfg.StoreDir == "" {
		return nil, errors.New("embedded nats: store dir is required")
	}
	if err := os.MkdirAll(cfg.StoreDir, 0o750); err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	opts := &server.Options{
		ServerName:         "kpitrail-embedded",
		JetStream:          true,
		StoreDir:           filepath.Clean(cfg.StoreDir),
		SyncAlways:         !cfg.NoSync,
		DontListen:         cfg.Listen == "",
		NoSigs:             true,
		MaxPayload:         cfg.MaxPayload,
		JetStreamMaxMemory: 64 << 20,
	}
	if cfg.NoSync {
		opts.SyncInterval = 2 * time.Minute
	}
	opts.Nkeys = cfg.Users
	if cfg.Listen != "" {
		host, port, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("embedded nats: listen address %q: %w", cfg.Listen, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return nil, fmt.Errorf("embedded nats: listen port %q: %w", port, err)
		}
		opts.Host, opts.Port = host, p
		if cfg.TLSCert != "" {
			tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: cfg.TLSCert, KeyFile: cfg.TLSKey})
			if err != nil {
				return nil, fmt.Errorf("embedded nats: tls: %w", err)
			}
			opts.TLS, opts.TLSConfig, opts.TLSTimeout = true, tc, 2
		}
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	fatal := &fatalCatcher{ch: make(chan string, 1)}
	srv.SetLoggerV2(fatal, false, false, false)
	go srv.Start()
	deadline := time.Now().Add(30 * time.Second)
	for !srv.ReadyForConnections(100 * time.Millisecond) {
		select {
		case msg := <-fatal.ch:
			srv.Shutdown()
			return nil, fmt.Errorf("embedded nats: %s", msg)
		default:
		}
		if time.Now().After(deadline) {
			srv.Shutdown()
			return nil, errors.New("embedded nats: not ready after 30s")
		}
	}
	return &Embedded{srv: srv}, nil
}

// fatalCatcher is the embedded server's logger. The server reports what
// stops it from starting (a client port it cannot bind, JetStream that
// cannot open its store) only through its logger's Fatalf and then waits;
// without one it said nothing and startup waited out its whole timeout
// before a vague "not ready". Everything else the server logs is dropped,
// as before.
type fatalCatcher struct {
	once sync.Once
	ch   chan string
}

func (f *fatalCatcher) Fatalf(format string, v ...any) {
	f.once.Do(func() { f.ch <- fmt.Sprintf(format, v...) })
}
func (*fatalCatcher) Noticef(string, ...any) {}
func (*fatalCatcher) Warnf(string, ...any)   {}
func (*fatalCatcher) Errorf(string, ...any)  {}
func (*fatalCatcher) Debugf(string, ...any)  {}
func (*fatalCatcher) Tracef(string, ...any)  {}

// Connect returns an in-process client connection (no TCP on the hot path).
// With Users configured the server authenticates in-process clients too:
// pass the identity's option (natsauth.Keys.Option).
func (e *Embedded) Connect(name string, auth ...nats.Option) (*nats.Conn, error) {
	opts := append([]nats.Option{nats.InProcessServer(e.srv), nats.Name(name), nats.MaxReconnects(-1)}, auth...)
	return nats.Connect("", opts...)
}

// ClientURL is the TCP URL when listening, "" otherwise.
func (e *Embedded) ClientURL() string {
	if e.srv.Addr() == nil {
		return ""
	}
	return e.srv.ClientURL()
}

// Server exposes the server for tests and operations.
func (e *Embedded) Server() *server.Server { return e.srv }

// Shutdown stops the server and waits for it to finish.
func (e *Embedded) Shutdown() {
	e.srv.Shutdown()
	e.srv.WaitForShutdown()
}

// RemoteConfig connects to an external NATS cluster.
type RemoteConfig struct {
	URLs      string // comma-separated
	User      string
	Password  string
	Token     string
	CredsFile string
	NkeyFile  string // an nkey seed file (e.g. the embedded server's nats/kpitrail.nk)
	CAFile    string // TLS: trust this CA
	CertFile  string // TLS: client certificate (mutual TLS)
	KeyFile   string
	Name      string
}

// ConnectRemote dials an external cluster with the configured credentials.
func ConnectRemote(cfg RemoteConfig) (*nats.Conn, error) {
	if cfg.URLs == "" {
		return nil, errors.New("nats: no URL configured")
	}
	opts := []nats.Option{nats.Name(cfg.Name), nats.MaxReconnects(-1), nats.ReconnectWait(250 * time.Millisecond)}
	switch {
	case cfg.CredsFile != "":
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	case cfg.NkeyFile != "":
		o, err := nats.NkeyOptionFromSeed(cfg.NkeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats: %w", err)
		}
		opts = append(opts, o)
	case cfg.Token != "":
		opts = append(opts, nats.Token(cfg.Token))
	case cfg.User != "":
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Password))
	}
	if cfg.CAFile != "" || cfg.CertFile != "" {
		tc, err := tlsConfig(cfg)
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.Secure(tc))
	}
	nc, err := nats.Connect(cfg.URLs, opts...)
	if err != nil {
		return nil, fmt.Errorf("nats: connect %s: %w", cfg.URLs, err)
	}
	return nc, nil
}

func tlsConfig(cfg RemoteConfig) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("nats tls: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("nats tls: no certificate in %s", cfg.CAFile)
		}
		tc.RootCAs = pool
	}
	if cfg.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats tls: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
