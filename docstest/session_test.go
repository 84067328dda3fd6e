package docstest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The addresses the documents use. A session runs on free ports and
// rewrites them: in commands to its own, in what is printed back to these.
const (
	docHTTP = "127.0.0.1:8080"
	docNATS = "127.0.0.1:4222"
)

// natsVersion is the nats CLI scripts/setup installs; its output is what
// docs/intake.md shows.
const natsVersion = "v0.5.0"

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// kpitrailBinary builds cmd/kpitrail once per test binary: what the
// README's `go build -o kpitrail ./cmd/kpitrail` makes.
func kpitrailBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binDir, buildErr = os.MkdirTemp("", "kpitrail-docs-"); buildErr != nil {
			return
		}
		out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, "kpitrail"), "kpitrail/cmd/kpitrail").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build kpitrail: %v", buildErr)
	}
	return filepath.Join(binDir, "kpitrail")
}

// natsCLI finds the pinned nats CLI: on PATH, or where go install put it.
func natsCLI(t *testing.T) string {
	t.Helper()
	var candidates []string
	if p, err := exec.LookPath("nats"); err == nil {
		candidates = append(candidates, p)
	}
	for _, v := range []string{"GOBIN", "GOPATH"} {
		out, err := exec.Command("go", "env", v).Output()
		if dir := strings.TrimSpace(string(out)); err == nil && dir != "" {
			if v == "GOPATH" {
				dir = filepath.Join(strings.Split(dir, string(os.PathListSeparator))[0], "bin")
			}
			candidates = append(candidates, filepath.Join(dir, "nats"))
		}
	}
	for _, p := range candidates {
		if out, err := exec.Command(p, "--version").CombinedOutput(); err == nil && strings.TrimSpace(string(out)) == natsVersion {
			return p
		}
	}
	t.Fatalf("the nats CLI %s is not installed (looked at %v); scripts/setup installs it: go install github.com/nats-io/natscli/nats@%s",
		natsVersion, candidates, natsVersion)
	return ""
}

// step is one command a document shows, with the output it shows.
type step struct {
	line int
	cmd  string
	want []string
}

// consoleSteps reads the ```console blocks of md after the heading start
// (up to the next heading of that level; the whole file when start is
// empty). In a block, "$ " starts a command, a command line ending in "\"
// continues on the next line, and the lines up to the next command are
// what it prints.
func consoleSteps(t *testing.T, md, start string) []step {
	t.Helper()
	lines := strings.Split(md, "\n")
	from, to := 0, len(lines)
	if start != "" {
		from = -1
		level := strings.Fields(start)[0] + " "
		for i, l := range lines {
			if from < 0 && l == start {
				from = i
			} else if from >= 0 && strings.HasPrefix(l, level) {
				to = i
				break
			}
		}
		if from < 0 {
			t.Fatalf("no heading %q", start)
		}
	}
	var steps []step
	in := false
	for i := from; i < to; i++ {
		l := lines[i]
		switch {
		case !in && strings.TrimSpace(l) == "```console":
			in = true
		case in && strings.TrimSpace(l) == "```":
			in = false
		case in && strings.HasPrefix(l, "$ "):
			s := step{line: i + 1, cmd: strings.TrimPrefix(l, "$ ")}
			for strings.HasSuffix(s.cmd, `\`) && i+1 < to {
				i++
				s.cmd = strings.TrimSuffix(s.cmd, `\`) + " " + strings.TrimSpace(lines[i])
			}
			steps = append(steps, s)
		case in && len(steps) > 0:
			steps[len(steps)-1].want = append(steps[len(steps)-1].want, l)
		}
	}
	return steps
}

// resolver fills a placeholder such as <the token printed above> from
// what the previous command printed, as the reader would.
type resolver func(last string) (string, error)

// The token is on its own line of `token issue`'s output (or its JSON).
var tokenRe = regexp.MustCompile(`"?token"?:?\s+"?(kpt_[0-9a-f]{64})`)

// tokenAbove is the token `kpitrail token issue` printed.
func tokenAbove(last string) (string, error) {
	m := tokenRe.FindStringSubmatch(last)
	if m == nil {
		return "", fmt.Errorf("no token in %q", last)
	}
	return m[1], nil
}

// session runs one document's commands in a directory of their own, with
// a clean environment, as a reader at a shell would.
type session struct {
	t        *testing.T
	file     string
	dir      string
	env      map[string]string
	http     string
	nats     string
	resolve  map[string]resolver
	last     string
	commands int
}

func newSession(t *testing.T, file string, resolve map[string]resolver) *session {
	s := &session{t: t, file: file, dir: t.TempDir(), env: map[string]string{}, http: freeAddr(t), nats: freeAddr(t), resolve: resolve}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "KPITRAIL_") && !strings.HasPrefix(k, "NATS_") {
			s.env[k] = v
		}
	}
	s.env["PATH"] = filepath.Dir(natsCLI(t)) + string(os.PathListSeparator) + s.env["PATH"]
	// The nats CLI reads its contexts from here: none of the machine's.
	s.env["XDG_CONFIG_HOME"] = filepath.Join(s.dir, ".config")
	// The nats CLI waits 5 s for a reply; a machine busy with the rest of
	// the suite may take longer, which is not what the page is about.
	s.env["NATS_TIMEOUT"] = "30s"
	// The defaults, moved to the session's port.
	s.env["KPITRAIL_HTTP"] = s.http
	s.env["KPITRAIL_SERVER"] = "http://" + s.http
	return s
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func (s *session) environ() []string {
	out := make([]string, 0, len(s.env))
	for k, v := range s.env {
		out = append(out, k+"="+v)
	}
	return out
}

var placeholderRe = regexp.MustCompile(`<[^<>]+>`)

// prepare fills the placeholders and moves the addresses.
func (s *session) prepare(st step) string {
	s.t.Helper()
	cmd := placeholderRe.ReplaceAllStringFunc(st.cmd, func(p string) string {
		r, ok := s.resolve[p]
		if !ok {
			s.t.Fatalf("%s:%d: the placeholder %s is not one this test knows how to fill", s.file, st.line, p)
		}
		v, err := r(s.last)
		if err != nil {
			s.t.Fatalf("%s:%d: %s: %v", s.file, st.line, p, err)
		}
		return v
	})
	return strings.NewReplacer(docHTTP, s.http, docNATS, s.nats).Replace(cmd)
}

// run runs every step in order.
func (s *session) run(steps []step) {
	s.t.Helper()
	for _, st := range steps {
		s.step(st)
		if s.t.Failed() {
			return
		}
	}
}

func (s *session) step(st step) {
	s.t.Helper()
	cmd := s.prepare(st)
	// What the shell would run, without a trailing comment.
	bare, _, _ := strings.Cut(cmd, " #")
	bare = strings.TrimSpace(bare)
	word := strings.Fields(bare)[0]
	switch {
	case word == "scripts/setup":
		// CI runs it before the tests; it must be there to run.
		if fi, err := os.Stat("../scripts/setup"); err != nil || fi.Mode()&0o111 == 0 {
			s.t.Fatalf("%s:%d: scripts/setup is not an executable file (%v)", s.file, st.line, err)
		}
		return
	case word == "go" && strings.HasPrefix(bare, "go test "):
		return // what CI runs, this test among it
	case word == "go":
		if bare != "go build -o kpitrail ./cmd/kpitrail" {
			s.t.Fatalf("%s:%d: %q: the test builds kpitrail as `go build -o kpitrail ./cmd/kpitrail` does; teach it this one", s.file, st.line, cmd)
		}
		if err := os.Symlink(kpitrailBinary(s.t), filepath.Join(s.dir, "kpitrail")); err != nil {
			s.t.Fatal(err)
		}
		return
	case word == "export":
		for _, kv := range strings.Fields(bare)[1:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				s.t.Fatalf("%s:%d: cannot read %q", s.file, st.line, kv)
			}
			s.env[k] = strings.Trim(v, `"'`)
		}
		return
	case strings.Contains(cmd, "kpitrail serve"):
		s.serve(st, cmd)
		return
	case word != "./kpitrail" && word != "nats" && word != "sqlite3":
		s.t.Fatalf("%s:%d: %q runs %s, which this test does not know; teach it", s.file, st.line, cmd, word)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "bash", "-c", cmd)
	c.Dir, c.Env = s.dir, s.environ()
	out, err := c.CombinedOutput()
	s.commands++
	if err != nil {
		s.t.Fatalf("%s:%d: `%s` failed: %v\n%s", s.file, st.line, st.cmd, err, out)
	}
	if len(bytes.TrimSpace(out)) == 0 {
		s.t.Fatalf("%s:%d: `%s` printed nothing", s.file, st.line, st.cmd)
	}
	s.last = string(out)
	if missing := s.missing(st.want, s.last); len(missing) > 0 {
		s.t.Errorf("%s:%d: `%s` does not print what the document shows.\nnot printed:\n  %s\nprinted:\n%s",
			s.file, st.line, st.cmd, strings.Join(missing, "\n  "), s.last)
	}
}

// serve starts a server in the background, in a process group of its own
// so the test ends it and whatever bash started, and waits until it is
// ready and has logged what the document shows.
func (s *session) serve(st step, cmd string) {
	s.t.Helper()
	var log lockedBuffer
	c := exec.Command("bash", "-c", cmd)
	c.Dir, c.Env = s.dir, s.environ()
	c.Stdout, c.Stderr = &log, &log
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		s.t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = c.Wait(); close(exited) }()
	s.t.Cleanup(func() {
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		select {
		case <-exited:
			s.t.Fatalf("%s:%d: `%s` ended:\n%s", s.file, st.line, st.cmd, log.String())
		default:
		}
		missing := s.missing(st.want, log.String())
		if len(missing) == 0 && ready(s.http) {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s:%d: `%s` is not ready or has not logged:\n  %s\nlog:\n%s", s.file, st.line, st.cmd,
				strings.Join(missing, "\n  "), log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ready(addr string) bool {
	res, err := (&http.Client{Timeout: time.Second}).Get("http://" + addr + "/readyz")
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// missing lists the lines the document shows that the output lacks, both
// normalised: what differs from run to run (times, tokens, ids, the
// session's ports, spacing) is masked, and "…" stands for lines left out.
func (s *session) missing(want []string, out string) []string {
	out = strings.NewReplacer(s.http, docHTTP, s.nats, docNATS).Replace(out)
	have := map[string]int{}
	for _, l := range strings.Split(out, "\n") {
		have[normalize(l)]++
	}
	var missing []string
	for _, w := range want {
		n := normalize(w)
		if n == "" || n == "…" {
			continue
		}
		if have[n] == 0 {
			missing = append(missing, w)
			continue
		}
		have[n]--
	}
	return missing
}

var masks = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`^\d\d:\d\d:\d\d ?`), ""}, // the nats CLI's clock
	{regexp.MustCompile(`rtt \S+`), "rtt …"},
	{regexp.MustCompile(`kpt_[0-9a-f]{64}`), "kpt_…"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`), "<time>"},
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), "<uuid>"},
	{regexp.MustCompile(`\b[0-9a-f]{16}\b`), "<hex>"},
	{regexp.MustCompile(`\s+`), " "},
}

func normalize(l string) string {
	for _, m := range masks {
		l = m.re.ReplaceAllString(l, m.with)
	}
	return strings.TrimSpace(l)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
