package main

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

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
	page = cc.post("/console/import", url.Values{"csrf": {cc.csrf}, "staged": {m[1]}, "apply": {"1"}})
	if !strings.Contains(page, "已导入") || !strings.Contains(page, "import undo b-") {
		t.Fatalf("apply:\n%s", page)
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
