package console

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"kpitrail/domain"
)

// section is the part of a page inside <section id="id">, "" when absent.
func section(body, id string) string {
	loc := regexp.MustCompile(`<section[^>]* id="` + regexp.QuoteMeta(id) + `"`).FindStringIndex(body)
	if loc == nil {
		return ""
	}
	s, _, _ := strings.Cut(body[loc[1]:], "</section>")
	return s
}

// formKey returns a new 32-hex form key for test posts (n tells them apart).
func formKey(n int) string {
	return strings.Repeat(string(rune('a'+n%6)), 31) + string(rune('0'+n/6%10))
}

var submitForm = regexp.MustCompile(`action="/console/indicators/([^/]+)/figures/([^/]+)/submit"`)

// A department's figure goes through the work queues: the reporter submits
// it, the office returns it with a reason, the reporter submits it again
// and the office approves it. A reporter never approves, another
// department sees none of it, an auditor reads it without a form, and the
// office cannot approve what it submitted itself.
func TestTheReviewQueueReturnsAndApprovesAReportersFigure(t *testing.T) {
	e := newEnv(t)
	e.reopenYear(2022, "补报总体规划实施任务的半年数据")
	const ind = "i2022-master-plan-tasks"
	const name = "市级下发总体规划实施任务完成数"
	office, reporter, other, auditor := e.client(), e.client(), e.client(), e.client()
	office.signIn(e.issue("考评办", "office"))
	reporter.signIn(e.issue("怀柔区政府填报员", "reporter", "怀柔区政府"))
	other.signIn(e.issue("区科委填报员", "reporter", "区科委"))
	auditor.signIn(e.issue("审计员", "auditor"))

	a := reporter.do("POST", "/console/indicators/"+ind+"/figures", url.Values{"csrf": {reporter.csrf}, "key": {formKey(0)},
		"from_month": {"1"}, "to_month": {"6"}, "value": {"9"}, "quality": {"final"}, "source_kind": {"self_reported"}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("the reporter's figure: %d %s", a.status, a.body)
	}
	// The reporter's queue offers it for submission.
	q := section(reporter.do("GET", "/console/queues", nil).body, "review")
	m := submitForm.FindStringSubmatch(q)
	if !strings.Contains(q, "待提交审核的数值") || m == nil || m[1] != ind {
		t.Fatalf("the reporter's review queue does not offer the new figure: %s", q)
	}
	fig := m[2]
	base := "/console/indicators/" + ind + "/figures/" + fig
	a = reporter.do("POST", base+"/submit", url.Values{"csrf": {reporter.csrf}, "key": {formKey(1)}, "reason": {"上半年完成9项"}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/console/queues?saved=submitted#review" {
		t.Fatalf("submitting from the queue: %d %q", a.status, a.header.Get("Location"))
	}
	if q := section(reporter.do("GET", "/console/queues", nil).body, "review"); strings.Contains(q, fig) {
		t.Error("a submitted figure is still in the reporter's queue to submit")
	}

	// The office's queue: the figure, who submitted it, approve and return.
	q = section(office.do("GET", "/console/queues", nil).body, "review")
	mustContain(t, "the office's review queue", q, name, "1-6月 9（最终）", "reporter:怀柔区政府填报员",
		`id="approve-`+fig+`"`, `id="return-`+fig+`"`, `action="`+base+`/approve"`, `action="`+base+`/return"`)
	// An auditor reads the queue and is offered no decision.
	q = section(auditor.do("GET", "/console/queues", nil).body, "review")
	if !strings.Contains(q, name) || strings.Contains(q, "<form") {
		t.Errorf("the auditor's review queue: %s", q)
	}
	// Another department sees nothing of it.
	if p := other.do("GET", "/console/queues", nil).body; strings.Contains(p, name) || strings.Contains(p, fig) {
		t.Error("another department's reporter sees the figure in its queues")
	}

	// Refused, and nothing written: the reporter approving (its own
	// submission, and a reporter never approves), another department
	// returning, the office returning without a reason.
	pos := e.lastPosition()
	if a := reporter.do("POST", base+"/approve", url.Values{"csrf": {reporter.csrf}, "key": {formKey(2)}}); a.status != http.StatusForbidden {
		t.Errorf("a reporter approving: %d", a.status)
	}
	if a := other.do("POST", base+"/return", url.Values{"csrf": {other.csrf}, "key": {formKey(3)}, "reason": {"x"}}); a.status != http.StatusForbidden {
		t.Errorf("another department returning: %d", a.status)
	}
	if a := office.do("POST", base+"/return", url.Values{"csrf": {office.csrf}, "key": {formKey(4)}}); a.status != http.StatusBadRequest ||
		!strings.Contains(a.body, "<code>reason</code>") {
		t.Errorf("returning without a reason: %d", a.status)
	}
	if e.lastPosition() != pos {
		t.Fatal("a refused review step wrote to the log")
	}

	// Returned with a reason: off the office's queue, back on the
	// reporter's with the reason.
	a = office.do("POST", base+"/return", url.Values{"csrf": {office.csrf}, "key": {formKey(5)}, "reason": {"请附季度调度记录"}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("returning: %d %s", a.status, a.body)
	}
	if page := office.do("GET", a.header.Get("Location"), nil).body; strings.Contains(section(page, "review"), fig) || !strings.Contains(page, "已退回，原因已记录") {
		t.Error("a returned figure is still in the office's queue, or the notice is missing")
	}
	q = section(reporter.do("GET", "/console/queues", nil).body, "review")
	mustContain(t, "the reporter's queue after the return", q, name, "已退回：请附季度调度记录", `action="`+base+`/submit"`)

	// Submitted again from the indicator page, approved from the office's
	// indicator page, which then offers to reopen it.
	page := reporter.do("GET", "/console/indicators/"+ind, nil).body
	mustContain(t, "the reporter's indicator page", page, `id="submit-`+fig+`"`, "已退回", "请附季度调度记录")
	if a := reporter.do("POST", base+"/submit", url.Values{"csrf": {reporter.csrf}, "key": {formKey(6)}, "back": {"indicator"},
		"reason": {"已补季度调度记录"}}); a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/console/indicators/"+ind+"?") {
		t.Fatalf("submitting again: %d %q", a.status, a.header.Get("Location"))
	}
	page = office.do("GET", "/console/indicators/"+ind, nil).body
	mustContain(t, "the office's indicator page", page, `id="approve-`+fig+`"`, `id="return-`+fig+`"`, "待审核")
	if strings.Contains(reporter.do("GET", "/console/indicators/"+ind, nil).body, `id="approve-`) {
		t.Error("a reporter's indicator page offers approval")
	}
	a = office.do("POST", base+"/approve", url.Values{"csrf": {office.csrf}, "key": {formKey(7)}, "back": {"indicator"}, "reason": {"与调度记录一致"}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("approving: %d %s", a.status, a.body)
	}
	page = office.do("GET", a.header.Get("Location"), nil).body
	mustContain(t, "after approval", page, "已审核通过，该数值已锁定", "审核 office:考评办", "与调度记录一致", `id="reopen-`+fig+`"`)
	if strings.Contains(section(office.do("GET", "/console/queues", nil).body, "review"), fig) ||
		strings.Contains(section(reporter.do("GET", "/console/queues", nil).body, "review"), fig) {
		t.Error("an approved figure is still in a review queue")
	}

	// What the office submits itself it does not approve: not in its
	// queue, no form, and a posted approval is refused.
	a = office.do("POST", "/console/indicators/"+ind+"/figures", url.Values{"csrf": {office.csrf}, "key": {formKey(8)},
		"from_month": {"1"}, "to_month": {"9"}, "value": {"14"}, "quality": {"final"}, "source_kind": {"self_reported"}})
	if a.status != http.StatusSeeOther {
		t.Fatalf("the office's figure: %d", a.status)
	}
	var own string
	for _, m := range submitForm.FindAllStringSubmatch(office.do("GET", "/console/indicators/"+ind, nil).body, -1) {
		own = m[2]
	}
	if own == "" || own == fig {
		t.Fatal("the office's own figure is not offered for submission")
	}
	if a := office.do("POST", "/console/indicators/"+ind+"/figures/"+own+"/submit", url.Values{"csrf": {office.csrf}, "key": {formKey(9)}}); a.status != http.StatusSeeOther {
		t.Fatalf("the office submitting: %d", a.status)
	}
	if strings.Contains(section(office.do("GET", "/console/queues", nil).body, "review"), own) ||
		strings.Contains(office.do("GET", "/console/indicators/"+ind, nil).body, `id="approve-`+own+`"`) {
		t.Error("the office is offered to approve its own submission")
	}
	pos = e.lastPosition()
	if a := office.do("POST", "/console/indicators/"+ind+"/figures/"+own+"/approve", url.Values{"csrf": {office.csrf}, "key": {formKey(10)}}); a.status != http.StatusForbidden ||
		e.lastPosition() != pos {
		t.Errorf("the office approving its own submission: %d", a.status)
	}
	// Another person of the office decides it.
	second := e.client()
	second.signIn(e.issue("考评办复核", "office"))
	if q := section(second.do("GET", "/console/queues", nil).body, "review"); !strings.Contains(q, `id="approve-`+own+`"`) {
		t.Error("another office reviewer is not offered the office's submission")
	}
}

var explainForm = regexp.MustCompile(`(?s)<form method="post" action="/console/indicators/farmland/warnings/explain"[^>]*>(.*?)</form>`)

// Warnings to explain and reports late or missing by period, each within
// the reader's scope; a warning explained from the queue leaves it and
// shows its explanation on the indicator's page.
func TestWarningAndLateReportQueues(t *testing.T) {
	e := newEnv(t)
	e.reopenYear(2022, "补充新建高标准农田指标")
	task := taskID(t, e, "城市总体规划实施")
	e.exec("farmland",
		domain.DefineIndicator{IndicatorID: "farmland", TaskID: task, Name: "新建高标准农田", Unit: "亩", Direction: domain.HigherIsBetter,
			Additive: true, Cadence: "quarterly"},
		domain.ReportFigure{IndicatorID: "farmland", Window: domain.Window{Year: 2022, FromMonth: 1, ToMonth: 6}, Value: dec("1500"),
			Quality: domain.QualityFinal, Source: domain.Source{Kind: domain.SourceSelfReported}})
	office, reporter, other := e.client(), e.client(), e.client()
	office.signIn(e.issue("考评办", "office"))
	reporter.signIn(e.issue("怀柔区政府填报员", "reporter", "怀柔区政府"))
	other.signIn(e.issue("区科委填报员", "reporter", "区科委"))
	// A cumulative figure that goes down is recorded, with a warning.
	if a := reporter.do("POST", "/console/indicators/farmland/figures", url.Values{"csrf": {reporter.csrf}, "key": {formKey(0)},
		"from_month": {"1"}, "to_month": {"9"}, "value": {"900"}, "quality": {"final"}, "source_kind": {"self_reported"}}); a.status != http.StatusSeeOther {
		t.Fatalf("the reporter's figure: %d %s", a.status, a.body)
	}

	page := office.do("GET", "/console/queues", nil).body
	mustContain(t, "the office's warnings", section(page, "warnings"), "新建高标准农田", "累计值下降", "/console/indicators/farmland/warnings/explain")
	// Quarterly, judged today: the first and last quarters missing, the
	// second and third reported long after their due dates.
	periods := section(page, "periods")
	mustContain(t, "the office's late and missing reports", periods, "2022年第1季度 · 新建高标准农田", "缺报，应于 2022-04-10 前报送",
		"2022年第2季度 · 新建高标准农田", "2022年第3季度 · 新建高标准农田", "迟报：应于 2022-10-10 前", "2022年第4季度 · 新建高标准农田")
	if p := other.do("GET", "/console/queues", nil).body; strings.Contains(p, "新建高标准农田") {
		t.Error("another department sees the warning or the periods")
	}

	// The reporter explains the warning from its queue; a reason is
	// required.
	m := explainForm.FindStringSubmatch(section(reporter.do("GET", "/console/queues", nil).body, "warnings"))
	if m == nil {
		t.Fatal("the reporter's queue offers no explanation form")
	}
	fields := url.Values{"csrf": {reporter.csrf}}
	for _, f := range regexp.MustCompile(`name="(rule|figure)" value="([^"]*)"`).FindAllStringSubmatch(m[1], -1) {
		fields.Set(f[1], f[2])
	}
	if fields.Get("rule") != "cumulative_decrease" {
		t.Fatalf("the explanation form names rule %q", fields.Get("rule"))
	}
	fields.Set("key", formKey(1))
	pos := e.lastPosition()
	if a := other.do("POST", "/console/indicators/farmland/warnings/explain", url.Values{"csrf": {other.csrf}, "key": {formKey(2)},
		"rule": {fields.Get("rule")}, "figure": {fields.Get("figure")}, "reason": {"x"}}); a.status != http.StatusForbidden {
		t.Errorf("another department explaining: %d", a.status)
	}
	if a := reporter.do("POST", "/console/indicators/farmland/warnings/explain", fields); a.status != http.StatusBadRequest ||
		!strings.Contains(a.body, "<code>reason</code>") {
		t.Errorf("an explanation without a reason: %d", a.status)
	}
	if e.lastPosition() != pos {
		t.Fatal("a refused explanation wrote to the log")
	}
	fields.Set("key", formKey(3))
	fields.Set("reason", "1-9月口径调整，剔除重复统计的600亩")
	if a := reporter.do("POST", "/console/indicators/farmland/warnings/explain", fields); a.status != http.StatusSeeOther ||
		a.header.Get("Location") != "/console/queues?saved=explained#warnings" {
		t.Fatalf("explaining: %d %q", a.status, a.header.Get("Location"))
	}
	if strings.Contains(section(office.do("GET", "/console/queues", nil).body, "warnings"), "新建高标准农田") {
		t.Error("an explained warning is still in the queue")
	}
	mustContain(t, "the indicator's warnings", section(office.do("GET", "/console/indicators/farmland", nil).body, "warnings"),
		"累计值下降", "已说明", "1-9月口径调整，剔除重复统计的600亩", "reporter:怀柔区政府填报员")
}
