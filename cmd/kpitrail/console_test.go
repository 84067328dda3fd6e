package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"kpitrail/importer"
	"kpitrail/projections"
)

// consoleClient is a browser without a browser: a cookie jar, and the
// session's CSRF value read from the last page.
type consoleClient struct {
	t    *testing.T
	s    *testServer
	c    *http.Client
	csrf string
}

var formCSRF = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func newConsoleClient(t *testing.T, s *testServer, token string) *consoleClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	cc := &consoleClient{t: t, s: s, c: &http.Client{Jar: jar}}
	cc.get("/console/login")
	if page := cc.post("/console/login", url.Values{"csrf": {cc.csrf}, "token": {token}}); !strings.Contains(page, `id="board"`) {
		t.Fatalf("sign-in did not reach the board: %s", page)
	}
	return cc
}

func (cc *consoleClient) read(res *http.Response, err error) string {
	cc.t.Helper()
	if err != nil {
		cc.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := formCSRF.FindSubmatch(b); m != nil {
		cc.csrf = string(m[1])
	}
	return string(b)
}

func (cc *consoleClient) get(path string) string { return cc.read(cc.c.Get(cc.s.base + path)) }

func (cc *consoleClient) post(path string, form url.Values) string {
	return cc.read(cc.c.PostForm(cc.s.base+path, form))
}

func (cc *consoleClient) upload(fields map[string]string, name string, file []byte) string {
	cc.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("csrf", cc.csrf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("file", name)
	_, _ = fw.Write(file)
	w.Close()
	return cc.read(cc.c.Post(cc.s.base+"/console/import", w.FormDataContentType(), &body))
}

var (
	jobIDOnPage  = regexp.MustCompile(`action="/console/jobs/(j-[0-9a-f]+)/cancel"|<code>(j-[0-9a-f]+)</code>`)
	jobStateOnPg = regexp.MustCompile(`data-state="([a-z]+)"`)
)

func jobIDOf(t *testing.T, page string) string {
	t.Helper()
	m := jobIDOnPage.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("not a job's page:\n%s", page)
	}
	return m[1] + m[2]
}

// followJob reloads a job's page, as its meta refresh does, until the job
// has finished, and returns the last page.
func (cc *consoleClient) followJob(page string) string {
	cc.t.Helper()
	id := jobIDOf(cc.t, page)
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if st := jobStateOnPg.FindStringSubmatch(page); st != nil && (st[1] == "succeeded" || st[1] == "failed" || st[1] == "cancelled") {
			return page
		}
		time.Sleep(100 * time.Millisecond)
		page = cc.get("/console/jobs/" + id)
	}
	cc.t.Fatalf("job %s did not finish:\n%s", id, page)
	return ""
}

// The console's import is the API's: a figure sheet checked (its rows'
// errors listed, nothing written), then applied from the file kept since
// the check.
func TestConsoleImportChecksThenApplies(t *testing.T) {
	s := startDemoServer(t)
	office := s.token("考评办", "office")
	// The demo's 2022 is frozen: the office reopens it, with a reason,
	// before a sheet adds to it.
	s.mustDo(http.StatusOK, "POST", "/v1/years/2022/reopen", office, map[string]any{"reason": "补录新认定高新技术企业"})
	cc := newConsoleClient(t, s, office)
	task := importer.TaskID(2022, "高效率落实", "国际科技创新中心建设和高新技术企业发展")
	header := strings.Join(importer.FigureColumns, ",")
	bad := header + "\n" + figureRow(map[string]string{"indicator_id": "console-firms", "task_id": task, "name": "新认定高新技术企业",
		"unit": "家", "direction": "higher", "window_year": "2022", "value": "十二", "quality": "estimate"})
	pos := s.lastPosition()
	page := cc.upload(map[string]string{"kind": "figures"}, "figures.csv", []byte(bad))
	if !strings.Contains(page, `id="row-errors"`) || !strings.Contains(page, "<td class=\"num\">2</td>") {
		t.Fatalf("a bad sheet's row errors are not listed:\n%s", page)
	}
	good := header + "\n" + figureRow(map[string]string{"indicator_id": "console-firms", "task_id": task, "name": "新认定高新技术企业",
		"unit": "家", "direction": "higher", "target": "30", "window_year": "2022", "to_month": "6", "value": "12", "quality": "estimate"})
	page = cc.upload(map[string]string{"kind": "figures"}, "figures.csv", []byte(good))
	m := regexp.MustCompile(`name="staged" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(page, "检查结果：可以导入") {
		t.Fatalf("the check of a good sheet:\n%s", page)
	}
	if s.lastPosition() != pos {
		t.Fatal("checking a sheet wrote to the log")
	}
	page = cc.post("/console/import", url.Values{"csrf": {cc.csrf}, "staged": {m[1]}, "apply": {"1"}, "reason": {"补录新认定企业"}})
	if !strings.Contains(page, "导入进度") {
		t.Fatalf("apply did not lead to the job's page:\n%s", page)
	}
	page = cc.followJob(page)
	if !strings.Contains(page, `data-state="succeeded"`) || !strings.Contains(page, "已导入") || !strings.Contains(page, "import undo b-") {
		t.Fatalf("apply:\n%s", page)
	}
	// The job is the API's too: its record, with the reason, as GET
	// /v1/jobs/{id} shows it.
	id := jobIDOf(t, page)
	if j := s.mustDo(http.StatusOK, "GET", "/v1/jobs/"+id, office, nil); j["reason"] != "补录新认定企业" || j["kind"] != "import" {
		t.Fatalf("the console's import job through the API: %v", j)
	}
	var in projections.Indicator
	err := s.live.With(context.Background(), nil, func(db *projections.DB) error {
		var err error
		in, err = db.GetIndicator(context.Background(), "console-firms")
		return err
	})
	if err != nil || in.Value != "12" || in.Status != "behind" {
		t.Fatalf("the imported indicator: %+v %v", in, err)
	}
	// A sheet's indicator is no additive target: its month is compared
	// with the year's target itself, not a pro-rated pace.
	page = cc.get("/console/indicators/console-firms")
	for _, want := range []string{"月度累计与序时进度", "年度目标（存量或比率指标，不按月分摊）", "<td class=\"num\">30家</td>", "滞后于序时进度"} {
		if !strings.Contains(page, want) {
			t.Errorf("the imported indicator's page lacks %q", want)
		}
	}
}

// An import applied in the console and cancelled part-way says which rows
// it stored (a sheet row is two commands: define and report); importing
// the same checked file again from the job's page
// runs the rest and stores nothing twice.
func TestConsoleCancelledImportResumes(t *testing.T) {
	s := startTestServerWith(t, func(c *ServeConfig) { c.Limits.ImportPace, c.Limits.ImportSlice = 400*time.Millisecond, 50 })
	office := s.token("考评办", "office")
	s.mustDo(201, "POST", "/v1/tasks", office, map[string]any{"task_id": "gdp", "year": 2022, "title": "经济发展", "lead_department": "区科委"})
	cc := newConsoleClient(t, s, office)
	page := cc.upload(map[string]string{"kind": "figures"}, "figures.csv", []byte(figureSheet(150)))
	m := regexp.MustCompile(`name="staged" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the check:\n%s", page)
	}
	page = cc.post("/console/import", url.Values{"csrf": {cc.csrf}, "staged": {m[1]}, "apply": {"1"}})
	id := jobIDOf(t, page)
	if !strings.Contains(page, `http-equiv="refresh"`) || !strings.Contains(page, "<progress") {
		t.Fatalf("the running import's page:\n%s", page)
	}
	deadline := time.Now().Add(30 * time.Second)
	for progressDone(s.mustDo(200, "GET", "/v1/jobs/"+id, office, nil)) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	page = cc.followJob(cc.post("/console/jobs/"+id+"/cancel", url.Values{"csrf": {cc.csrf}}))
	if !strings.Contains(page, `data-state="cancelled"`) || !strings.Contains(page, `id="job-resume"`) || !strings.Contains(page, `id="not-run"`) ||
		!strings.Contains(page, `id="resume-form"`) {
		t.Fatalf("the cancelled import's page:\n%s", page)
	}
	stored := len(regexp.MustCompile(`<td>applied</td>`).FindAllString(page, -1))
	if stored == 0 || stored >= 300 {
		t.Fatalf("the cancelled import lists %d stored rows", stored)
	}
	staged := regexp.MustCompile(`name="staged" value="([0-9a-f]+)"`).FindStringSubmatch(page)
	page = cc.followJob(cc.post("/console/import", url.Values{"csrf": {cc.csrf}, "staged": {staged[1]}, "apply": {"1"}}))
	if !strings.Contains(page, `data-state="succeeded"`) || !strings.Contains(page, fmt.Sprintf("%d 条命令；已存在 %d", 300-stored, stored)) {
		t.Fatalf("the resumed import:\n%s", page)
	}
}
