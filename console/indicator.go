package console

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"kpitrail/domain"
	"kpitrail/projections"
)

// The indicator page: target, latest figure, quality, completion and
// progress; the year-over-year chart across years (each year compared in
// its own coverage window, a recorded base marked); the monthly cumulative
// figures against 序时进度; every figure ever reported; and the forms to
// report and correct. Every number is the read models' or the domain's:
// the page computes only where to draw it.

type indicatorPage struct {
	projections.Indicator
	Task    projections.Task
	Figures []projections.Figure
	// Current are the figures a correction may name: current, and neither
	// awaiting review nor approved (those are locked until the office
	// returns or reopens them). Approved are the ones the office may reopen.
	Current  []projections.Figure
	Approved []projections.Figure
	// Frozen: the indicator's year is frozen; nothing of it changes until
	// the office reopens the year.
	Frozen    bool
	Warnings  []projections.Warning
	Proposals []projections.Proposal
	Years     []yearRow
	YoY       chart
	HasYoY    bool
	Months    []monthRow
	Monthly   chart
	HasMonth  bool
	Pace      string // what the monthly chart compares with
	// Form choices.
	Qualities   []domain.Quality
	SourceKinds []domain.SourceKind
	MonthList   []int
}

type yearRow struct {
	projections.IndicatorYear
	Change string // 同比 as the tables write it: −18.8%, +2.5个百分点, 新增
	// ApprovedChange is the same on approved figures alone.
	ApprovedChange string
}

type monthRow struct {
	Month    int
	Value    string
	Quality  string
	Expected string // what 序时进度 asks by this month
	Pace     string // domain status of the value against the pace
}

func (c *Console) indicator(w http.ResponseWriter, r *http.Request, v *view) error {
	var p indicatorPage
	err := v.read(func(ctx context.Context, db *projections.DB) error {
		if err := v.readableIndicator(ctx, db, r.PathValue("id")); err != nil {
			return err
		}
		var err error
		if p.Indicator, err = db.GetIndicator(ctx, r.PathValue("id")); err != nil {
			return err
		}
		// The task's title and departments, from the board the read
		// models keep (GetTask would read its indicators and problems too).
		board, err := db.TaskBoard(ctx, projections.TaskFilter{Year: p.Year})
		if err != nil {
			return err
		}
		for i := range board {
			if board[i].ID == p.TaskID {
				p.Task = board[i]
			}
		}
		if p.Task.ID == "" { // a task of another year than its indicator
			d, err := db.GetTask(ctx, p.TaskID)
			if err != nil {
				return err
			}
			p.Task = d.Task
		}
		if p.Figures, err = db.Figures(ctx, p.ID); err != nil {
			return err
		}
		if err := p.readLifecycle(ctx, db); err != nil {
			return err
		}
		years, err := db.History(ctx, p.Key)
		if err != nil {
			return err
		}
		// One key's years may belong to other tasks, led by others: a
		// reporter sees the years of the tasks it may read, as the API's
		// history gives them.
		vis := v.visibility()
		for _, y := range years {
			ok, err := vis.Task(ctx, db, y.TaskID)
			if err != nil {
				return err
			}
			if ok {
				p.Years = append(p.Years, yearRow{IndicatorYear: y, Change: yoyText(y), ApprovedChange: approvedYoYText(y)})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, f := range p.Figures {
		if f.State != "current" {
			continue
		}
		switch domain.ReviewState(f.ReviewState) {
		case domain.ReviewApproved:
			p.Approved = append(p.Approved, f)
		case domain.ReviewSubmitted:
		default:
			p.Current = append(p.Current, f)
		}
	}
	p.YoY, p.HasYoY = yoyChart(p.Indicator, p.Years)
	p.Months, p.Monthly, p.Pace = monthly(p.Indicator, p.Figures)
	p.HasMonth = len(p.Months) > 0
	p.Qualities, p.SourceKinds = qualities, sourceKinds
	for m := 1; m <= 12; m++ {
		p.MonthList = append(p.MonthList, m)
	}
	v.Notice = notice(r)
	return c.render(w, v, http.StatusOK, "indicator", p.Name, p)
}

// yoyText is a year's change as the tables write it: a rate's change in
// percentage points (个百分点), anything else in per cent, "新增" when the
// base was zero.
func yoyText(y projections.IndicatorYear) string {
	switch {
	case y.IsNew:
		return "新增"
	case y.IsRate && y.ChangePP != "":
		return signed(y.ChangePP) + "个百分点"
	case y.ChangePctDisplay != "":
		return pct(y.ChangePctDisplay)
	}
	return ""
}

// approvedYoYText is yoyText on the approved figures and base.
func approvedYoYText(y projections.IndicatorYear) string {
	return yoyText(projections.IndicatorYear{IsRate: y.IsRate, IsNew: y.ApprovedIsNew, ChangePP: y.ApprovedChangePP,
		ChangePctDisplay: y.ApprovedChangePctDisplay})
}

func yearLabel(y projections.IndicatorYear) string {
	if y.ValueWindow == "" || y.ValueWindow == strconv.Itoa(y.Year) {
		return fmt.Sprintf("%d年", y.Year)
	}
	return windowLabel(y.ValueWindow)
}

// yoyChart draws each year's value beside the base it was compared with
// (the same window of the year before), the change written above it.
func yoyChart(in projections.Indicator, years []yearRow) (chart, bool) {
	c := chart{ID: "yoy-" + in.ID, Title: in.Name + "：历年同期对比", Kind: "bar"}
	base := chartSeries{Name: "上年同期", Class: "base"}
	cur := chartSeries{Name: "本年", Class: "actual"}
	any := false
	for _, y := range years {
		c.XLabels = append(c.XLabels, yearLabel(y.IndicatorYear))
		bp := decimalPoint(y.Base, in.Unit)
		if bp.Has && y.BaseSource == projections.BaseFromRecorded {
			bp.Mark = "†"
			bp.Text += "（录入基数）"
		}
		base.Points = append(base.Points, bp)
		cp := decimalPoint(y.Value, in.Unit)
		cp.Mark = y.Change
		cur.Points = append(cur.Points, cp)
		any = any || cp.Has
	}
	c.Series = []chartSeries{base, cur}
	return c, any
}

func decimalPoint(s, unit string) chartPoint {
	if s == "" {
		return chartPoint{}
	}
	d, err := domain.ParseDecimal(s)
	if err != nil {
		return chartPoint{}
	}
	return chartPoint{Has: true, Value: d.Float64(), Text: s + unit}
}

// monthly gives the year's cumulative figures (windows from January) by
// month, with what 序时进度 expects by then: the domain's pro-rated
// target for an additive indicator, the year's target itself for a stock
// or a ratio, which are never pro-rated.
func monthly(in projections.Indicator, figures []projections.Figure) ([]monthRow, chart, string) {
	byMonth := map[int]projections.Figure{}
	for _, f := range figures {
		if f.State == "current" && f.FromMonth == 1 && f.ToMonth >= 1 && f.ToMonth <= 12 {
			byMonth[f.ToMonth] = f
		}
	}
	target, hasTarget := decimalValue(in.Target)
	pace := ""
	additive := in.Additive && hasTarget && in.Direction != string(domain.WithinRange)
	switch {
	case additive:
		pace = "序时进度（年度目标 × 月数 ÷ 12）"
	case hasTarget:
		pace = "年度目标（存量或比率指标，不按月分摊）"
	}
	mode, _ := domain.RoundingModeFromString(in.Rounding)
	c := chart{ID: "month-" + in.ID, Title: in.Name + "：月度累计与序时进度", Kind: "line"}
	actual := chartSeries{Name: "累计完成", Class: "actual"}
	expected := chartSeries{Name: "序时进度", Class: "expected", Dashed: true}
	if !additive {
		expected.Name, expected.Class = "年度目标", "target"
	}
	var rows []monthRow
	for m := 1; m <= 12; m++ {
		c.XLabels = append(c.XLabels, strconv.Itoa(m)+"月")
		row := monthRow{Month: m}
		var exp chartPoint
		switch {
		case additive:
			if e, err := domain.ExpectedToDate(target, m); err == nil {
				text := domain.RoundRat(e, 2, mode).String()
				exp = chartPoint{Has: true, Value: ratFloat(e), Text: text + in.Unit}
				row.Expected = text
			}
		case hasTarget:
			exp = chartPoint{Has: true, Value: target.Float64(), Text: in.Target + in.Unit}
			row.Expected = in.Target
		}
		expected.Points = append(expected.Points, exp)
		f, ok := byMonth[m]
		if !ok {
			actual.Points = append(actual.Points, chartPoint{})
			continue
		}
		actual.Points = append(actual.Points, decimalPoint(f.Value, in.Unit))
		row.Value, row.Quality = f.Value, f.Quality
		row.Pace = paceOf(in, f, target, hasTarget, m)
		rows = append(rows, row)
	}
	c.Series = []chartSeries{actual}
	if pace != "" {
		c.Series = append(c.Series, expected)
	}
	return rows, c, pace
}

// paceOf asks the domain how a month's cumulative figure stands against
// the pace, with the year still open: on_track or behind.
func paceOf(in projections.Indicator, f projections.Figure, target domain.Decimal, hasTarget bool, month int) string {
	if !hasTarget {
		return ""
	}
	actual, err := domain.ParseDecimal(f.Value)
	if err != nil {
		return ""
	}
	comp, err := domain.ComputeCompletion(domain.CompletionInput{Direction: domain.Direction(in.Direction),
		Formula: domain.Formula(in.Formula), Actual: actual, Target: target})
	if err != nil {
		return ""
	}
	return string(domain.ClassifyProgress(domain.ProgressInput{Completion: &comp, Direction: domain.Direction(in.Direction),
		Additive: in.Additive, ThroughMonth: month, Actual: actual, Target: target}))
}

func decimalValue(s string) (domain.Decimal, bool) {
	if s == "" {
		return domain.Decimal{}, false
	}
	d, err := domain.ParseDecimal(s)
	return d, err == nil
}
