package reliability

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const adminToken = "reliability-admin-token"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// kpitrailBinary builds cmd/kpitrail once per test binary.
func kpitrailBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "kpitrail-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "kpitrail")
		cmd := exec.Command("go", "build", "-o", binPath, "kpitrail/cmd/kpitrail")
		cmd.Stderr = os.Stderr
		buildErr = cmd.Run()
	})
	if buildErr != nil {
		t.Fatalf("build kpitrail: %v", buildErr)
	}
	return binPath
}

// server is one kpitrail serve process on a data directory.
type server struct {
	t    *testing.T
	bin  string
	data string
	addr string
	cmd  *exec.Cmd
	log  *bytes.Buffer
	// extra are more serve flags.
	extra []string
	// unready starts without waiting for /readyz (a server that must come
	// up refusing writes).
	unready bool
	// noBootstrap starts without KPITRAIL_ADMIN_TOKEN.
	noBootstrap bool
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startServer(t *testing.T, data string, args ...string) *server {
	s := &server{t: t, bin: kpitrailBinary(t), data: data, addr: freePort(t), extra: args}
	s.start()
	t.Cleanup(func() { s.kill() })
	return s
}

func (s *server) start() {
	s.t.Helper()
	s.log = &bytes.Buffer{}
	s.cmd = exec.Command(s.bin, append([]string{"serve", "--data", s.data, "--http", s.addr, "--rate", "0"}, s.extra...)...)
	s.cmd.Env = append(os.Environ(), "KPITRAIL_ADMIN_TOKEN="+adminToken)
	if s.noBootstrap {
		s.cmd.Env = append(os.Environ(), "KPITRAIL_ADMIN_TOKEN=")
	}
	s.cmd.Stdout, s.cmd.Stderr = &lockedWriter{w: s.log}, &lockedWriter{w: s.log}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	probe := "/readyz"
	if s.unready {
		probe = "/healthz"
	}
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		if r, err := http.Get("http://" + s.addr + probe); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("kpitrail did not become ready:\n%s", s.logText())
}

// lockedWriter lets the test read the log while the process writes it.
type lockedWriter struct{ w *bytes.Buffer }

var logMu sync.Mutex

func (l *lockedWriter) Write(p []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	return l.w.Write(p)
}

// logText is what the process logged so far.
func (s *server) logText() string {
	logMu.Lock()
	defer logMu.Unlock()
	return s.log.String()
}

// kill ends the process with SIGKILL: no shutdown code runs.
func (s *server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// stop ends the process gracefully.
func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			s.kill()
		}
		s.cmd = nil
	}
}

var client = &http.Client{Timeout: 10 * time.Second}

// call sends a JSON request; it returns the status (0 when the request
// failed, e.g. the process died mid-request) and the decoded body.
func (s *server) call(method, path, token string, body any, headers ...string) (int, map[string]any) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+s.addr+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func (s *server) must(want int, method, path, token string, body any, headers ...string) map[string]any {
	s.t.Helper()
	status, out := s.call(method, path, token, body, headers...)
	if status != want {
		s.t.Fatalf("%s %s: %d, want %d: %v\n%s", method, path, status, want, out, tail(s.logText(), 2000))
	}
	return out
}

// waitCaughtUp waits until the read models include the whole log.
func (s *server) waitCaughtUp(token string) {
	s.t.Helper()
	last := s.must(200, "GET", "/v1/events?after=0&limit=1", token, nil)["last"].(float64)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if s.must(200, "GET", "/v1/status", token, nil)["position"].(float64) >= last {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.t.Fatalf("read models did not catch up to %v", last)
}

// allEvents pages through /v1/events.
func (s *server) allEvents(token string) []map[string]any {
	var out []map[string]any
	after := 0.0
	for {
		page := s.must(200, "GET", fmt.Sprintf("/v1/events?after=%d&limit=1000", int(after)), token, nil)
		for _, e := range page["events"].([]any) {
			out = append(out, e.(map[string]any))
		}
		if page["next"].(float64) >= page["last"].(float64) {
			return out
		}
		after = page["next"].(float64)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return strings.TrimSpace(s)
}
