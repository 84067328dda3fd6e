package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The console's tests drive a real Chromium (Debian's chromium package,
// installed by scripts/setup) against a real serve. One browser serves
// every test of the package; each signed-in user gets a browser context
// of its own (its own cookies), as two people on two machines would.
//
// Without a browser the tests are skipped, unless KPITRAIL_REQUIRE_BROWSER
// is set, as CI sets it: there a missing browser is a failure.

var shared struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

// chromiumPath finds the browser: $KPITRAIL_CHROMIUM, else Debian's.
func chromiumPath() (string, error) {
	if p := os.Getenv("KPITRAIL_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no chromium on PATH (scripts/setup installs Debian's chromium)")
}

func browser(t *testing.T) context.Context {
	t.Helper()
	shared.once.Do(func() {
		path, err := chromiumPath()
		if err != nil {
			shared.err = err
			return
		}
		dir, err := os.MkdirTemp("", "kpitrail-chromium-*")
		if err != nil {
			shared.err = err
			return
		}
		// The flags that keep a headless Chromium to itself: no GPU, no
		// QUIC, no first-run or sync or update traffic, a fresh profile.
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
			chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("lang", "zh-CN"),
			chromedp.WindowSize(1280, 900), chromedp.UserDataDir(dir))
		ctx, cancelCtx := chromedp.NewContext(alloc)
		shared.ctx = ctx
		shared.cancel = func() {
			cancelCtx()
			cancelAlloc()
			os.RemoveAll(dir)
		}
		// Start it now: browser contexts are made from a running browser.
		shared.err = chromedp.Do(ctx, chromedp.Navigate("about:blank"))
	})
	if shared.err != nil {
		if os.Getenv("KPITRAIL_REQUIRE_BROWSER") != "" {
			t.Fatalf("browser tests are required here: %v", shared.err)
		}
		t.Skipf("no browser: %v", shared.err)
	}
	return shared.ctx
}

func stopBrowser() {
	if shared.cancel != nil {
		shared.cancel()
	}
}

// pageLog records, for one browser context, every request its pages make
// and everything they write to the console, so a test can say no request
// left the server's origin and nothing went wrong.
type pageLog struct {
	mu       sync.Mutex
	requests []string
	problems []string
	// allowed are URLs a test expects to be refused (a 403 the browser
	// logs as a failed load): not a console error of the page.
	allowed []string
}

func (l *pageLog) listen(ev any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		l.requests = append(l.requests, e.Request.URL)
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
			l.problems = append(l.problems, fmt.Sprintf("console.%s", e.Type))
		}
	case *runtime.EventExceptionThrown:
		l.problems = append(l.problems, "exception: "+e.ExceptionDetails.Text)
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
			for _, a := range l.allowed {
				if e.Entry.Source == log.EntrySourceNetwork && strings.Contains(e.Entry.URL, a) {
					return
				}
			}
			l.problems = append(l.problems, fmt.Sprintf("%s %s: %s %s", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL))
		}
	}
}

func (l *pageLog) allow(url string) {
	l.mu.Lock()
	l.allowed = append(l.allowed, url)
	l.mu.Unlock()
}

// check fails the test for a request outside origin or a console problem.
func (l *pageLog) check(t *testing.T, origin string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.requests) == 0 {
		t.Error("no request was seen: the network listener is not working")
	}
	for _, u := range l.requests {
		if !strings.HasPrefix(u, origin+"/") && !strings.HasPrefix(u, "about:") && !strings.HasPrefix(u, "data:") {
			t.Errorf("a page requested %s, outside %s", u, origin)
		}
	}
	for _, p := range l.problems {
		t.Errorf("browser console: %s", p)
	}
}

// browserUser is one person at a browser: a browser context of its own.
type browserUser struct {
	t    *testing.T
	ctx  context.Context
	log  *pageLog
	base string
}

func newUser(t *testing.T, base string) *browserUser {
	t.Helper()
	l := &pageLog{}
	ctx, cancel := chromedp.NewContext(browser(t), chromedp.WithNewBrowserContext(), chromedp.WithListener(l.listen))
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	return &browserUser{t: t, ctx: ctx, log: l, base: base}
}

func (u *browserUser) do(actions ...chromedp.Action[chromedp.Void]) {
	u.t.Helper()
	if err := chromedp.Do(u.ctx, actions...); err != nil {
		u.t.Fatal(err)
	}
}

// open navigates and waits for an element of the page.
func (u *browserUser) open(path, waitFor string) {
	u.t.Helper()
	u.do(chromedp.Navigate(u.base+path), chromedp.WaitVisible(chromedp.CSS(waitFor)))
}

func (u *browserUser) text(css string) string {
	u.t.Helper()
	s, err := chromedp.Run(u.ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		u.t.Fatalf("text of %s: %v", css, err)
	}
	return s
}

func eval[T any](u *browserUser, js string, opts ...chromedp.EvaluateOption) T {
	u.t.Helper()
	v, err := chromedp.Run(u.ctx, chromedp.Evaluate[T](js, opts...))
	if err != nil {
		u.t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// signIn types the token into the sign-in form, as a person would.
func (u *browserUser) signIn(token string) {
	u.t.Helper()
	u.do(chromedp.Navigate(u.base+"/console/board"), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), token), chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.ID("board")))
	if loc, _ := chromedp.Run(u.ctx, chromedp.Location()); strings.Contains(loc, token) {
		u.t.Fatalf("the token is in the URL: %s", loc)
	}
}

// screenshot keeps a picture of the page for the README, when
// KPITRAIL_SCREENSHOTS names a directory (docs/screenshots for the
// committed ones); otherwise into the test's temporary directory.
func (u *browserUser) screenshot(name string) {
	u.t.Helper()
	dir := os.Getenv("KPITRAIL_SCREENSHOTS")
	if dir == "" {
		dir = u.t.TempDir()
	}
	// The viewport, not the whole page: what a reader sees first, and
	// a small file.
	buf, err := chromedp.Run(u.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		u.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		u.t.Fatal(err)
	}
}
