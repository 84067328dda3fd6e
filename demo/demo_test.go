package demo

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"math/big"

	"kpitrail/app"
	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/importer"
)

// The demo's size, as docs/import.md states it.
const (
	wantTasks       = 20
	wantIndicators  = 91
	wantFigures     = 87
	wantTargets     = 30
	wantBases       = 3
	wantMilestones  = 28
	wantProblems    = 4
	wantNarratives  = 20
	wantLedgerSteps = 1
	wantSubmissions = wantFigures // every figure submitted and approved
	wantApprovals   = wantFigures
	wantFreezes     = 1
	wantExplained   = 1 // 60221 + 12752 is not 73973
	wantSteps       = 284 + wantSubmissions + wantApprovals + wantFreezes + wantExplained
)

func allIndicators() []ind {
	var out []ind
	for _, l := range [][]ind{indicatorsA, indicatorsB, indicatorsC} {
		out = append(out, l...)
	}
	return out
}

type run struct {
	svc   *app.Service
	store *eventstore.Memory
	steps []Step
}

// as runs the office's steps as office:demo and a department's as its
// reporter, each with a token id of its own.
func as(ctx context.Context, department string) (context.Context, domain.Attribution) {
	if department == "" {
		return ctx, domain.Attribution{Actor: "office:demo", TokenID: "demo"}
	}
	return ctx, domain.Attribution{Actor: "reporter:" + department + "填报员", TokenID: "demo-" + department}
}

func runDemo(t *testing.T, year int) run {
	t.Helper()
	store := eventstore.NewMemory(nil)
	svc := app.NewService(store)
	steps, err := Commands(year)
	if err != nil {
		t.Fatal(err)
	}
	if err := Run(context.Background(), svc, year, as); err != nil {
		t.Fatal(err)
	}
	return run{svc: svc, store: store, steps: steps}
}

func TestDemoRunsCleanAndCounts(t *testing.T) {
	r := runDemo(t, SeedYear)
	count := map[string]int{}
	keys := map[string]bool{}
	for _, s := range r.steps {
		count[s.Command.CommandName()]++
		if keys[s.Key] {
			t.Errorf("duplicate key %s", s.Key)
		}
		keys[s.Key] = true
	}
	want := map[string]int{
		"task.register": wantTasks, "task.record_narrative": wantNarratives, "task.record_problem": wantProblems,
		"indicator.define": wantIndicators, "indicator.report_figure": wantFigures, "indicator.set_target": wantTargets,
		"indicator.record_base": wantBases, "task.record_milestone": wantMilestones, "task.progress_rectification": wantLedgerSteps,
		"indicator.submit_figure": wantSubmissions, "indicator.approve_figure": wantApprovals, "year.freeze": wantFreezes,
		"indicator.explain_warning": wantExplained,
	}
	for name, n := range want {
		if count[name] != n {
			t.Errorf("%s: %d steps, want %d", name, count[name], n)
		}
	}
	if len(count) != len(want) || len(r.steps) != wantSteps {
		t.Errorf("%d steps of kinds %v", len(r.steps), count)
	}
}

func load[T domain.Aggregate](t *testing.T, svc *app.Service, typ, id string) T {
	t.Helper()
	a, err := svc.Load(context.Background(), domain.AggregateRef{Type: typ, ID: id})
	if err != nil {
		t.Fatal(err)
	}
	return a.(T)
}

func window(year int, f *fig) domain.Window {
	if f.from == 0 {
		return domain.YearWindow(year)
	}
	return domain.Window{Year: year, FromMonth: f.from, ToMonth: f.to}
}

// TestPrintedPercentages derives every completion the table prints from
// the stored target and figure, and formats it at the printed precision.
func TestPrintedPercentages(t *testing.T) {
	r := runDemo(t, SeedYear)
	checked := map[string]bool{}
	for _, in := range allIndicators() {
		if in.pct == "" {
			continue
		}
		ix := load[*domain.Indicator](t, r.svc, domain.AggregateIndicator, IndicatorID(SeedYear, in.slug))
		target, ok := ix.Target()
		cur, ok2 := ix.Current(window(SeedYear, in.fig))
		if !ok || !ok2 {
			t.Fatalf("%s: target %v figure %v", in.slug, ok, ok2)
		}
		c, err := domain.ComputeCompletion(domain.CompletionInput{Direction: ix.Direction(), Formula: in.formula,
			Actual: cur.Value, Target: *target.Value})
		if err != nil {
			t.Fatal(err)
		}
		scale := domain.MustDecimal(in.pct).Scale()
		if got := domain.FormatPercent(c.Ratio, scale, domain.HalfUp); got != in.pct {
			t.Errorf("%s: %s / %s = %s%%, the table says %s%%", in.slug, cur.Value, target.Value, got, in.pct)
		}
		checked[in.pct] = true
	}
	for _, p := range []string{"250", "133.3", "110.5", "107.1", "106.6", "103.9", "84.8", "100", "50"} {
		if !checked[p] {
			t.Errorf("%s%% not checked", p)
		}
	}
	// 超额完成: 169 against 71.
	ix := load[*domain.Indicator](t, r.svc, domain.AggregateIndicator, IndicatorID(SeedYear, "two-zones-projects"))
	target, _ := ix.Target()
	cur, _ := ix.Current(domain.YearWindow(SeedYear))
	if c, _ := domain.ComputeCompletion(domain.CompletionInput{Direction: ix.Direction(), Actual: cur.Value, Target: *target.Value}); !c.Exceeded {
		t.Error("两区 not exceeded")
	}
}

func TestYearOverYearFromStoredBases(t *testing.T) {
	r := runDemo(t, SeedYear)
	n := 0
	for _, in := range allIndicators() {
		if in.base == nil {
			continue
		}
		ref := domain.AggregateRef{Type: domain.AggregateIndicator, ID: IndicatorID(SeedYear, in.slug)}
		envs, _ := r.store.Load(context.Background(), ref)
		var base *domain.IndicatorBaseRecorded
		for _, e := range envs {
			if ev, _ := domain.Decode(e); ev != nil {
				if b, ok := ev.(*domain.IndicatorBaseRecorded); ok {
					base = b
				}
			}
		}
		ix := load[*domain.Indicator](t, r.svc, domain.AggregateIndicator, ref.ID)
		w := window(SeedYear, in.fig)
		cur, _ := ix.Current(w)
		if base == nil || base.Window.Year != SeedYear-1 || base.Window.FromMonth != w.FromMonth || base.Window.ToMonth != w.ToMonth {
			t.Fatalf("%s: base %+v", in.slug, base)
		}
		ch := domain.YearOverYear(cur.Value, base.Value, false)
		scale := domain.MustDecimal(in.base.changePct).Scale()
		if got := domain.RoundRat(ch.Pct, scale, domain.HalfUp).String(); got != in.base.changePct || ch.Abs.String() != in.base.changeAbs {
			t.Errorf("%s: %s vs %s: %s (%s%%), the table says %s (%s%%)", in.slug, cur.Value, base.Value, ch.Abs, got, in.base.changeAbs, in.base.changePct)
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d year-over-year checks", n)
	}
}

func TestLedgerAndRatios(t *testing.T) {
	r := runDemo(t, SeedYear)
	var pr domain.RecordProblem
	for _, s := range r.steps {
		if c, ok := s.Command.(domain.RecordProblem); ok && strings.HasPrefix(c.Description, "87-1项") {
			pr = c
		}
	}
	task := load[*domain.Task](t, r.svc, domain.AggregateTask, pr.TaskID)
	p, ok := task.Problem(pr.ProblemID)
	if !ok || p.State != domain.RectInProgress {
		t.Fatalf("problem %+v", p)
	}
	rate, remaining, err := domain.RectificationRate(p.Rectified, p.Total)
	if err != nil || domain.FormatPercent(rate, 0, domain.HalfUp) != "99" || remaining != 2 {
		t.Errorf("整改到位率 %s, remaining %d, %v", domain.FormatPercent(rate, 0, domain.HalfUp), remaining, err)
	}
	for slug, want := range map[string]string{"cdc-professional-share": "87", "water-national": "100", "water-city": "100"} {
		for _, in := range allIndicators() {
			if in.slug != slug {
				continue
			}
			ratio, err := domain.RatioOf(domain.MustDecimal(in.fig.num), domain.MustDecimal(in.fig.den))
			if err != nil || domain.FormatPercent(ratio, 0, domain.HalfUp) != want {
				t.Errorf("%s: %v", slug, err)
			}
			ix := load[*domain.Indicator](t, r.svc, domain.AggregateIndicator, IndicatorID(SeedYear, slug))
			if cur, _ := ix.Current(window(SeedYear, in.fig)); cur.Value.String() != want {
				t.Errorf("%s stored %s", slug, cur.Value)
			}
		}
	}
	// 877.70分 折算成百分制 87.8分.
	if got := domain.MustDecimal("877.70").Round(0, domain.HalfUp); got.String() != "878" {
		t.Errorf("%s", got)
	}
	if got := domain.RoundRat(new(big.Rat).Quo(domain.MustDecimal("877.70").Rat(), domain.MustDecimal("10").Rat()), 1, domain.HalfUp); got.String() != "87.8" {
		t.Errorf("百分制 %s", got)
	}
}

func TestDeriveTarget(t *testing.T) {
	tests := []struct {
		value, pct, unit, want string // want "" = no target
	}{
		{"10", "250", "家", "4"},
		{"20", "133.3", "个", "15"},
		{"30.94", "110.5", "公顷", "28"},
		{"257.1", "107.1", "公顷", "240"},
		{"191.8", "106.6", "万平方米", "180"},
		{"207.7", "103.9", "公顷", "200"},
		{"2.2", "100", "万平方米", "2.2"},
		{"7", "233.3", "个", "3"},
		{"20", "133.4", "个", ""},       // 15 gives 133.3; 14.99 would fit but a count is whole
		{"20", "133.4", "公顷", "14.99"}, // not a count: two decimals reproduce it
		{"1", "300.5", "公顷", ""},       // 0.3 gives 333.3, 0.33 gives 303.0
		{"0", "100", "个", ""},
		{"5", "0", "个", ""},
	}
	for _, tt := range tests {
		got, ok := deriveTarget(domain.MustDecimal(tt.value), tt.pct, tt.unit)
		if (tt.want == "") == ok || (ok && got.String() != tt.want) {
			t.Errorf("deriveTarget(%s, %s%%, %s) = %s, %v; want %q", tt.value, tt.pct, tt.unit, got, ok, tt.want)
		}
	}
}

// TestNothingInvented: every phrase the demo cites is in the table, every
// figure is printed in its phrase unless its derivation says how it follows,
// and a milestone has a day only where its phrase gives one.
func TestNothingInvented(t *testing.T) {
	seed := string(seedTSV)
	in := func(what, phrase string) {
		if phrase == "" || !strings.Contains(seed, phrase) {
			t.Errorf("%s: %q is not in the table", what, phrase)
		}
	}
	for _, x := range allIndicators() {
		if x.targetPhrase != "" || x.target != "" {
			in(x.slug+" target", x.targetPhrase)
		}
		if x.target != "" && !strings.Contains(x.targetPhrase, x.target) {
			t.Errorf("%s: target %s not in %q", x.slug, x.target, x.targetPhrase)
		}
		if x.pct != "" && x.target == "" && !strings.Contains(x.targetPhrase, x.pct+"%") {
			t.Errorf("%s: %s%% not in %q", x.slug, x.pct, x.targetPhrase)
		}
		if f := x.fig; f != nil {
			in(x.slug, f.phrase)
			if f.derivation == "" && !strings.Contains(f.phrase, f.value) {
				t.Errorf("%s: %s not in %q", x.slug, f.value, f.phrase)
			}
			if f.num != "" && (!strings.Contains(f.phrase, f.num) || !strings.Contains(f.phrase, f.den)) {
				t.Errorf("%s: %s/%s not in %q", x.slug, f.num, f.den, f.phrase)
			}
		}
		if b := x.base; b != nil {
			in(x.slug+" base", b.phrase)
			if !strings.Contains(b.phrase, strings.TrimPrefix(b.changeAbs, "-")) || !strings.Contains(b.phrase, strings.TrimPrefix(b.changePct, "-")+"%") {
				t.Errorf("%s: change not in %q", x.slug, b.phrase)
			}
		}
		if b := x.baseValue; b != nil {
			in(x.slug+" base", b.phrase)
		}
		if x.fig == nil && x.target == "" && x.baseValue == nil {
			t.Errorf("%s: an indicator with nothing in it", x.slug)
		}
	}
	for _, m := range milestones {
		in(m.name, m.phrase)
		if m.date != "" {
			var month, day int
			fmt.Sscanf(m.date, "%d-%d", &month, &day)
			if !strings.Contains(m.phrase, fmt.Sprintf("%d月%d日", month, day)) {
				t.Errorf("%s: %s is not in %q", m.name, m.date, m.phrase)
			}
		} else if strings.Contains(m.phrase, "日，") || strings.Contains(m.phrase, "日均") {
			t.Errorf("%s: the phrase gives a day", m.name)
		}
	}
	in("ledger", ledger87.phrase)
}

func TestDemoAndImportAgree(t *testing.T) {
	r := runDemo(t, SeedYear)
	ctx := context.Background()
	before, _ := r.store.LastPosition(ctx)
	tb, err := importer.ParseTable(bytes.NewReader(SeedTable()), importer.TSV)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := importer.Plan(tb, importer.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := importer.Apply(ctx, r.svc, plan, "seed", domain.Attribution{Actor: "office:importer"})
	if err != nil || rep.Applied != 0 || rep.AlreadyPresent != len(plan.Commands) {
		t.Fatalf("%+v %v", rep, err)
	}
	if err := Run(ctx, r.svc, SeedYear, as); err != nil {
		t.Fatal(err)
	}
	if after, _ := r.store.LastPosition(ctx); after != before {
		t.Fatalf("import and re-run after the demo appended %d messages", after-before)
	}
}

func TestAnotherYear(t *testing.T) {
	r := runDemo(t, 2023)
	ix := load[*domain.Indicator](t, r.svc, domain.AggregateIndicator, IndicatorID(2023, "accidents"))
	if cur, ok := ix.Current(domain.Window{Year: 2023, FromMonth: 1, ToMonth: 11}); !ok || cur.Value.String() != "13" {
		t.Fatalf("%+v", cur)
	}
}

func TestEmbeddedSeedIsTheSharedSeed(t *testing.T) {
	dir, _ := os.Getwd()
	p := filepath.Join(dir, "..", "..", "shared", "seeds", "000_2c05c630adc3bb07.txt")
	shared, err := os.ReadFile(p)
	if err != nil {
		t.Skipf("shared seed absent: %v", err)
	}
	if !bytes.Equal(shared, seedTSV) {
		t.Fatal("demo/seed.tsv differs from the shared seed")
	}
}
