package app_test

import (
	"context"
	"testing"

	"kpitrail/app"
	"kpitrail/domain"
	"kpitrail/eventstore"
)

func meta(cmd string) domain.Meta {
	return domain.Meta{Actor: "office:张三", CommandID: cmd, Source: "test"}
}

func dec(s string) *domain.Decimal { d := domain.MustDecimal(s); return &d }

func setup(t *testing.T) (*app.Service, *eventstore.Memory) {
	t.Helper()
	store := eventstore.NewMemory(nil)
	svc := app.NewService(store)
	ctx := context.Background()
	mustExec(t, svc, "reg", domain.RegisterTask{TaskID: "t3", Year: 2022, Dimension: "高效率 落实",
		Title: "国际科技创新中心建设和高新技术企业发展", LeadDepartment: "区科委"})
	mustExec(t, svc, "def", domain.DefineIndicator{IndicatorID: "hitech", TaskID: "t3", Name: "高新技术企业保有量",
		Unit: "家", Direction: domain.HigherIsBetter})
	_ = ctx
	return svc, store
}

func mustExec(t *testing.T, svc *app.Service, cmdID string, cmd domain.Command) app.Result {
	t.Helper()
	r, err := svc.Execute(context.Background(), meta(cmdID), cmd, app.Options{})
	if err != nil {
		t.Fatalf("%s: %v", cmd.CommandName(), err)
	}
	return r
}

func TestExecuteRunsTheWholeCommandPath(t *testing.T) {
	svc, store := setup(t)
	r := mustExec(t, svc, "target", domain.SetTarget{IndicatorID: "hitech", Value: dec("719")})
	if r.Version != 2 || len(r.EventIDs) != 1 || r.Position == 0 {
		t.Fatalf("result %+v", r)
	}
	mustExec(t, svc, "fig", domain.ReportFigure{IndicatorID: "hitech", Window: domain.YearWindow(2022), Value: dec("610"),
		Quality: domain.QualityEstimate, Source: domain.Source{Kind: domain.SourceAgency, Name: "市科委"}, FinalDue: "2023-03-31"})
	envs, _ := store.Load(context.Background(), domain.AggregateRef{Type: domain.AggregateIndicator, ID: "hitech"})
	if len(envs) != 3 || envs[2].Name != domain.EvFigureReported || envs[2].Actor != "office:张三" {
		t.Fatalf("stored %+v", envs)
	}
}

func TestRetryReturnsTheOriginalResult(t *testing.T) {
	svc, _ := setup(t)
	first := mustExec(t, svc, "target", domain.SetTarget{IndicatorID: "hitech", Value: dec("719")})
	mustExec(t, svc, "other", domain.SetTarget{IndicatorID: "hitech", Value: dec("720"), Reason: "市级调整"})
	again := mustExec(t, svc, "target", domain.SetTarget{IndicatorID: "hitech", Value: dec("719")})
	if again.EventIDs[0] != first.EventIDs[0] || again.Version != first.Version {
		t.Fatalf("retry got %+v, want %+v", again, first)
	}
}

func TestIfMatchStaleVersionConflicts(t *testing.T) {
	svc, store := setup(t)
	v := uint64(0)
	_, err := svc.Execute(context.Background(), meta("x"), domain.SetTarget{IndicatorID: "hitech", Value: dec("719")}, app.Options{ExpectedVersion: &v})
	e, ok := domain.AsError(err)
	if !ok || e.Code != domain.ECONFLICT || e.Version != 1 {
		t.Fatalf("want conflict at version 1, got %v", err)
	}
	last, _ := store.LastPosition(context.Background())
	if last != 2 {
		t.Fatalf("a refused command appended: last position %d", last)
	}
}

func TestRefusedCommandsAppendNothing(t *testing.T) {
	svc, store := setup(t)
	before, _ := store.LastPosition(context.Background())
	cases := []struct {
		cmd  domain.Command
		code domain.Code
	}{
		{domain.ReportFigure{IndicatorID: "hitech", Window: domain.YearWindow(2022), Value: dec("10.5"), Quality: domain.QualityFinal,
			Source: domain.Source{Kind: domain.SourceSelfReported}}, domain.EINVALID},
		{domain.ReportFigure{IndicatorID: "nope", Window: domain.YearWindow(2022), Value: dec("1"), Quality: domain.QualityFinal,
			Source: domain.Source{Kind: domain.SourceSelfReported}}, domain.ENOTFOUND},
		{domain.DefineIndicator{IndicatorID: "x", TaskID: "missing", Name: "n", Direction: domain.HigherIsBetter}, domain.ENOTFOUND},
		{domain.RegisterTask{TaskID: "bad.id", Year: 2022, Title: "x", LeadDepartment: "y"}, domain.EINVALID},
	}
	for i, tc := range cases {
		_, err := svc.Execute(context.Background(), meta("c"+string(rune('a'+i))), tc.cmd, app.Options{})
		if got := domain.ErrorCode(err); got != tc.code {
			t.Errorf("%s: code %q (%v), want %q", tc.cmd.CommandName(), got, err, tc.code)
		}
	}
	if after, _ := store.LastPosition(context.Background()); after != before {
		t.Fatalf("refused commands appended: %d -> %d", before, after)
	}
}

func TestAuthorizeCanRefuse(t *testing.T) {
	svc, store := setup(t)
	svc.Authorize = func(_ context.Context, m domain.Meta, _ domain.Command, _ domain.Aggregate, _ []domain.Aggregate) error {
		return domain.Forbidden("%s may not", m.Actor)
	}
	_, err := svc.Execute(context.Background(), meta("z"), domain.SetTarget{IndicatorID: "hitech", Value: dec("1")}, app.Options{})
	if domain.ErrorCode(err) != domain.EFORBIDDEN {
		t.Fatalf("want forbidden, got %v", err)
	}
	if last, _ := store.LastPosition(context.Background()); last != 2 {
		t.Fatal("forbidden command appended")
	}
}
