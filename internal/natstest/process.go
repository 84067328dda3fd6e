package natstest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	processReadyTimeout = 10 * time.Second
	clusterReadyTimeout = 30 * time.Second
	stopTimeout         = 10 * time.Second
	startAttempts       = 3
)

// Process is a nats-server running as a child process, so tests can
// SIGKILL it and check what an fsynced JetStream store keeps.
type Process struct {
	bin      string
	cfg      config
	name     string
	dir      string
	storeDir string

	clusterName string
	clusterPort int // 0 for a standalone server
	routes      []string
	readyWithin time.Duration

	mu   sync.Mutex
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed once the current child has exited
}

// RunProcess starts the pinned nats-server binary (see BuildServerBinary) on
// a free port of 127.0.0.1 with JetStream storing under t.TempDir(), and
// returns once JetStream answers. The process is killed when the test ends.
func RunProcess(t testing.TB, opts ...Option) *Process {
	t.Helper()
	bin := BuildServerBinary(t)
	p := &Process{
		bin:         bin,
		cfg:         newConfig(opts),
		name:        "natstest",
		dir:         t.TempDir(),
		readyWithin: processReadyTimeout,
	}
	p.storeDir = filepath.Join(p.dir, "store")
	p.cleanupWith(t)

	var err error
	for attempt := 0; attempt < startAttempts; attempt++ {
		var ports []int
		if ports, err = freePorts(1); err != nil {
			break
		}
		if err = p.start(ports[0]); err != nil {
			break
		}
		if err = p.waitReady(time.Now().Add(p.readyWithin)); !errors.Is(err, errExited) {
			break
		}
		// Ports are only reserved by closing a probe listener, so another
		// process can grab one before the server binds it.
	}
	if err != nil {
		t.Fatalf("natstest: start nats-server: %v", err)
	}
	return p
}

func (p *Process) cleanupWith(t testing.TB) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("natstest: tail of %s log:\n%s", p.name, p.logTail(4096))
		}
		p.Kill()
	})
}

var errExited = errors.New("nats-server exited")

func (p *Process) logPath() string { return filepath.Join(p.dir, "nats-server.log") }

func (p *Process) configText(port int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "server_name: %q\n", p.name)
	fmt.Fprintf(&b, "listen: %q\n", hostPort(port))
	b.WriteString("jetstream {\n")
	fmt.Fprintf(&b, "  store_dir: %q\n", p.storeDir)
	if !p.cfg.noSync {
		// Only settable in a config file; the command line has no flag.
		b.WriteString("  sync_interval: always\n")
	}
	b.WriteString("}\n")
	switch {
	case p.cfg.user != "":
		fmt.Fprintf(&b, "authorization {\n  user: %q\n  password: %q\n}\n", p.cfg.user, p.cfg.password)
	case p.cfg.token != "":
		fmt.Fprintf(&b, "authorization {\n  token: %q\n}\n", p.cfg.token)
	}
	if p.cfg.tlsEnabled() {
		fmt.Fprintf(&b, "tls {\n  cert_file: %q\n  key_file: %q\n  timeout: 2\n}\n", p.cfg.tlsCert, p.cfg.tlsKey)
	}
	if p.clusterPort != 0 {
		b.WriteString("cluster {\n")
		fmt.Fprintf(&b, "  name: %q\n", p.clusterName)
		fmt.Fprintf(&b, "  listen: %q\n", hostPort(p.clusterPort))
		b.WriteString("  routes: [\n")
		for _, r := range p.routes {
			fmt.Fprintf(&b, "    %q\n", r)
		}
		b.WriteString("  ]\n}\n")
	}
	return b.String()
}

// start launches the child without waiting for it to be ready, so cluster
// nodes can come up together and find each other.
func (p *Process) start(port int) error {
	conf := filepath.Join(p.dir, "nats-server.conf")
	if err := os.WriteFile(conf, []byte(p.configText(port)), 0o600); err != nil {
		return err
	}
	// Appending keeps the history of earlier runs for post-mortems.
	logf, err := os.OpenFile(p.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "=== natstest: starting %s on port %d\n", p.name, port)

	cmd := exec.Command(p.bin, "-c", conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	setParentDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()

	p.mu.Lock()
	p.port, p.cmd, p.done = port, cmd, done
	p.mu.Unlock()
	return nil
}

// waitReady returns once this server answers a JetStream account info
// request, which in a cluster also means a meta leader has been elected.
func (p *Process) waitReady(deadline time.Time) error {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	url := p.URL()
	var lastErr error
	for {
		select {
		case <-done:
			return fmt.Errorf("%w during startup: %s", errExited, p.logTail(2048))
		default:
		}
		if lastErr = probeJetStream(url, p.cfg); lastErr == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready: %v\n%s", url, lastErr, p.logTail(2048))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func probeJetStream(url string, cfg config) error {
	opts := append(cfg.clientOptions(), nats.Timeout(time.Second), nats.MaxReconnects(0))
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = js.AccountInfo(ctx)
	return err
}

// URL is the client URL, e.g. nats://127.0.0.1:41234 (tls:// with WithTLS).
func (p *Process) URL() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfg.scheme() + "://" + hostPort(p.port)
}

// Name is the server name, which JetStream reports as a stream leader.
func (p *Process) Name() string { return p.name }

// StoreDir is the JetStream store directory; it survives Restart.
func (p *Process) StoreDir() string { return p.storeDir }

// Pid is the process id of the most recently started child.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Running reports whether the child is still alive.
func (p *Process) Running() bool {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// ClientOptions returns the nats.go options needed for the configured
// authentication and TLS.
func (p *Process) ClientOptions() []nats.Option { return p.cfg.clientOptions() }

// Connect opens a client connection that is closed when the test ends.
func (p *Process) Connect(t testing.TB, extra ...nats.Option) *nats.Conn {
	t.Helper()
	return connect(t, p.URL(), p.cfg, extra)
}

// Kill sends SIGKILL, as a crash or power cut would end the server, and
// waits for the process to be gone. It does nothing if it is not running.
func (p *Process) Kill() {
	p.signalAndWait(os.Kill, 0)
}

// Stop sends SIGTERM for a graceful shutdown and waits for the process to
// exit, killing it if that takes longer than 10 s.
func (p *Process) Stop() {
	p.signalAndWait(syscall.SIGTERM, stopTimeout)
}

func (p *Process) signalAndWait(sig os.Signal, grace time.Duration) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	if err := cmd.Process.Signal(sig); err != nil {
		// Signals other than kill are unsupported on some platforms.
		_ = cmd.Process.Kill()
	}
	if grace > 0 {
		select {
		case <-done:
			return
		case <-time.After(grace):
			_ = cmd.Process.Kill()
		}
	}
	<-done
}

// Restart stops the server if it is still running (gracefully; call Kill
// first to simulate a crash) and starts it again with the same store
// directory, port and, in a cluster, the same cluster port and routes. It
// returns once JetStream answers on this node. Should the client port have
// been taken meanwhile, a new one is used and URL changes.
func (p *Process) Restart(t testing.TB) {
	t.Helper()
	p.Stop()
	p.mu.Lock()
	port := p.port
	p.mu.Unlock()
	err := p.start(port)
	if err == nil {
		err = p.waitReady(time.Now().Add(p.readyWithin))
	}
	if errors.Is(err, errExited) {
		t.Logf("natstest: %s did not come back on port %d, trying a new port: %v", p.name, port, err)
		var ports []int
		if ports, err = freePorts(1); err == nil {
			if err = p.start(ports[0]); err == nil {
				err = p.waitReady(time.Now().Add(p.readyWithin))
			}
		}
	}
	if err != nil {
		t.Fatalf("natstest: restart %s: %v", p.name, err)
	}
}

func (p *Process) logTail(n int64) string {
	f, err := os.Open(p.logPath())
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err.Error()
	}
	off := fi.Size() - n
	if off < 0 {
		off = 0
	}
	buf := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil {
		return err.Error()
	}
	return string(buf)
}

func hostPort(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}
