package app_test

import (
	"context"
	"fmt"
	"testing"

	"kpitrail/app"
	"kpitrail/domain"
)

func figure(value string, q domain.Quality) domain.ReportFigure {
	return domain.ReportFigure{IndicatorID: "hitech", Window: domain.YearWindow(2022), Value: dec(value), Quality: q,
		Source: domain.Source{Kind: domain.SourceAgency, Name: "市科委"}}
}

// TestCachedTargetNeverRefusesWhatAFreshLoadAccepts plays two processes on
// one store: the first keeps a write model that the second makes stale.
func TestCachedTargetNeverRefusesWhatAFreshLoadAccepts(t *testing.T) {
	a, store := setup(t)
	b := app.NewService(store)
	mustExec(t, a, "target", domain.SetTarget{IndicatorID: "hitech", Value: dec("719")})
	r := mustExec(t, b, "final", figure("605", domain.QualityFinal))

	// a's cached indicator has no figure; correcting b's is still accepted.
	c, err := a.Execute(context.Background(), meta("correct"), domain.CorrectFigure{IndicatorID: "hitech",
		Corrects: r.EventIDs[0], Value: dec("607"), Reason: "市科委复核"}, app.Options{})
	if err != nil || c.Version != 4 {
		t.Fatalf("correct on a stale cache: %+v %v", c, err)
	}
	// If-Match is judged on the store's version, not the cached one.
	mustExec(t, b, "estimate", inWindow(figure("1", domain.QualityEstimate), 2022, 1, 6))
	v := uint64(5)
	if _, err := a.Execute(context.Background(), meta("if-match"), inWindow(figure("2", domain.QualityEstimate), 2022, 1, 6),
		app.Options{ExpectedVersion: &v}); err != nil {
		t.Fatalf("If-Match on a stale cache: %v", err)
	}
	// A command b applied is recognised by a as already applied.
	again, err := a.Execute(context.Background(), meta("final"), figure("605", domain.QualityFinal), app.Options{})
	if err != nil || again.Position != r.Position {
		t.Fatalf("retry of b's command through a: %+v %v", again, err)
	}
	// And a's own retries come back the same.
	twice, err := a.Execute(context.Background(), meta("correct"), domain.CorrectFigure{IndicatorID: "hitech",
		Corrects: r.EventIDs[0], Value: dec("607"), Reason: "市科委复核"}, app.Options{})
	if err != nil || twice.Position != c.Position {
		t.Fatalf("retry: %+v %v", twice, err)
	}
}

// TestExecuteManyKeepsOrderPerAggregate: reports on one window supersede
// each other in request order, within one call, and a second call with the
// same command ids appends nothing.
func TestExecuteManyKeepsOrderPerAggregate(t *testing.T) {
	svc, store := setup(t)
	var reqs []app.Request
	add := func(id string, cmd domain.Command) {
		reqs = append(reqs, app.Request{Meta: meta(id), Command: cmd})
	}
	add("reg2", domain.RegisterTask{TaskID: "t4", Year: 2022, Dimension: "高效率 落实", Title: "第二个任务", LeadDepartment: "区发改委"})
	add("def2", domain.DefineIndicator{IndicatorID: "firms", TaskID: "t4", Name: "企业数", Unit: "家", Direction: domain.HigherIsBetter})
	for i, q := range []domain.Quality{domain.QualityEstimate, domain.QualityProvisional, domain.QualityFinal} {
		add(fmt.Sprintf("h%d", i), figure(fmt.Sprint(600+i), q))
		f := figure(fmt.Sprint(10+i), q)
		f.IndicatorID = "firms"
		add(fmt.Sprintf("f%d", i), f)
	}
	add("late", figure("1", domain.QualityEstimate)) // refused: the window has a final figure
	out := svc.ExecuteMany(context.Background(), reqs)
	for i, o := range out[:len(out)-1] {
		if o.Err != nil {
			t.Fatalf("%s: %v", reqs[i].Meta.CommandID, o.Err)
		}
	}
	if e, ok := domain.AsError(out[len(out)-1].Err); !ok || e.Rule != "final_is_corrected" {
		t.Fatalf("late estimate: %v", out[len(out)-1].Err)
	}
	hitech, _ := svc.Load(context.Background(), domain.AggregateRef{Type: domain.AggregateIndicator, ID: "hitech"})
	if cur, ok := hitech.(*domain.Indicator).Current(domain.YearWindow(2022)); !ok || cur.Quality != domain.QualityFinal || cur.EventID != out[6].Result.EventIDs[0] {
		t.Fatalf("current figure %+v", cur)
	}
	last, _ := store.LastPosition(context.Background())
	again := svc.ExecuteMany(context.Background(), reqs[:len(reqs)-1])
	for i, o := range again {
		if o.Err != nil || o.Result.Position != out[i].Result.Position {
			t.Fatalf("re-run %s: %+v %v", reqs[i].Meta.CommandID, o.Result, o.Err)
		}
	}
	if now, _ := store.LastPosition(context.Background()); now != last {
		t.Fatalf("re-run appended: %d -> %d", last, now)
	}
}

func inWindow(f domain.ReportFigure, y, from, to int) domain.ReportFigure {
	f.Window = domain.Window{Year: y, FromMonth: from, ToMonth: to}
	return f
}
