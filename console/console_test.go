package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kpitrail/app"
	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/internal/demotest"
	"kpitrail/jobs"
)

// A console over the demo on a real JetStream and real SQLite files, and
// an auth.db of its own, served by httptest on a real socket.
type env struct {
	t     *testing.T
	fx    *demotest.Fixture
	srv   *httptest.Server
	toks  *auth.Tokens
	admin string
	jobs  *jobs.Manager
	// skew moves the token store's clock (and so the sessions') ahead.
	skew atomic.Int64
}

const adminToken = "console-test-admin"

func newEnv(t *testing.T) *env {
	t.Helper()
	fx := demotest.Start(t)
	e := &env{t: t, fx: fx, admin: adminToken}
	toks, err := auth.OpenTokens(filepath.Join(t.TempDir(), "auth.db"), auth.TokenConfig{AdminToken: adminToken,
		Now: func() time.Time { return time.Now().Add(time.Duration(e.skew.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { toks.Close() })
	sessions, err := toks.Sessions(auth.SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	e.jobs = jobs.New(jobs.Limits{})
	t.Cleanup(e.jobs.Close)
	c := New(Config{Service: fx.Service, Tokens: toks, Sessions: sessions, Reads: fx.Live, Waiter: fx.Live,
		Events: fx.Store, Chains: fx.Store, Keyring: fx.Store.Keyring(), Jobs: e.jobs,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e.srv = httptest.NewServer(c)
	t.Cleanup(e.srv.Close)
	e.toks = toks
	return e
}

func (e *env) issue(name string, role auth.Role, deps ...string) string {
	e.t.Helper()
	return e.issueFor(0, name, role, deps...)
}

// issueFor issues a token that lives ttl (0: the server's default).
func (e *env) issueFor(ttl time.Duration, name string, role auth.Role, deps ...string) string {
	e.t.Helper()
	is, err := e.toks.Issue(context.Background(), auth.Principal{Name: "admin", Role: auth.RoleAdmin},
		auth.IssueRequest{Name: name, Role: role, Departments: deps, TTL: ttl})
	if err != nil {
		e.t.Fatal(err)
	}
	return is.Token
}

// browserish is a client with a cookie jar that follows no redirects, so
// a test sees each answer.
type browserish struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) client() *browserish {
	jar, _ := cookiejar.New(nil)
	return &browserish{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (b *browserish) do(method, path string, form url.Values) answer {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.srv.URL+path, body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, header: res.Header, body: string(raw)}
	if m := csrfField.FindStringSubmatch(a.body); m != nil {
		b.csrf = m[1]
	}
	return a
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func (b *browserish) signIn(token string) answer {
	b.e.t.Helper()
	b.do("GET", "/console/login", nil)
	a := b.do("POST", "/console/login", url.Values{"csrf": {b.csrf}, "token": {token}, "next": {"/console/board"}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/console/board" {
		b.e.t.Fatalf("sign-in: %d %s", a.status, a.header.Get("Location"))
	}
	b.do("GET", "/console/board", nil) // picks up the session's CSRF value
	return a
}

func (e *env) lastPosition() uint64 {
	e.t.Helper()
	p, err := e.fx.Store.LastPosition(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// exec runs commands as the demo's office through the command service
// (the real matrix and rules) and waits until the read models hold them.
func (e *env) exec(key string, cmds ...domain.Command) {
	e.t.Helper()
	ctx := auth.WithPrincipal(context.Background(), demotest.Office)
	for i, cmd := range cmds {
		meta := domain.Meta{Actor: demotest.Office.Actor(), ActorTokenID: demotest.Office.TokenID,
			CommandID: key + "-" + strconv.Itoa(i), Source: "test"}
		res, err := e.fx.Service.Execute(ctx, meta, cmd, app.Options{})
		if err != nil {
			e.t.Fatal(err)
		}
		if err := e.fx.Live.Wait(ctx, res.Position); err != nil {
			e.t.Fatal(err)
		}
	}
}

// reopenYear is the office unlocking a frozen year, with its reason, as it
// must before anything of the year changes (rule year_frozen).
func (e *env) reopenYear(year int, reason string) {
	e.t.Helper()
	e.exec("reopen-"+strconv.Itoa(year), domain.ReopenYear{Year: year, Reason: reason})
}
