package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// selfCheckTitles reads the 自查内容（专项任务） column of a self-check
// table answer.
func selfCheckTitles(t *testing.T, r response) []string {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("self-check table: %d %s", r.Status, r.Body)
	}
	book, err := excelize.OpenReader(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	defer book.Close()
	rows, err := book.GetRows(book.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, row := range rows {
		if len(row) > 1 {
			out = append(out, row[1])
		}
	}
	return out
}

// fetch is a console GET that keeps the status (the client follows
// redirects, as a browser does).
func (cc *consoleClient) fetch(path string) response {
	cc.t.Helper()
	res, err := cc.c.Get(cc.s.base + path)
	if err != nil {
		cc.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// consolePage reads one console page about a fixture and says whether the
// reader saw the fixture there.
type consolePage struct {
	name string
	read func(t *testing.T, cc *consoleClient, x readFixture) bool
}

func consolePages(asOf string, eventPos func(readFixture) uint64) []consolePage {
	// A page of one task or indicator: shown, or hidden exactly as a
	// missing one is (the same status and, ids aside, the same page).
	one := func(path string) func(*testing.T, *consoleClient, readFixture) bool {
		return func(t *testing.T, cc *consoleClient, x readFixture) bool {
			p := strings.NewReplacer("{task}", x.task, "{ind}", x.indicator, "{as_of}", asOf).Replace(path)
			r := cc.fetch(p)
			if r.Status == http.StatusOK {
				return true
			}
			missing := strings.NewReplacer("{task}", "no-such-task", "{ind}", "no-such-ind", "{as_of}", asOf).Replace(path)
			m := cc.fetch(missing)
			got := strings.NewReplacer(x.task, "no-such-task", x.indicator, "no-such-ind").Replace(string(r.Body))
			if r.Status != http.StatusNotFound || m.Status != http.StatusNotFound || got != string(m.Body) {
				t.Fatalf("%s: hidden as %d\n%s\na missing one is %d\n%s", p, r.Status, r.Body, m.Status, m.Body)
			}
			return false
		}
	}
	// A page that lists tasks: whether it links to the fixture's task.
	links := func(path string) func(*testing.T, *consoleClient, readFixture) bool {
		return func(t *testing.T, cc *consoleClient, x readFixture) bool {
			p := strings.NewReplacer("{as_of}", asOf).Replace(path)
			r := cc.fetch(p)
			if r.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", p, r.Status, r.Body)
			}
			return regexp.MustCompile(`href="/console/tasks/` + regexp.QuoteMeta(x.task) + `[?"#]`).Match(r.Body)
		}
	}
	return []consolePage{
		{"task", one("/console/tasks/{task}")},
		{"task as of", one("/console/tasks/{task}?as_of={as_of}")},
		{"indicator", one("/console/indicators/{ind}")},
		{"indicator as of", one("/console/indicators/{ind}?as_of={as_of}")},
		{"audit trail", one("/console/indicators/{ind}/audit")},
		{"compare", one("/console/indicators/{ind}/compare")},
		{"self-check table of the task", one("/console/tasks/{task}/selfcheck.xlsx")},
		{"board", links("/console/board")},
		{"board as of", links("/console/board?as_of={as_of}")},
		{"queues", links("/console/queues")},
		{"self-check table", func(t *testing.T, cc *consoleClient, x readFixture) bool {
			return slices.Contains(selfCheckTitles(t, cc.fetch("/console/board/selfcheck.xlsx?year=2022")), "安全生产 "+x.task)
		}},
		{"raw event", func(t *testing.T, cc *consoleClient, x readFixture) bool {
			pos := eventPos(x)
			r := cc.fetch(fmt.Sprintf("/console/events/%d", pos))
			if r.Status == http.StatusOK {
				return strings.Contains(string(r.Body), x.task)
			}
			if r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), fmt.Sprintf("the log has no message at position %d", pos)) ||
				strings.Contains(string(r.Body), x.task) {
				t.Fatalf("event %d: hidden as %d %s", pos, r.Status, r.Body)
			}
			return false
		}},
	}
}

// TestConsoleReadScope reads every console page as a department's reporter
// and as the office, on a task of the reporter's department, one it
// co-owns and another department's, on a real serve: the reporter sees
// its own and co-owned tasks and nothing of the other (hidden as missing),
// unless the server runs with --reporter-reads all; the office sees all.
// The pages ask the API's scope functions, so the API's read matrix
// (TestReadAuthorizationMatrix) and this one hold the same rule.
func TestConsoleReadScope(t *testing.T) {
	for _, mode := range []string{"own", "all"} {
		t.Run("reporter-reads-"+mode, func(t *testing.T) {
			s := startConfiguredServer(t, func(c *ServeConfig) { c.ReporterReads = mode })
			f := &authzFixture{s: s, office: s.token("考评办", "office"), second: s.token("考评办复核", "office")}
			fixtures := map[string]readFixture{
				"own":      f.readable("区应急局"),
				"co-owned": f.readable("区住建委", "区应急局"),
				"other":    f.readable("区生态环境局", "区住建委"),
			}
			waitForReadModels(t, s)
			// Where each fixture's task was registered in the log.
			registered := map[string]uint64{}
			for _, e := range s.mustDo(http.StatusOK, "GET", "/v1/events?limit=1000", f.office, nil)["events"].([]any) {
				o := e.(map[string]any)
				if o["name"] == "task.registered" {
					registered[o["aggregate_id"].(string)] = uint64(o["position"].(float64))
				}
			}
			asOf := url.QueryEscape(time.Now().UTC().Format(time.RFC3339Nano))
			pages := consolePages(asOf, func(x readFixture) uint64 { return registered[x.task] })
			readers := map[string]*consoleClient{
				"reporter": newConsoleClient(t, s, s.token("区应急局填报员", "reporter", "区应急局")),
				"office":   newConsoleClient(t, s, f.office),
			}
			for role, cc := range readers {
				for which, x := range fixtures {
					want := !(role == "reporter" && which == "other" && mode == "own")
					for _, pg := range pages {
						t.Run(role+"/"+which+"/"+pg.name, func(t *testing.T) {
							if got := pg.read(t, cc, x); got != want {
								t.Fatalf("saw %v, want %v", got, want)
							}
						})
					}
				}
				// Whole tables cannot be cut to a department: refused to a
				// reporter that reads its own, as by the API.
				t.Run(role+"/table download", func(t *testing.T) {
					want := http.StatusOK
					if role == "reporter" && mode == "own" {
						want = http.StatusForbidden
					}
					if r := cc.fetch("/console/exports/tasks.csv"); r.Status != want {
						t.Fatalf("tasks.csv: %d, want %d: %s", r.Status, want, r.Body)
					}
					if page := cc.fetch("/console/exports"); strings.Contains(string(page.Body), "/console/exports/tasks.csv") != (want == http.StatusOK) {
						t.Fatalf("the downloads page offers the tables: %v, want %v", !(want == http.StatusOK), want == http.StatusOK)
					}
				})
			}
		})
	}
}

// TestConsoleWritesStampTheTokenAndShareTheRateLimit: a console write is
// stamped with the signed-in token's id as an API write is, and the
// console draws on the API's per-token budget: once the API has spent a
// token's burst, the console refuses that token's pages with 429 too.
func TestConsoleWritesStampTheTokenAndShareTheRateLimit(t *testing.T) {
	s := startConfiguredServer(t, func(c *ServeConfig) { c.RatePerSecond, c.RateBurst = 0.2, 30 })
	f := &authzFixture{s: s, office: s.token("考评办", "office"), second: s.token("考评办复核", "office")}
	x := f.readable("区应急局")
	reporter := s.token("区应急局填报员", "reporter", "区应急局")
	waitForReadModels(t, s)
	cc := newConsoleClient(t, s, reporter)
	page := cc.get("/console/indicators/" + x.indicator)
	key := regexp.MustCompile(`id="report-form"[\s\S]*?name="key" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	if key == nil {
		t.Fatalf("no report form for the reporter's own indicator:\n%s", page)
	}
	res, err := cc.c.PostForm(s.base+"/console/indicators/"+x.indicator+"/figures", url.Values{"csrf": {cc.csrf}, "key": {key[1]},
		"value": {"12"}, "quality": {"final"}, "source_kind": {"self_reported"}, "to_month": {"11"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Query().Get("saved") != "figure" {
		t.Fatalf("the console's report: %d at %s", res.StatusCode, res.Request.URL)
	}
	var stamped bool
	for _, e := range s.mustDo(http.StatusOK, "GET", "/v1/events?limit=1000", f.office, nil)["events"].([]any) {
		o := e.(map[string]any)
		if o["aggregate_id"] == x.indicator && o["source"] == "console" {
			stamped = true
			id := s.mustDo(http.StatusOK, "GET", "/v1/tokens", adminToken, nil)
			var want string
			for _, tok := range id["tokens"].([]any) {
				if tok.(map[string]any)["name"] == "区应急局填报员" {
					want = tok.(map[string]any)["token_id"].(string)
				}
			}
			if o["actor"] != "reporter:区应急局填报员" || o["actor_token_id"] != want || want == "" {
				t.Fatalf("the console's event is stamped %v / %v, want the token %s", o["actor"], o["actor_token_id"], want)
			}
		}
	}
	if !stamped {
		t.Fatal("the console's report is not in the log")
	}
	// Spend the rest of the token's budget on the API.
	for i := 0; i < 60; i++ {
		if s.do("GET", "/v1/status", reporter, nil).Status == http.StatusTooManyRequests {
			break
		}
	}
	r := cc.fetch("/console/board")
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || !strings.Contains(string(r.Body), "请求过于频繁") {
		t.Fatalf("the console after the API spent the token's budget: %d %v\n%s", r.Status, r.Header, r.Body)
	}
	// Another token's budget is its own.
	if r := newConsoleClient(t, s, f.office).fetch("/console/board"); r.Status != http.StatusOK {
		t.Fatalf("another token's console: %d", r.Status)
	}
}

// TestConsoleWriteWhileTheStreamGuardFails deletes the event stream under a
// running serve: a console write is then refused with the guard's 503 and
// its cause on the page, nothing is written, and reads go on.
func TestConsoleWriteWhileTheStreamGuardFails(t *testing.T) {
	s := startTestServer(t)
	f := &authzFixture{s: s, office: s.token("考评办", "office"), second: s.token("考评办复核", "office")}
	x := f.readable("区应急局")
	waitForReadModels(t, s)
	cc := newConsoleClient(t, s, f.office)
	page := cc.get("/console/indicators/" + x.indicator)
	key := regexp.MustCompile(`id="report-form"[\s\S]*?name="key" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	if key == nil {
		t.Fatalf("no report form:\n%s", page)
	}
	ctx := context.Background()
	if err := s.sys.Store.JetStreamContext().DeleteStream(ctx, "KPITRAIL"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for s.do("GET", "/readyz", "", nil).Status != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatal("the guard did not report the deleted stream")
		}
		time.Sleep(50 * time.Millisecond)
	}
	res, err := cc.c.PostForm(s.base+"/console/indicators/"+x.indicator+"/figures", url.Values{"csrf": {cc.csrf}, "key": {key[1]},
		"value": {"12"}, "quality": {"final"}, "source_kind": {"self_reported"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "暂停写入") ||
		!strings.Contains(string(body), "KPITRAIL is missing") {
		t.Fatalf("a console write while the guard fails: %d\n%s", res.StatusCode, body)
	}
	// The read models still answer.
	if r := cc.fetch("/console/tasks/" + x.task); r.Status != http.StatusOK {
		t.Fatalf("a read while the guard fails: %d", r.Status)
	}
}
