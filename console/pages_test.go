package console

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"kpitrail/app"
	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/internal/demotest"
	"kpitrail/projections"
)

func taskID(t *testing.T, e *env, title string) string {
	t.Helper()
	var id string
	e.fx.Read(t, func(db *projections.DB) error {
		ts, err := db.ListTasks(context.Background(), projections.TaskFilter{})
		for _, x := range ts {
			if x.Title == title {
				id = x.ID
			}
		}
		return err
	})
	if id == "" {
		t.Fatalf("no task %s", title)
	}
	return id
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func TestPagesShowTheReadModelsNumbers(t *testing.T) {
	e := newEnv(t)
	b := e.client()
	b.signIn(e.issue("审计员", "auditor"))
	board := b.do("GET", "/console/board", nil)
	if board.status != http.StatusOK {
		t.Fatalf("board: %d", board.status)
	}
	if n := strings.Count(board.body, `<th scope="row"><a href="/console/tasks/`); n != 20 {
		t.Fatalf("board rows %d, want the seed's 20", n)
	}
	mustContain(t, "board", board.body, "共 <strong>20</strong> 项任务", "191/193（99.0%）", "缓解交通拥堵")
	// Search and filter narrow it; sorting keeps every row.
	if a := b.do("GET", "/console/board?q="+url.QueryEscape("交通"), nil); strings.Count(a.body, `<th scope="row">`) != 1 {
		t.Errorf("search for 交通: %d rows", strings.Count(a.body, `<th scope="row">`))
	}
	if a := b.do("GET", "/console/board?status=at_risk&sort=problems&desc=1", nil); strings.Count(a.body, `<th scope="row">`) != 5 ||
		!strings.Contains(a.body, `aria-sort="descending"`) {
		t.Errorf("at-risk board sorted by problems: %d rows", strings.Count(a.body, `<th scope="row">`))
	}
	if a := b.do("GET", "/console/board?year=twenty", nil); a.status != http.StatusBadRequest {
		t.Errorf("a bad year: %d", a.status)
	}

	hitech := b.do("GET", "/console/indicators/i2022-hitech-stock", nil)
	mustContain(t, "高新技术企业保有量", hitech.body, `id="completion">84.8%`, `id="quality">预计</span>`, `id="status">未达标</span>`,
		"719家", "610家", "市科委")
	accidents := b.do("GET", "/console/indicators/i2022-accidents", nil)
	mustContain(t, "生产安全事故", accidents.body, `<td class="num yoy">−18.8%</td>`, "16起 †", "−3起", "<svg class=\"chart\"")
	// An auditor is offered no write.
	if strings.Contains(accidents.body, `id="report-form"`) || strings.Contains(accidents.body, `id="correct-form"`) {
		t.Error("an auditor is offered to report or correct")
	}

	task := b.do("GET", "/console/tasks/"+taskID(t, e, "城市总体规划实施"), nil)
	mustContain(t, "城市总体规划实施", task.body, "87-1项", "剩余 2 项", "整改到位率 99.0%", "整改记录", "office:demo")
	audit := b.do("GET", "/console/indicators/i2022-hitech-stock/audit", nil)
	mustContain(t, "audit", audit.body, "链完整", "设定目标", "报数", "demo")
	ev := b.do("GET", "/console/events/1", nil)
	mustContain(t, "event 1", ev.body, "task.registered", "与内容相符")
	if a := b.do("GET", "/console/events/999999", nil); a.status != http.StatusNotFound {
		t.Errorf("an event past the end: %d", a.status)
	}
	q := b.do("GET", "/console/queues", nil)
	mustContain(t, "queues", q.body, "待最终数据的指标", "地区生产总值", "未销号的问题", "87-1项")

	// The self-check table, as the API's.
	xl := b.do("GET", "/console/board/selfcheck.xlsx?year=2022", nil)
	book, err := excelize.OpenReader(strings.NewReader(xl.body))
	if err != nil {
		t.Fatalf("board XLSX: %v", err)
	}
	rows, _ := book.GetRows("2022年度")
	book.Close()
	if len(rows) != 22 {
		t.Errorf("board XLSX has %d rows, want title, header and 20 tasks", len(rows))
	}
}

func TestAReporterSeesAndDoesWhatItsTokenAllows(t *testing.T) {
	e := newEnv(t)
	b := e.client()
	b.signIn(e.issue("填报员", "reporter", "怀柔区政府"))
	if a := b.do("GET", "/console/admin", nil); a.status != http.StatusForbidden {
		t.Fatalf("a reporter opening /console/admin: %d", a.status)
	}
	board := b.do("GET", "/console/board", nil)
	if strings.Contains(board.body, `href="/console/admin"`) {
		t.Error("a reporter is shown the administration link")
	}
	plan := taskID(t, e, "城市总体规划实施")
	page := b.do("GET", "/console/tasks/"+plan, nil)
	if !strings.Contains(page.body, "/rectification") || strings.Contains(page.body, "/close\"") {
		t.Fatal("a reporter should be offered rectification progress and not the office's sign-off")
	}
	var pid string
	e.fx.Read(t, func(db *projections.DB) error {
		ps, err := db.ListProblems(context.Background(), projections.ProblemFilter{TaskID: plan})
		pid = ps[0].ProblemID
		return err
	})
	key := func(n byte) string { return strings.Repeat(string('a'+n), 32) }
	if a := b.do("POST", "/console/tasks/"+plan+"/problems/"+pid+"/close", url.Values{"csrf": {b.csrf}, "key": {key(0)}, "outcome": {"rectified"}}); a.status != http.StatusForbidden {
		t.Fatalf("a reporter closing a problem: %d", a.status)
	}
	a := b.do("POST", "/console/tasks/"+plan+"/problems/"+pid+"/rectification", url.Values{"csrf": {b.csrf}, "key": {key(1)}, "rectified": {"192"}, "state": {"in_progress"}, "note": {"又整改到位1宗"}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("a reporter's rectification progress: %d %s", a.status, a.body)
	}
	// The form posted twice runs once (its key is the command id).
	pos, _ := e.fx.Store.LastPosition(t.Context())
	b.do("POST", "/console/tasks/"+plan+"/problems/"+pid+"/rectification", url.Values{"csrf": {b.csrf}, "key": {key(1)}, "rectified": {"192"}, "state": {"in_progress"}, "note": {"又整改到位1宗"}})
	if again, _ := e.fx.Store.LastPosition(t.Context()); again != pos {
		t.Fatal("a form posted twice ran twice")
	}
	page = b.do("GET", a.header.Get("Location"), nil)
	mustContain(t, "task after progress", page.body, "已记录整改进展", "剩余 1 项", "reporter:填报员", "又整改到位1宗")
	// A department outside the task is refused by the same matrix.
	other := e.client()
	other.signIn(e.issue("区科委", "reporter", "区科委"))
	if a := other.do("POST", "/console/indicators/i2022-hitech-stock/figures", url.Values{"csrf": {other.csrf}, "key": {key(2)},
		"value": {"620"}, "quality": {"estimate"}, "source_kind": {"self_reported"}}); a.status != http.StatusForbidden {
		t.Fatalf("a reporter of another department: %d", a.status)
	}
}

func TestAsOfShowsThePastAndTheCompareViewNamesWhoChanged(t *testing.T) {
	e := newEnv(t)
	b := e.client()
	b.signIn(e.issue("考评办", "office"))
	before := time.Now()
	time.Sleep(10 * time.Millisecond)
	var figure string
	e.fx.Read(t, func(db *projections.DB) error {
		fs, err := db.Figures(context.Background(), "i2022-hitech-stock")
		figure = fs[0].EventID
		return err
	})
	// 2022 is frozen and its figures approved: a correction takes the
	// office's reopening of the year and then of the figure, each with a
	// reason. Until then the page offers no correction, and a posted one is
	// refused (year_frozen).
	if page := b.do("GET", "/console/indicators/i2022-hitech-stock", nil); strings.Contains(page.body, `id="correct-form"`) ||
		!strings.Contains(page.body, `id="frozen"`) {
		t.Fatal("a frozen year's page offers a correction, or does not say the year is frozen")
	}
	if a := b.do("POST", "/console/indicators/i2022-hitech-stock/corrections", url.Values{"csrf": {b.csrf}, "key": {strings.Repeat("b", 32)},
		"corrects": {figure}, "value": {"612"}, "reason": {"市科委反馈"}}); a.status != http.StatusUnprocessableEntity || !strings.Contains(a.body, "year_frozen") {
		t.Fatalf("a correction in a frozen year: %d", a.status)
	}
	e.reopenYear(2022, "市科委反馈高新技术企业保有量有误，解封更正")
	page := b.do("GET", "/console/indicators/i2022-hitech-stock", nil)
	if strings.Contains(page.body, `id="correct-form"`) || !strings.Contains(page.body, `id="reopen-`+figure+`"`) {
		t.Fatal("an approved figure is offered for correction, or not for reopening")
	}
	if a := b.do("POST", "/console/indicators/i2022-hitech-stock/figures/"+figure+"/reopen", url.Values{"csrf": {b.csrf}, "key": {strings.Repeat("e", 32)},
		"back": {"indicator"}, "reason": {"市科委反馈，重新打开更正"}}); a.status != http.StatusSeeOther {
		t.Fatalf("reopening the figure: %d %s", a.status, a.body)
	}
	a := b.do("POST", "/console/indicators/i2022-hitech-stock/corrections", url.Values{"csrf": {b.csrf}, "key": {strings.Repeat("c", 32)},
		"corrects": {figure}, "value": {"612"}, "reason": {"市科委反馈"}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("correction: %d %s", a.status, a.body)
	}
	now := b.do("GET", "/console/indicators/i2022-hitech-stock", nil)
	mustContain(t, "now", now.body, "612家", "85.1%")
	past := b.do("GET", "/console/indicators/i2022-hitech-stock?as_of="+url.QueryEscape(before.Format(time.RFC3339Nano)), nil)
	mustContain(t, "as of before", past.body, "610家", `id="asof-banner"`, "不是当前数据", "84.8%")
	if strings.Contains(past.body, "612") || strings.Contains(past.body, `id="correct-form"`) {
		t.Error("the past shows the correction, or offers a write")
	}
	// Links from the past stay in the past.
	if !strings.Contains(past.body, `href="/console/board?as_of=`) {
		t.Error("links lose the as-of instant")
	}
	// A write into the past is refused even when posted.
	if a := b.do("POST", "/console/indicators/i2022-hitech-stock/figures?as_of="+url.QueryEscape(before.Format(time.RFC3339Nano)),
		url.Values{"csrf": {b.csrf}, "key": {strings.Repeat("d", 32)}, "value": {"1"}, "quality": {"estimate"}, "source_kind": {"self_reported"}}); a.status != http.StatusBadRequest {
		t.Errorf("a write into the past: %d", a.status)
	}
	if a := b.do("GET", "/console/board?as_of=yesterday", nil); a.status != http.StatusBadRequest {
		t.Errorf("a bad as_of: %d", a.status)
	}
	loc := projections.DefaultLocation
	cmp := b.do("GET", "/console/indicators/i2022-hitech-stock/compare?from="+url.QueryEscape(before.In(loc).Format("2006-01-02T15:04:05.000"))+
		"&to="+url.QueryEscape(time.Now().Add(time.Second).Format(time.RFC3339)), nil)
	mustContain(t, "compare", cmp.body, "有变化", "610", "612", "office:考评办", "市科委反馈")
}

// An additive yearly target is pro-rated by month (序时进度, rule 11): the
// monthly table and chart show target × m / 12 and the domain's verdict.
func TestMonthlyFiguresAgainstThePace(t *testing.T) {
	e := newEnv(t)
	ctx := auth.WithPrincipal(context.Background(), demotest.Office)
	meta := func(k string) domain.Meta {
		return domain.Meta{Actor: demotest.Office.Actor(), ActorTokenID: demotest.Office.TokenID, CommandID: "pace-" + k, Source: "test"}
	}
	task := taskID(t, e, "乡村振兴战略")
	target := domain.MustDecimal("3400")
	// The demo's 2022 is frozen; an indicator added to it takes the
	// office's reopening first.
	e.reopenYear(2022, "补充新建高标准农田指标")
	for i, cmd := range []domain.Command{
		domain.DefineIndicator{IndicatorID: "farmland", TaskID: task, Name: "新建高标准农田", Unit: "亩", Direction: domain.HigherIsBetter, Additive: true},
		domain.SetTarget{IndicatorID: "farmland", Value: &target},
		domain.ReportFigure{IndicatorID: "farmland", Window: domain.Window{Year: 2022, FromMonth: 1, ToMonth: 3}, Value: dec("900"),
			Quality: domain.QualityFinal, Source: domain.Source{Kind: domain.SourceSelfReported}},
		domain.ReportFigure{IndicatorID: "farmland", Window: domain.Window{Year: 2022, FromMonth: 1, ToMonth: 6}, Value: dec("1500"),
			Quality: domain.QualityProvisional, Source: domain.Source{Kind: domain.SourceSelfReported}},
	} {
		res, err := e.fx.Service.Execute(ctx, meta(strconv.Itoa(i)), cmd, app.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.fx.Live.Wait(ctx, res.Position); err != nil {
			t.Fatal(err)
		}
	}
	b := e.client()
	b.signIn(e.admin)
	page := b.do("GET", "/console/indicators/farmland", nil)
	// 3 months: 850 expected, 900 done; 6 months: 1700 expected, 1500 done.
	mustContain(t, "farmland", page.body, "序时进度（年度目标 × 月数 ÷ 12）", `<td class="num">850.00亩</td>`,
		`<td class="num">1700.00亩</td>`, "符合序时进度", "滞后于序时进度", "50.0%（应达 1700亩）")
}

func dec(s string) *domain.Decimal { d := domain.MustDecimal(s); return &d }

func TestTheBoardIsPaged(t *testing.T) {
	e := newEnv(t)
	defer func(n int) { boardPageSize = n }(boardPageSize)
	boardPageSize = 8
	b := e.client()
	b.signIn(e.admin)
	rows := func(a answer) int { return strings.Count(a.body, `<th scope="row"><a href="/console/tasks/`) }
	first, last := b.do("GET", "/console/board", nil), b.do("GET", "/console/board?page=3", nil)
	if rows(first) != 8 || rows(last) != 4 || !strings.Contains(first.body, "第 1/3 页") || !strings.Contains(first.body, `rel="next"`) {
		t.Fatalf("pages: %d and %d rows", rows(first), rows(last))
	}
	// Numbering runs on across pages, and the counts cover every page.
	mustContain(t, "page 3", last.body, `<td class="num">17</td>`, "共 <strong>20</strong> 项任务", `rel="prev"`)
	if a := b.do("GET", "/console/board?page=4", nil); a.status != http.StatusBadRequest {
		t.Errorf("a page past the end: %d", a.status)
	}
}
