package console

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Every answer of the console carries the policy that allows nothing from
// another origin and no inline script or style, whatever the answer is.
func TestContentSecurityPolicyOnEveryAnswer(t *testing.T) {
	e := newEnv(t)
	b := e.client()
	check := func(what string, a answer) {
		t.Helper()
		csp := a.header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "form-action 'self'",
			"frame-ancestors 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", what, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "http") {
			t.Errorf("%s: CSP %q allows too much", what, csp)
		}
		if a.header.Get("X-Content-Type-Options") != "nosniff" || a.header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: missing nosniff or frame denial: %v", what, a.header)
		}
	}
	check("redirect to sign-in", b.do("GET", "/console/board", nil))
	check("sign-in form", b.do("GET", "/console/login", nil))
	check("stylesheet", b.do("GET", "/console/static/console.css", nil))
	b.signIn(e.admin)
	for _, p := range []string{"/console/board", "/console/indicators/i2022-accidents", "/console/queues", "/console/admin", "/console/nope"} {
		a := b.do("GET", p, nil)
		check(p, a)
		// Nothing the policy would block is in the page: no inline script
		// or style, no style attribute, nothing from elsewhere.
		for _, bad := range []*regexp.Regexp{regexp.MustCompile(`<script>|<script [^>]*>[^<]`), regexp.MustCompile(`<style`),
			regexp.MustCompile(` style="`), regexp.MustCompile(`(src|href)="(https?:)?//`), regexp.MustCompile(` on[a-z]+="`)} {
			if m := bad.FindString(a.body); m != "" {
				t.Errorf("%s: the page has %q, which the policy forbids or is not ours", p, m)
			}
		}
		if a.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: a page with session data may be cached: %q", p, a.header.Get("Cache-Control"))
		}
	}
}

func TestSignInMakesAHardenedSessionAndSignOutEndsIt(t *testing.T) {
	e := newEnv(t)
	office := e.issue("考评办", "office")
	b := e.client()
	a := b.do("GET", "/console/indicators/i2022-accidents", nil)
	if a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/console/login?next=") {
		t.Fatalf("without a session: %d %s", a.status, a.header.Get("Location"))
	}
	b.do("GET", "/console/login", nil)
	// A sign-in form post without the form's own value is refused.
	if a := b.do("POST", "/console/login", url.Values{"token": {office}}); a.status != http.StatusForbidden {
		t.Fatalf("sign-in without its CSRF value: %d", a.status)
	}
	b.do("GET", "/console/login", nil)
	if a := b.do("POST", "/console/login", url.Values{"csrf": {b.csrf}, "token": {"kpt_wrong"}}); a.status != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %d", a.status)
	}
	// The redirect after sign-in never leaves the console.
	b.do("GET", "/console/login", nil)
	a = b.do("POST", "/console/login", url.Values{"csrf": {b.csrf}, "token": {office}, "next": {"//evil.example/x"}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/console/board" {
		t.Fatalf("sign-in redirect: %d %q", a.status, a.header.Get("Location"))
	}
	var cookie string
	for _, c := range a.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "kpitrail_session=") {
			cookie = c
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("session cookie %q lacks %s", cookie, want)
		}
	}
	if strings.Contains(cookie, office) || strings.Contains(a.header.Get("Location"), office) {
		t.Fatal("the token travels back to the browser")
	}
	page := b.do("GET", "/console/board", nil)
	if page.status != http.StatusOK || strings.Contains(page.body, office) {
		t.Fatalf("board: %d (token in page: %v)", page.status, strings.Contains(page.body, office))
	}
	if a := b.do("POST", "/console/logout", url.Values{"csrf": {b.csrf}}); a.status != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", a.status)
	}
	if a := b.do("GET", "/console/board", nil); a.status != http.StatusSeeOther {
		t.Fatalf("after sign-out the board answers %d", a.status)
	}
}

// Every write route refuses a post without the session's CSRF value, and
// one from another site even with it; nothing reaches the log.
func TestEveryPostNeedsTheSessionsCSRFValue(t *testing.T) {
	e := newEnv(t)
	b := e.client()
	b.signIn(e.admin)
	last := func() uint64 {
		p, err := e.fx.Store.LastPosition(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	before := last()
	posts := []string{"/console/logout", "/console/indicators/i2022-hitech-stock/figures", "/console/indicators/i2022-hitech-stock/corrections",
		"/console/tasks/t1/problems/p1/rectification", "/console/tasks/t1/problems/p1/close", "/console/import",
		"/console/admin/tokens", "/console/admin/tokens/x/revoke", "/console/jobs/j-0000000000000000/cancel"}
	// The figure's life: every review step, proposal decision and
	// warning explanation.
	for _, step := range []string{"figures/f1/submit", "figures/f1/approve", "figures/f1/return", "figures/f1/reopen",
		"proposals/p1/approve", "proposals/p1/reject", "warnings/explain"} {
		posts = append(posts, "/console/indicators/i2022-hitech-stock/"+step)
	}
	for _, p := range posts {
		for _, csrf := range []string{"", "00" + b.csrf[2:]} {
			a := b.do("POST", p, url.Values{"csrf": {csrf}, "key": {"0123456789abcdef0123456789abcdef"}, "value": {"1"}, "name": {"x"}, "role": {"analyst"}})
			if a.status != http.StatusForbidden {
				t.Errorf("POST %s with csrf %q: %d, want 403", p, csrf, a.status)
			}
		}
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/console/admin/tokens", strings.NewReader(url.Values{"csrf": {b.csrf}, "name": {"跨站"}, "role": {"analyst"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site post with the right value: %d", res.StatusCode)
	}
	if last() != before {
		t.Fatal("a refused post wrote to the log")
	}
	list, _ := e.toks.List(t.Context())
	if len(list) != 0 {
		t.Fatalf("a refused post issued a token: %v", list)
	}
}

// A token's expiry ends its console sessions at once: the session is
// younger than its idle and absolute bounds, yet the next page sends the
// reader to sign in, saying the token expired; a write is refused with
// 401; and the expired token cannot start a new session.
func TestATokensExpiryEndsItsConsoleSession(t *testing.T) {
	e := newEnv(t)
	token := e.issueFor(20*time.Minute, "区科委填报员", "reporter", "区科委")
	b := e.client()
	b.signIn(token)
	if a := b.do("GET", "/console/queues", nil); a.status != http.StatusOK {
		t.Fatalf("before the expiry: %d", a.status)
	}
	csrf := b.csrf
	e.skew.Store(int64(21 * time.Minute)) // past the token's life, within the session's 30-minute idle bound
	a := b.do("GET", "/console/queues", nil)
	loc := a.header.Get("Location")
	if a.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/login?next=") || !strings.Contains(loc, "ended=expired") {
		t.Fatalf("after the token expired: %d %s", a.status, loc)
	}
	login := b.do("GET", loc, nil)
	if login.status != http.StatusOK || !strings.Contains(login.body, "令牌已过期") {
		t.Fatalf("the sign-in page does not say why: %d\n%s", login.status, login.body)
	}
	// The session is gone, not merely refused: a write with its cookie
	// and CSRF value is refused as having no session.
	pos := e.lastPosition()
	w := b.do("POST", "/console/indicators/i2022-hitech-stock/figures", url.Values{"csrf": {csrf}, "key": {"0123456789abcdef0123456789abcdef"},
		"value": {"620"}, "quality": {"estimate"}, "source_kind": {"self_reported"}})
	if w.status != http.StatusUnauthorized || e.lastPosition() != pos {
		t.Fatalf("a write after the expiry: %d, log %d → %d", w.status, pos, e.lastPosition())
	}
	b.do("GET", "/console/login", nil)
	again := b.do("POST", "/console/login", url.Values{"csrf": {b.csrf}, "token": {token}})
	if again.status != http.StatusUnauthorized || !strings.Contains(again.body, "令牌已过期") {
		t.Fatalf("signing in with the expired token: %d\n%s", again.status, again.body)
	}
	// A token still alive signs in at the same instant.
	b.signIn(e.issue("考评办", "office"))
}
