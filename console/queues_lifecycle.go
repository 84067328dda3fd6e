package console

import (
	"context"
	"slices"

	"kpitrail/domain"
	"kpitrail/httpapi"
	"kpitrail/projections"
)

// The figure lifecycle's queues: what awaits the principal's review step
// (a department's figures to submit; the office's figures to approve or
// return and proposals to decide), open warnings to explain, and reports
// late or missing by department and period. They read what the API's
// routes read (GET /v1/review-queue, /v1/warnings, /v1/completeness),
// within the same read scope.

// lifecycle is what those queues read, once per page.
type lifecycle struct {
	review       []projections.ReviewItem
	warnings     []projections.Warning
	completeness projections.Completeness
}

func readLifecycle(ctx context.Context, db *projections.DB, v *view, year int, today string) (lifecycle, error) {
	var l lifecycle
	var err error
	if l.review, err = httpapi.ReviewQueue(ctx, db, v.P, v.scope, year); err != nil {
		return l, err
	}
	warnings, err := db.Warnings(ctx, projections.WarningFilter{Year: year})
	if err != nil {
		return l, err
	}
	if l.warnings, err = httpapi.VisibleRows(ctx, db, v.scope, warnings, func(w projections.Warning) string { return w.TaskID }); err != nil {
		return l, err
	}
	l.completeness, err = db.Completeness(ctx, projections.CompletenessFilter{Year: year, On: domain.Date(today),
		Statuses: []string{domain.PeriodMissing, domain.PeriodLate}, SeesTask: httpapi.SeesTask(ctx, db, v.scope)})
	return l, err
}

// queueAction is one form an item offers: a POST to Path with the
// session's CSRF value, a fresh form key and, when Reason is set, a reason
// (required when Required is).
type queueAction struct {
	ID       string
	Label    string
	Path     string
	Reason   string // the reason field's label; "" for no field
	Required bool
	// Fields are hidden fields the command needs (a warning's rule).
	Fields map[string]string
}

func reviewQueue(in queueInput) queueSection {
	g := grouped{}
	for _, x := range in.review {
		t := in.tasks[x.TaskID]
		it := queueItem{Title: x.IndicatorName, Link: in.v.Link("/console/indicators/" + x.IndicatorID)}
		base := "/console/indicators/" + x.IndicatorID
		switch x.Action {
		case "approve":
			it.Detail = windowLabel(x.Window) + " " + x.Value + "（" + qualityLabel(x.Quality) + "），" + x.By + " 于 " + in.v.When(x.Since) + " 提交"
			it.Tone = "warn"
			if in.v.CanDecide("indicator.approve_figure", t, x.By) {
				it.Actions = append(it.Actions, queueAction{ID: "approve-" + x.EventID, Label: "审核通过",
					Path: base + "/figures/" + x.EventID + "/approve", Reason: "意见（可选）"})
			}
			if in.v.CanDecide("indicator.return_figure", t, "") {
				it.Actions = append(it.Actions, queueAction{ID: "return-" + x.EventID, Label: "退回",
					Path: base + "/figures/" + x.EventID + "/return", Reason: "退回原因（必填）", Required: true})
			}
		case "submit":
			it.Detail = windowLabel(x.Window) + " " + x.Value + "（" + qualityLabel(x.Quality) + "），" + reviewLabel(x.State)
			it.Tone = reviewTone(x.State)
			if x.Reason != "" {
				it.Detail += "：" + x.Reason
			}
			if in.v.CanDecide("indicator.submit_figure", t, "") {
				it.Actions = append(it.Actions, queueAction{ID: "submit-" + x.EventID, Label: "提交审核",
					Path: base + "/figures/" + x.EventID + "/submit", Reason: "说明（可选）"})
			}
		case "decide":
			what := "基数"
			if x.State == domain.ProposalTarget {
				what = "目标"
			}
			it.Detail = x.By + " 提议" + what + " " + x.Value
			if x.Window != "" && x.State == domain.ProposalBase {
				it.Detail = x.By + " 提议" + windowLabel(x.Window) + what + " " + x.Value
			}
			it.Detail += "：" + x.Reason
			it.Tone = "warn"
			if in.v.CanDecide("indicator.approve_proposal", t, x.By) {
				it.Actions = append(it.Actions, queueAction{ID: "approve-" + x.EventID, Label: "批准",
					Path: base + "/proposals/" + x.EventID + "/approve", Reason: "意见（可选）"})
			}
			if in.v.CanDecide("indicator.reject_proposal", t, "") {
				it.Actions = append(it.Actions, queueAction{ID: "reject-" + x.EventID, Label: "驳回",
					Path: base + "/proposals/" + x.EventID + "/reject", Reason: "驳回原因（必填）", Required: true})
			}
		}
		g.add(x.LeadDepartment, it)
	}
	title, note := "待审核", "各单位提交的数值和提议（基数、目标），最早的在前；自己提交的不由自己审核。"
	if in.v.P.Role == "reporter" {
		title, note = "待提交审核的数值", "本单位的现行数值：新报送的、被退回的和被重新打开的，提交后由考评办审核。"
	}
	return queueSection{ID: "review", Title: title, Note: note, Groups: g.groups()}
}

func openWarnings(in queueInput) queueSection {
	g := grouped{}
	for _, x := range in.warnings {
		t := in.tasks[x.TaskID]
		it := queueItem{Title: x.IndicatorName, Link: in.v.Link("/console/indicators/"+x.IndicatorID) + "#warnings",
			Detail: ruleLabel(x.Rule) + "：" + x.Message, Tone: severityTone(x.Severity)}
		if in.v.Can("indicator.explain_warning", t) {
			it.Actions = append(it.Actions, queueAction{ID: "explain-" + x.IndicatorID + "-" + x.Rule + "-" + x.Figure, Label: "说明",
				Path: "/console/indicators/" + x.IndicatorID + "/warnings/explain", Reason: "说明（必填）", Required: true,
				Fields: map[string]string{"rule": x.Rule, "figure": x.Figure}})
		}
		g.add(x.LeadDepartment, it)
	}
	return queueSection{ID: "warnings", Title: "待说明的预警", Note: "校验规则标出的可疑数值：数值照常记录，需要报送单位或考评办说明原因。", Groups: g.groups()}
}

// lateReports lists, by department, each reporting period whose figures
// are missing or came late, as judged on the page's day.
func lateReports(in queueInput) queueSection {
	g := grouped{}
	periods := slices.Clone(in.completeness.Periods)
	slices.SortStableFunc(periods, func(a, b projections.PeriodEntry) int {
		if a.Due != b.Due {
			if a.Due < b.Due {
				return -1
			}
			return 1
		}
		return 0
	})
	for _, p := range periods {
		it := queueItem{Title: periodLabel(p.Period) + " · " + p.IndicatorName, Link: in.v.Link("/console/indicators/" + p.IndicatorID)}
		switch p.Status {
		case domain.PeriodMissing:
			it.Detail, it.Tone = "缺报，应于 "+p.Due+" 前报送", "bad"
		default:
			it.Detail, it.Tone = "迟报：应于 "+p.Due+" 前，"+in.v.When(p.ReportedAt)+" 报送", "warn"
		}
		g.add(p.Department, it)
	}
	return queueSection{ID: "periods", Title: "缺报和迟报", Note: "按报送期和截止日期（年度报送日历）判断，判断日为 " + in.today + "。", Groups: g.groups()}
}
