package natstest

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Embedded is a JetStream server running inside the test process. It is the
// cheapest server to start, but it can only be shut down gracefully; use
// RunProcess to test what survives a SIGKILL.
type Embedded struct {
	cfg      config
	storeDir string

	mu   sync.Mutex
	srv  *server.Server
	port int
}

// RunEmbedded starts an in-process JetStream server on a random port of
// 127.0.0.1 with its file store in a fresh t.TempDir(). The server is shut
// down when the test ends.
func RunEmbedded(t testing.TB, opts ...Option) *Embedded {
	t.Helper()
	e := &Embedded{cfg: newConfig(opts), storeDir: t.TempDir()}
	ports, err := freePorts(1)
	if err == nil {
		err = e.start(ports[0])
	}
	if err != nil {
		t.Fatalf("natstest: start embedded server: %v", err)
	}
	t.Cleanup(e.Shutdown)
	return e
}

func (e *Embedded) options(port int) (*server.Options, error) {
	o := &server.Options{
		ServerName: "natstest-embedded",
		Host:       "127.0.0.1",
		Port:       port,
		JetStream:  true,
		StoreDir:   e.storeDir,
		SyncAlways: !e.cfg.noSync,
		// Logging stays off: with a logger attached, a listen failure ends
		// in logger.Fatalf, which would exit the whole test binary.
		NoLog:  true,
		NoSigs: true,
	}
	o.Username, o.Password, o.Authorization = e.cfg.user, e.cfg.password, e.cfg.token
	if e.cfg.tlsEnabled() {
		tc, err := server.GenTLSConfig(&server.TLSConfigOpts{
			CertFile: e.cfg.tlsCert,
			KeyFile:  e.cfg.tlsKey,
		})
		if err != nil {
			return nil, err
		}
		o.TLS, o.TLSConfig, o.TLSTimeout = true, tc, 2
	}
	return o, nil
}

func (e *Embedded) start(port int) error {
	o, err := e.options(port)
	if err != nil {
		return err
	}
	s, err := server.NewServer(o)
	if err != nil {
		return err
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		s.WaitForShutdown()
		return fmt.Errorf("server on port %d not ready after 10s", port)
	}
	if !s.JetStreamEnabled() {
		s.Shutdown()
		s.WaitForShutdown()
		return fmt.Errorf("JetStream did not start")
	}
	e.mu.Lock()
	e.srv = s
	e.port = s.Addr().(*net.TCPAddr).Port
	e.mu.Unlock()
	return nil
}

// URL is the client URL, e.g. nats://127.0.0.1:41234 (tls:// with WithTLS).
// It changes only if Restart could not get the old port back.
func (e *Embedded) URL() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.cfg.scheme() + "://127.0.0.1:" + strconv.Itoa(e.port)
}

// Server is the running server, for tests that need its internals.
func (e *Embedded) Server() *server.Server {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.srv
}

// StoreDir is the JetStream store directory; it survives Restart.
func (e *Embedded) StoreDir() string { return e.storeDir }

// ClientOptions returns the nats.go options needed for the configured
// authentication and TLS.
func (e *Embedded) ClientOptions() []nats.Option { return e.cfg.clientOptions() }

// Connect opens a client connection that is closed when the test ends.
func (e *Embedded) Connect(t testing.TB, extra ...nats.Option) *nats.Conn {
	t.Helper()
	return connect(t, e.URL(), e.cfg, extra)
}

// Shutdown stops the server gracefully and waits for it to finish. It is
// safe to call more than once.
func (e *Embedded) Shutdown() {
	e.mu.Lock()
	s := e.srv
	e.mu.Unlock()
	if s == nil {
		return
	}
	s.Shutdown()
	s.WaitForShutdown()
}

// Restart shuts the server down (if it is running) and starts a new one on
// the same store directory, so JetStream recovers what the old one wrote.
// It reuses the old port unless something else took it meanwhile.
func (e *Embedded) Restart(t testing.TB) {
	t.Helper()
	e.Shutdown()
	e.mu.Lock()
	port := e.port
	e.mu.Unlock()
	// A server whose listen fails keeps retrying until its ready timeout
	// instead of reporting it, so probe the port first.
	if !portFree(port) {
		t.Logf("natstest: port %d taken, restarting on a new port", port)
		ports, err := freePorts(1)
		if err != nil {
			t.Fatalf("natstest: restart embedded server: %v", err)
		}
		port = ports[0]
	}
	if err := e.start(port); err != nil {
		t.Fatalf("natstest: restart embedded server: %v", err)
	}
}

func connect(t testing.TB, url string, cfg config, extra []nats.Option) *nats.Conn {
	t.Helper()
	opts := append(cfg.clientOptions(), extra...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("natstest: connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	return nc
}
