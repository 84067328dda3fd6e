package demo

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"kpitrail/app"
	"kpitrail/domain"
	"kpitrail/projections"
)

// TestDemoReadModelsShowTheSeedsNumbers: the demo's read models print the
// seed's figures as the table does, every figure approved and 2022 frozen:
// 高新技术企业保有量 610 of 719 is 84.8%, an estimate, not met; accidents
// 13 against 16 are −18.8% year over year, on approved figures too.
func TestDemoReadModelsShowTheSeedsNumbers(t *testing.T) {
	r := runDemo(t, SeedYear)
	ctx := context.Background()
	db, err := projections.Open(filepath.Join(t.TempDir(), "readmodels.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runner := projections.NewRunner(db, r.store, projections.RunnerOptions{Now: func() time.Time {
		return time.Date(2022, 12, 31, 12, 0, 0, 0, projections.DefaultLocation)
	}})
	if err := runner.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.DeadLetterCount(ctx); n != 0 {
		t.Fatalf("%d dead letters", n)
	}
	hitech, err := db.GetIndicator(ctx, IndicatorID(SeedYear, "hitech-stock"))
	if err != nil {
		t.Fatal(err)
	}
	if hitech.Value != "610" || hitech.Quality != "estimate" || hitech.CompletionPctDisplay != "84.8" || hitech.Status != "not_met" ||
		hitech.ReviewState != "approved" {
		t.Errorf("高新技术企业保有量: %+v", hitech)
	}
	for slug, want := range map[string]string{"accidents": "-18.8", "accident-deaths": "-26.3"} {
		hist, err := db.History(ctx, slug)
		if err != nil || len(hist) != 1 {
			t.Fatalf("%s history %v %v", slug, hist, err)
		}
		y := hist[0]
		if y.ChangePctDisplay != want || y.ApprovedChangePctDisplay != want || y.ReviewState != "approved" || y.ApprovedValue != y.Value {
			t.Errorf("%s: %+v", slug, y)
		}
	}
	pct := map[string]bool{}
	list, err := db.ListIndicators(ctx, projections.IndicatorFilter{Year: SeedYear})
	if err != nil {
		t.Fatal(err)
	}
	unapproved := 0
	for _, in := range list {
		pct[in.CompletionPctDisplay] = true
		if in.Value != "" && in.ReviewState != string(domain.ReviewApproved) {
			unapproved++
		}
	}
	for _, want := range []string{"250.0", "133.3", "110.5", "107.1", "106.6", "103.9", "84.8"} {
		if !pct[want] {
			t.Errorf("no indicator shows %s%%", want)
		}
	}
	if unapproved != 0 {
		t.Errorf("%d indicators show a figure not approved", unapproved)
	}
	years, err := db.Years(ctx, SeedYear)
	if err != nil || len(years) != 1 || years[0].State != "frozen" {
		t.Errorf("2022: %+v %v", years, err)
	}
	// The gas connections' gap is flagged and explained; nothing else is open.
	ws, err := db.Warnings(ctx, projections.WarningFilter{State: "all", Year: SeedYear})
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || ws[0].Rule != "parts_sum" || ws[0].State != "explained" || ws[0].IndicatorID != IndicatorID(SeedYear, "gas-total") {
		t.Errorf("warnings: %+v", ws)
	}
	// Frozen: a correction of the estimate is refused.
	agg, err := r.svc.Load(ctx, domain.AggregateRef{Type: domain.AggregateIndicator, ID: hitech.ID})
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := agg.(*domain.Indicator).Current(domain.YearWindow(SeedYear))
	fix := domain.MustDecimal("612")
	_, err = r.svc.Execute(ctx, domain.Meta{Actor: "office:demo", CommandID: "late-fix", Source: "test"},
		domain.CorrectFigure{IndicatorID: hitech.ID, Corrects: cur.EventID, Value: &fix, Reason: "市科委反馈"}, app.Options{})
	if e, ok := domain.AsError(err); !ok || e.Rule != "year_frozen" {
		t.Errorf("a correction in the frozen year: %v", err)
	}
}
