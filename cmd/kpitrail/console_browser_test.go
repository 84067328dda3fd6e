package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"kpitrail/importer"
	"kpitrail/projections"
)

// runMainEnv makes the test binary run main() instead of the tests, so a
// test can start the CLI as a process of its own (jobs_test.go).
const runMainEnv = "KPITRAIL_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		return
	}
	code := m.Run()
	stopBrowser()
	os.Exit(code)
}

// startDemoServer is a real serve with the demo loaded, as
// `KPITRAIL_ADMIN_TOKEN=… kpitrail serve --demo` runs it.
func startDemoServer(t *testing.T) *testServer {
	t.Helper()
	cfg := ServeConfig{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Replicas: 1, AdminToken: adminToken, Demo: true}
	srv, err := StartServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	s := &testServer{Server: srv, t: t, base: "http://" + srv.Addr()}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.live.Wait(ctx, s.lastPosition()); err != nil {
		t.Fatal(err)
	}
	return s
}

// demoTasks is the board as the API gives it.
func demoTasks(t *testing.T, s *testServer, token string) map[string]projections.Task {
	t.Helper()
	m := s.mustDo(http.StatusOK, "GET", "/v1/tasks?year=2022", token, nil)
	out := map[string]projections.Task{}
	for _, x := range m["tasks"].([]any) {
		o := x.(map[string]any)
		out[o["title"].(string)] = projections.Task{ID: o["id"].(string), Status: o["status"].(string), Title: o["title"].(string)}
	}
	return out
}

var mediaBox = regexp.MustCompile(`/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]`)

// followJob waits on a job's page, which reloads itself every second
// while the job runs, until it shows the job finished.
func (u *browserUser) followJob() {
	u.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		// A reload may land between two evaluations: an error here is the
		// page changing, and the next look sees the new one.
		ctx, cancel := context.WithTimeout(u.ctx, 2*time.Second)
		st, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById('job-state') || {dataset: {}}).dataset.state || ''`))
		cancel()
		if err == nil && (st == "succeeded" || st == "failed" || st == "cancelled") {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	u.t.Fatal("the job's page did not show it finished")
}

// TestConsoleInABrowser is the console as the office and a department use
// it, in Chromium, against a serve with the demo (the seed's 2022 table).
func TestConsoleInABrowser(t *testing.T) {
	s := startDemoServer(t)
	office := s.token("考评办", "office")
	reporter := s.token("怀柔区政府填报员", "reporter", "怀柔区政府")
	tasks := demoTasks(t, s, office)
	if len(tasks) != 20 {
		t.Fatalf("the API lists %d tasks, want the seed's 20", len(tasks))
	}

	u := newUser(t, s.base)

	// Signing in: the form, a wrong token refused, then the right one.
	u.open("/console/board", "#token")
	u.log.allow("/console/login")
	u.do(chromedp.SendKeys(chromedp.ID("token"), "kpt_wrong"), chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.ID("login-error")))
	if msg := u.text("#login-error"); !strings.Contains(msg, "令牌无效") {
		t.Fatalf("a wrong token: %q", msg)
	}
	u.signIn(office)
	if stored := eval[string](u, `JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie`); strings.Contains(stored, office) || strings.Contains(stored, "kpitrail_session") {
		t.Fatalf("the token or the session is visible to the page: %s", stored)
	}

	// The board lists the seed's 20 tasks, with the API's statuses.
	rows := eval[[]string](u, `[...document.querySelectorAll('#board tbody tr th a')].map(a => a.textContent)`)
	if len(rows) != 20 {
		t.Fatalf("the board lists %d tasks, want 20: %v", len(rows), rows)
	}
	for _, title := range rows {
		if _, ok := tasks[title]; !ok {
			t.Errorf("the board lists %q, which the API does not", title)
		}
	}
	if rows[0] != "落实党中央国务院决策部署" || rows[19] != "市委市政府其他重点工作" {
		t.Errorf("the board is not in the table's order: %s … %s", rows[0], rows[19])
	}
	atRisk := 0
	for _, x := range tasks {
		if x.Status == "at_risk" {
			atRisk++
		}
	}
	if counts := u.text("#status-counts"); !strings.Contains(counts, "共 20 项任务") || !strings.Contains(counts, "存在风险 "+strconv.Itoa(atRisk)) {
		t.Errorf("status counts %q, the API has %d at risk", counts, atRisk)
	}
	u.screenshot("board")

	// Keyboard: the first Tab reaches the skip link, which moves focus to
	// the page's content.
	u.do(chromedp.KeyEvent("\t"))
	if cls := eval[string](u, `document.activeElement.className`); cls != "skip" {
		t.Fatalf("the first Tab focused %q, not the skip link", cls)
	}
	u.do(chromedp.KeyEvent("\r"))
	if id := eval[string](u, `document.activeElement.id`); id != "main" {
		t.Fatalf("the skip link moved focus to %q", id)
	}

	// Printing the board: A4, navigation and forms gone, the table kept.
	if _, err := chromedp.Call(u.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	if got := eval[string](u, `[getComputedStyle(document.querySelector('header.top')).display, getComputedStyle(document.querySelector('form.filters')).display, getComputedStyle(document.getElementById('board')).display].join()`); got != "none,none,table" {
		t.Errorf("print styles: header, filters, board display %q", got)
	}
	if _, err := chromedp.Call(u.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}
	pdf, err := chromedp.Run(u.ctx, chromedp.PrintToPDF(func(p *page.PrintToPDFParams) { p.PreferCSSPageSize = new(true) }))
	if err != nil {
		t.Fatal(err)
	}
	if m := mediaBox.FindSubmatch(pdf); m == nil {
		t.Error("the printed board has no page size")
	} else if w, _ := strconv.ParseFloat(string(m[1]), 64); w < 590 || w > 600 {
		t.Errorf("the printed board's page is %s × %s pt, not A4 (595 × 842)", m[1], m[2])
	}

	// 高新技术企业保有量: 610 of 719 is 84.8%, an estimate, not met.
	hitech := "/console/indicators/i2022-hitech-stock"
	u.open(hitech, "#key-figures")
	if c, q, st := u.text("#completion"), u.text("#quality"), u.text("#status"); !strings.HasPrefix(c, "84.8%") || q != "预计" || st != "未达标" {
		t.Fatalf("高新技术企业保有量: completion %q, quality %q, status %q; want 84.8%%, 预计, 未达标", c, q, st)
	}
	u.do(chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	pdf, err = chromedp.Run(u.ctx, chromedp.PrintToPDF(func(p *page.PrintToPDFParams) { p.PreferCSSPageSize = new(true) }))
	if err != nil {
		t.Fatal(err)
	}
	if m := mediaBox.FindSubmatch(pdf); m == nil || !strings.HasPrefix(string(m[2]), "84") {
		t.Errorf("the printed indicator page is not A4: %q", m)
	}

	// 生产安全事故: 13 against 16 a year before, −18.8% year over year; the
	// chart's points read out where the keyboard focuses.
	u.open("/console/indicators/i2022-accidents", "#yoy-table")
	if yoy := u.text("#yoy-table tbody .yoy"); yoy != "−18.8%" {
		t.Fatalf("生产安全事故 year over year %q, want −18.8%%", yoy)
	}
	u.do(chromedp.Focus(chromedp.CSS("#yoy svg .pt")))
	if r := u.text("#yoy output.readout"); !strings.Contains(r, "起") {
		t.Errorf("the chart's readout after focusing a point: %q", r)
	}
	u.screenshot("indicator")

	// A task with a problem and its rectification ledger.
	u.open("/console/tasks/"+tasks["城市总体规划实施"].ID, "#problems")
	if ledger := u.text("#problems"); !strings.Contains(ledger, "剩余 2 项") || !strings.Contains(ledger, "整改到位率 99.0%") {
		t.Errorf("the 87-1 ledger: %q", ledger)
	}
	u.screenshot("task")

	// 2022 is frozen and its figures approved: the page says so and
	// offers no correction until the office reopens the year (through the
	// API, with a reason) and then the figure (here, with a reason).
	u.open(hitech, "#frozen")
	if n := eval[int](u, `document.querySelectorAll('#correct-form, #report-form').length`); n != 0 {
		t.Fatal("a frozen year's indicator page offers a write")
	}
	s.mustDo(http.StatusOK, "POST", "/v1/years/2022/reopen", office, map[string]any{"reason": "市科委反馈高新技术企业保有量有误，解封更正"})
	if err := s.live.Wait(u.ctx, s.lastPosition()); err != nil {
		t.Fatal(err)
	}
	u.open(hitech, `#figures form[id^="reopen-"]`)
	u.do(chromedp.SendKeys(chromedp.CSS(`#figures form[id^="reopen-"] input[name=reason]`), "市科委反馈，重新打开更正"),
		chromedp.Click(chromedp.CSS(`#figures form[id^="reopen-"] button`)), chromedp.WaitVisible(chromedp.CSS("p.notice")))
	if n := u.text("p.notice"); !strings.Contains(n, "已重新打开") {
		t.Fatalf("reopening the figure: %q", n)
	}

	// A correction, then the page as of just before it: the old value,
	// under the banner.
	before := time.Now()
	time.Sleep(20 * time.Millisecond)
	u.open(hitech, "#correct-form")
	u.do(chromedp.SendKeys(chromedp.CSS(`#correct-form input[name=value]`), "612"),
		chromedp.SendKeys(chromedp.CSS(`#correct-form input[name=reason]`), "市科委反馈：保有量更正为612家"),
		chromedp.Click(chromedp.CSS(`#correct-form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS("p.notice")))
	if v := u.text("#key-figures"); !strings.Contains(v, "612家") || !strings.Contains(v, "85.1%") {
		t.Fatalf("after the correction: %q", v)
	}
	asOf := url.QueryEscape(before.Format(time.RFC3339Nano))
	u.open(hitech+"?as_of="+asOf, "#asof-banner")
	if v := u.text("#key-figures"); !strings.Contains(v, "610家") || strings.Contains(v, "612") {
		t.Fatalf("as of before the correction: %q", v)
	}
	if b := u.text("#asof-banner"); !strings.Contains(b, "历史视图") || !strings.Contains(b, "不是当前数据") {
		t.Fatalf("banner %q", b)
	}
	if n := eval[int](u, `document.querySelectorAll('form[method=post]:not([action="/console/logout"])').length`); n != 0 {
		t.Errorf("an as-of page offers %d write forms", n)
	}
	u.screenshot("asof")
	// Links keep the instant: the board from here is the board then.
	u.do(chromedp.Click(chromedp.CSS(`nav a[href^="/console/board"]`)), chromedp.WaitVisible(chromedp.ID("board")))
	if n := eval[int](u, `document.querySelectorAll('#asof-banner').length`); n != 1 {
		t.Error("following a link lost the as-of instant")
	}
	u.open(hitech+"/audit", "#audit-table")
	if st, trail := u.text("#chain-status"), u.text("#audit-table"); !strings.Contains(st, "链完整") || !strings.Contains(trail, "610 → 612") || !strings.Contains(trail, "console") {
		t.Fatalf("audit page: chain %q, trail %q", st, trail)
	}
	u.screenshot("audit")
	u.do(chromedp.Click(chromedp.CSS(`#audit-table tbody tr:last-child a`)), chromedp.WaitVisible(chromedp.CSS("section.event")))
	if e := u.text("section.event"); !strings.Contains(e, "indicator.figure_corrected") || !strings.Contains(e, "与内容相符") {
		t.Fatalf("the raw event: %q", e)
	}

	// A form posted without its CSRF value is refused, and nothing is
	// written.
	u.open(hitech, "#report-form")
	pos := s.lastPosition()
	u.log.allow(hitech + "/figures")
	u.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#report-form input[name=csrf]').remove()`),
		chromedp.SendKeys(chromedp.CSS(`#report-form input[name=value]`), "999"),
		chromedp.Click(chromedp.CSS(`#report-form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS("section.problem")))
	if h := u.text("section.problem h1"); h != "无权操作" {
		t.Fatalf("a CSRF-less post answered %q", h)
	}
	if s.lastPosition() != pos {
		t.Fatal("a CSRF-less post wrote to the log")
	}
	u.open("/console/queues", "#final")
	if q := u.text("#final"); !strings.Contains(q, "地区生产总值") {
		t.Errorf("the queue of estimates lacks 地区生产总值: %q", q)
	}

	// Importing a figure sheet (one row: define, target, report; three
	// commands): checked, applied as a job with a reason,
	// and followed on the job's page, which reloads itself (no script)
	// until the import has finished and then shows its result.
	sheet := filepath.Join(t.TempDir(), "figures.csv")
	row := figureRow(map[string]string{"indicator_id": "browser-firms", "task_id": tasks["国际科技创新中心建设和高新技术企业发展"].ID,
		"name": "新认定高新技术企业", "unit": "家", "direction": "higher", "target": "30", "window_year": "2022", "to_month": "6",
		"value": "12", "quality": "estimate"})
	if err := os.WriteFile(sheet, []byte(strings.Join(importer.FigureColumns, ",")+"\n"+row+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u.open("/console/import", "#import-form")
	u.do(chromedp.SetValue(chromedp.CSS(`#import-form select[name=kind]`), "figures"),
		chromedp.SetUploadFiles(chromedp.CSS(`#import-form input[name=file]`), []string{sheet}),
		chromedp.Click(chromedp.CSS(`#import-form button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("apply-form")))
	u.do(chromedp.SendKeys(chromedp.CSS(`#apply-form input[name=reason]`), "补录上半年新认定企业"),
		chromedp.Click(chromedp.CSS(`#apply-form button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("job-state")))
	if loc, _ := chromedp.Run(u.ctx, chromedp.Location()); !strings.Contains(loc, "/console/jobs/j-") {
		t.Fatalf("applying the import led to %s, not its job's page", loc)
	}
	u.followJob()
	if st, sum := u.text("#job-state"), u.text("#import-summary"); st != "已完成" || !strings.Contains(sum, "3 条命令；已存在 0") || !strings.Contains(sum, "批次") {
		t.Fatalf("the finished import's page: state %q, summary %q", st, sum)
	}
	if done := eval[string](u, `document.querySelector('#job-progress progress').value + '/' + document.querySelector('#job-progress progress').max`); done != "3/3" {
		t.Errorf("the finished import's progress bar: %s", done)
	}
	if n := eval[int](u, `document.querySelectorAll('meta[http-equiv=refresh], #cancel-form').length`); n != 0 {
		t.Error("a finished import's page still reloads or offers to cancel")
	}

	// The review queue: a department reports its half-year figure and
	// submits it from its queue; the office returns it with a reason; the
	// department submits it again; the office approves it.
	r := newUser(t, s.base)
	r.signIn(reporter)
	plan := tasks["城市总体规划实施"].ID
	masterPlan := "/console/indicators/i2022-master-plan-tasks"
	r.open(masterPlan, "#report-form")
	r.do(chromedp.SetValue(chromedp.CSS(`#report-form select[name=to_month]`), "6"),
		chromedp.SetValue(chromedp.CSS(`#report-form select[name=quality]`), "final"),
		chromedp.SendKeys(chromedp.CSS(`#report-form input[name=value]`), "9"),
		chromedp.Click(chromedp.CSS(`#report-form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS("p.notice")))
	mine := `#review form[action^="` + masterPlan + `/"][action$="/submit"]`
	r.open("/console/queues", mine)
	fig := strings.TrimPrefix(eval[string](r, `document.querySelector('`+mine+`').id`), "submit-")
	r.do(chromedp.SendKeys(chromedp.CSS(mine+` input[name=reason]`), "上半年完成9项"),
		chromedp.Click(chromedp.CSS(mine+` button`)), chromedp.WaitVisible(chromedp.CSS("p.notice")))
	if n := r.text("p.notice"); !strings.Contains(n, "已提交考评办审核") {
		t.Fatalf("submitting from the queue: %q", n)
	}
	// A reporter is offered no approval, and a forged one is refused.
	if n := eval[int](r, `document.querySelectorAll('form[action$="/approve"], form[action$="/return"]').length`); n != 0 {
		t.Errorf("a reporter is offered %d approvals", n)
	}
	approveURL := masterPlan + "/figures/" + fig + "/approve"
	r.log.allow(approveURL)
	pos = s.lastPosition()
	status := eval[int](r, `fetch('`+approveURL+`', {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'},
		body: new URLSearchParams({csrf: document.querySelector('input[name=csrf]').value, key: '0123456789abcdef0123456789abcdee'})}).then(r => r.status)`, chromedp.EvalAwaitPromise)
	if status != http.StatusForbidden || s.lastPosition() != pos {
		t.Fatalf("a reporter's forged approval: status %d, log %d → %d", status, pos, s.lastPosition())
	}

	u.open("/console/queues", "#return-"+fig)
	if q := u.text("#review"); !strings.Contains(q, "市级下发总体规划实施任务完成数") || !strings.Contains(q, "1-6月 9（最终）") || !strings.Contains(q, "怀柔区政府填报员") {
		t.Fatalf("the office's review queue: %q", q)
	}
	u.do(chromedp.SendKeys(chromedp.CSS("#return-"+fig+" input[name=reason]"), "请附季度调度记录"),
		chromedp.Click(chromedp.CSS("#return-"+fig+" button")), chromedp.WaitVisible(chromedp.CSS("p.notice")))
	if n, left := u.text("p.notice"), eval[int](u, `document.querySelectorAll('#review form[id$="`+fig+`"]').length`); !strings.Contains(n, "已退回") || left != 0 {
		t.Fatalf("after returning: notice %q, %d forms left for the figure", n, left)
	}
	r.open("/console/queues", "#submit-"+fig)
	if q := r.text("#review"); !strings.Contains(q, "已退回：请附季度调度记录") {
		t.Fatalf("the department's queue after the return: %q", q)
	}
	r.do(chromedp.SendKeys(chromedp.CSS("#submit-"+fig+" input[name=reason]"), "已补季度调度记录"),
		chromedp.Click(chromedp.CSS("#submit-"+fig+" button")), chromedp.WaitVisible(chromedp.CSS("p.notice")))
	u.open("/console/queues", "#approve-"+fig)
	u.screenshot("queues")
	u.do(chromedp.SendKeys(chromedp.CSS("#approve-"+fig+" input[name=reason]"), "与调度记录一致"),
		chromedp.Click(chromedp.CSS("#approve-"+fig+" button")), chromedp.WaitVisible(chromedp.CSS("p.notice")))
	if n, left := u.text("p.notice"), eval[int](u, `document.querySelectorAll('#review form[id$="`+fig+`"]').length`); !strings.Contains(n, "已审核通过") || left != 0 {
		t.Fatalf("after approving: notice %q, %d forms left for the figure", n, left)
	}
	u.open(masterPlan, "#reopen-"+fig)
	if row := eval[string](u, `document.getElementById('reopen-`+fig+`').closest('tr').textContent`); !strings.Contains(row, "已审核") ||
		!strings.Contains(row, "提交 reporter:怀柔区政府填报员") || !strings.Contains(row, "审核 office:考评办") || !strings.Contains(row, "与调度记录一致") {
		t.Fatalf("the approved figure's row: %q", row)
	}
	if st := u.text("#review-state"); st != "已审核" {
		t.Errorf("the indicator's review state %q", st)
	}
	u.do(chromedp.Click(chromedp.CSS(`form[action="/console/logout"] button`)), chromedp.WaitVisible(chromedp.ID("token")))
	u.open("/console/board", "#token") // signed out: back to the sign-in form
	u.log.check(t, s.base)

	// A department's reporter: no administration, no closing of problems
	// (the office's sign-off), even with a forged form.
	r.open("/console/board", "#board")
	if n := eval[int](r, `document.querySelectorAll('a[href="/console/admin"]').length`); n != 0 {
		t.Error("a reporter is shown the administration link")
	}
	r.log.allow("/console/admin")
	r.open("/console/admin", "section.problem")
	if h := r.text("section.problem h1"); h != "无权操作" {
		t.Fatalf("a reporter opening /console/admin got %q", h)
	}
	r.open("/console/tasks/"+plan, "#problems")
	if n := eval[int](r, `document.querySelectorAll('form[action$="/rectification"]').length`); n != 1 {
		t.Errorf("the reporter is offered %d rectification forms, want 1 (its own task)", n)
	}
	if n := eval[int](r, `document.querySelectorAll('form[action$="/close"]').length`); n != 0 {
		t.Error("a reporter is offered to close a problem")
	}
	pid := eval[string](r, `document.querySelector('form[action$="/rectification"]').action.split('/').slice(-2)[0]`)
	closeURL := "/console/tasks/" + plan + "/problems/" + pid + "/close"
	r.log.allow(closeURL)
	pos = s.lastPosition()
	status = eval[int](r, `fetch('`+closeURL+`', {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'},
		body: new URLSearchParams({csrf: document.querySelector('input[name=csrf]').value, key: '0123456789abcdef0123456789abcdef', outcome: 'rectified'})}).then(r => r.status)`, chromedp.EvalAwaitPromise)
	if status != http.StatusForbidden || s.lastPosition() != pos {
		t.Fatalf("a reporter's forged close: status %d, log %d → %d", status, pos, s.lastPosition())
	}
	r.log.check(t, s.base)
}

// TestConsoleScreenshotsAreCommitted keeps the README's pictures in step
// with the names the browser test writes.
func TestConsoleScreenshotsAreCommitted(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"board", "indicator", "task", "asof", "audit", "queues"} {
		path := "docs/screenshots/" + name + ".png"
		if !strings.Contains(string(readme), path) {
			t.Errorf("README does not show %s", path)
		}
		if _, err := os.Stat("../../" + path); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
}
