package importer

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"kpitrail/app"
	"kpitrail/domain"
	"kpitrail/eventstore"
)

// monthlySheet reports, for each indicator, an estimate and then the final
// figure of each year-to-date window, row after row, as a unit fills its
// sheet month by month.
func monthlySheet(indicators, months int) string {
	var rows []string
	for i := range indicators {
		id := fmt.Sprintf("ind-%d", i)
		for m := 1; m <= months; m++ {
			est := map[string]string{"indicator_id": id, "window_year": "2022", "from_month": "1", "to_month": fmt.Sprint(m),
				"value": fmt.Sprint(50*m + 1), "quality": "estimate", "note": "月度预计数"}
			if m == 1 {
				est["task_id"], est["name"], est["unit"], est["direction"], est["target"] = hitech, fmt.Sprintf("新增企业（%d）", i), "家", "higher", "700"
			}
			rows = append(rows, row(est), row(map[string]string{"indicator_id": id, "window_year": "2022", "from_month": "1",
				"to_month": fmt.Sprint(m), "value": fmt.Sprint(50 * m), "quality": "final", "source_kind": "statistics_bureau", "source_name": "区统计局"}))
		}
	}
	return figureSheet(rows...)
}

func TestAnIndicatorsRowsAreStoredInFewMessages(t *testing.T) {
	p, err := PlanFigures(strings.NewReader(monthlySheet(2, 3)), CSV)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, pc := range p.Commands {
		s := fmt.Sprintf("%d:%s", pc.Line, pc.Command.CommandName())
		if c, ok := pc.Command.(domain.ReportFigures); ok {
			var ws []string
			for _, f := range c.Figures {
				ws = append(ws, f.Window.Key()+"/"+string(f.Quality))
			}
			s += "[" + strings.Join(ws, " ") + "]"
		}
		got = append(got, s)
	}
	want := []string{"2:indicator.define", "2:indicator.set_target",
		"2:indicator.report_figures[2022-01..2022-01/estimate 2022-01..2022-02/estimate 2022-01..2022-03/estimate]",
		"3:indicator.report_figures[2022-01..2022-01/final 2022-01..2022-02/final 2022-01..2022-03/final]",
		"8:indicator.define", "8:indicator.set_target",
		"8:indicator.report_figures[2022-01..2022-01/estimate 2022-01..2022-02/estimate 2022-01..2022-03/estimate]",
		"9:indicator.report_figures[2022-01..2022-01/final 2022-01..2022-02/final 2022-01..2022-03/final]"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if p.Summary.Figures != 12 {
		t.Errorf("summary counts %d figures, want 12", p.Summary.Figures)
	}
	again, _ := PlanFigures(strings.NewReader(monthlySheet(2, 3)), CSV)
	for i := range p.Commands {
		if again.Commands[i].Key != p.Commands[i].Key {
			t.Fatalf("command %d: key %s, then %s: a key must follow from the content", i, p.Commands[i].Key, again.Commands[i].Key)
		}
	}

	ctx := context.Background()
	store := eventstore.NewMemory(nil)
	svc := app.NewService(store)
	register(t, svc)
	before := lastPos(t, store)
	rep, err := Apply(ctx, svc, p, "b1", by)
	if err != nil || rep.Applied != len(p.Commands) {
		t.Fatalf("apply %+v, %v", rep, err)
	}
	if n := lastPos(t, store) - before; n != 8 {
		t.Errorf("%d messages for 2 indicators' definitions, targets and 12 figures, want 8", n)
	}
	for _, id := range []string{"ind-0", "ind-1"} {
		in := loadIndicator(t, store, id)
		for m := 1; m <= 3; m++ {
			w := domain.Window{Year: 2022, FromMonth: 1, ToMonth: m}
			f, ok := in.Current(w)
			if !ok || f.Quality != domain.QualityFinal || f.Value.String() != fmt.Sprint(50*m) {
				t.Errorf("%s %s: current %+v", id, w.Key(), f)
			}
		}
	}
	if again, err := Apply(ctx, svc, p, "b2", by); err != nil || again.AlreadyPresent != len(p.Commands) || lastPos(t, store) != before+8 {
		t.Fatalf("re-apply %+v, %v", again, err)
	}
}

// TestUndoRetractsEveryFigureOfAGroup: on indicators the batch did not
// define, undo retracts each figure a grouped command stored, the last
// first, so every window ends with no current figure.
func TestUndoRetractsEveryFigureOfAGroup(t *testing.T) {
	ctx := context.Background()
	store := eventstore.NewMemory(nil)
	svc := app.NewService(store)
	register(t, svc)
	p, err := PlanFigures(strings.NewReader(monthlySheet(1, 3)), CSV)
	if err != nil {
		t.Fatal(err)
	}
	// The definition and target come from elsewhere (the API, say); the
	// batch reports the figures only.
	for _, pc := range p.Commands[:2] {
		if _, err := svc.Execute(ctx, domain.Meta{Actor: actor, CommandID: "by-hand-" + pc.Key, Source: "api"}, pc.Command, app.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	p.Commands = p.Commands[2:]
	if _, err := Apply(ctx, svc, p, "b1", by); err != nil {
		t.Fatal(err)
	}
	u, err := Undo(ctx, svc, p, "b1", by)
	if err != nil || u.FiguresRetracted != 6 || len(u.NotCompensated) != 0 {
		t.Fatalf("undo %+v, %v", u, err)
	}
	in := loadIndicator(t, store, "ind-0")
	for m := 1; m <= 3; m++ {
		if f, ok := in.Current(domain.Window{Year: 2022, FromMonth: 1, ToMonth: m}); ok {
			t.Errorf("window %d still has %+v", m, f)
		}
	}
	if again, err := Undo(ctx, svc, p, "b1", by); err != nil || again.FiguresRetracted != 0 {
		t.Fatalf("second undo %+v, %v", again, err)
	}
}

func TestGroupsAreCappedAndLoneRowsKeepTheirCommand(t *testing.T) {
	var rows []string
	first := map[string]string{"indicator_id": "many", "task_id": hitech, "name": "月度指标", "unit": "个", "direction": "higher",
		"window_year": "2022", "from_month": "1", "to_month": "1", "value": "1", "quality": "final"}
	rows = append(rows, row(first))
	n := 1
	for from := 1; from <= 12 && n < domain.MaxFiguresPerCommand+5; from++ {
		for to := from; to <= 12 && n < domain.MaxFiguresPerCommand+5; to++ {
			if from == 1 && to == 1 {
				continue
			}
			rows = append(rows, row(map[string]string{"indicator_id": "many", "window_year": "2022", "from_month": fmt.Sprint(from),
				"to_month": fmt.Sprint(to), "value": "1", "quality": "final"}))
			n++
		}
	}
	rows = append(rows, row(map[string]string{"indicator_id": "lone", "task_id": hitech, "name": "单项指标", "unit": "个",
		"direction": "higher", "window_year": "2022", "value": "3", "quality": "final"}))
	p, err := PlanFigures(strings.NewReader(figureSheet(rows...)), CSV)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []string
	for _, pc := range p.Commands {
		switch c := pc.Command.(type) {
		case domain.ReportFigures:
			sizes = append(sizes, fmt.Sprint(len(c.Figures)))
		case domain.ReportFigure:
			sizes = append(sizes, "1")
			base, _ := CommandKey(figureKeyPrefix, c, 0)
			if pc.Key != base {
				t.Errorf("a lone row's key %s, want %s as before grouping", pc.Key, base)
			}
		}
	}
	if got := strings.Join(sizes, ","); got != fmt.Sprintf("%d,5,1", domain.MaxFiguresPerCommand) {
		t.Errorf("figure commands of sizes %s", got)
	}
}

func register(t *testing.T, svc *app.Service) {
	t.Helper()
	reg := domain.RegisterTask{TaskID: hitech, Year: 2022, Dimension: "高效率落实", Title: "国际科技创新中心建设和高新技术企业发展", LeadDepartment: "区科委"}
	if _, err := svc.Execute(context.Background(), domain.Meta{Actor: actor, CommandID: "reg", Source: "api"}, reg, app.Options{}); err != nil {
		t.Fatal(err)
	}
}

func loadIndicator(t *testing.T, store *eventstore.Memory, id string) *domain.Indicator {
	t.Helper()
	envs, err := store.Load(context.Background(), domain.AggregateRef{Type: domain.AggregateIndicator, ID: id})
	if err != nil {
		t.Fatal(err)
	}
	in := domain.NewIndicator(id)
	for _, e := range envs {
		ev, err := domain.Decode(e)
		if err != nil {
			t.Fatal(err)
		}
		in.Apply(domain.Recorded{Envelope: e, Data: ev})
	}
	return in
}

// TestATargetFencesAGroup: rows after another command on the indicator are
// stored after it, never folded into a group before it.
func TestATargetFencesAGroup(t *testing.T) {
	fig := func(line, to int) PlannedCommand {
		c := domain.ReportFigure{IndicatorID: "x", Window: domain.Window{Year: 2022, FromMonth: 1, ToMonth: to},
			Value: dec("1"), Quality: domain.QualityEstimate, Source: domain.Source{Kind: domain.SourceSelfReported}}
		return PlannedCommand{Command: c, Line: line, Key: fmt.Sprintf("k%d", line)}
	}
	target := PlannedCommand{Command: domain.SetTarget{IndicatorID: "x", Value: dec("5")}, Line: 3, Key: "k3"}
	got := groupFigures([]PlannedCommand{fig(1, 1), fig(2, 2), target, fig(4, 3), fig(5, 4)}, "p-")
	var lines []string
	for _, pc := range got {
		lines = append(lines, fmt.Sprintf("%d:%s", pc.Line, pc.Command.CommandName()))
	}
	if s := strings.Join(lines, " "); s != "1:indicator.report_figures 3:indicator.set_target 4:indicator.report_figures" {
		t.Errorf("grouped: %s", s)
	}
}

func dec(s string) *domain.Decimal { d := domain.MustDecimal(s); return &d }
