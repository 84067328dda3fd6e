package export

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/projections"
)

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Text that trips naive exporters: separators, quotes (ASCII and
// full-width), line breaks, blanks at either end, and non-BMP characters.
const (
	trickyTitle       = `“两区”建设, 含"自贸区"政策：《怀柔区贯彻落实稳住经济一揽子政策措施的工作方案》！`
	trickyDescription = "第一行：完成前四批申报\n第二行，含逗号, and \"quotes\"\n\t缩进行 𠮷野家 "
	trickyDimension   = " 高效率 落实"
	hitechNote        = "本数据为年度数据，预计2023年初由市科委反馈"
	lineBreakNote     = "1-11月累计\n较去年同期减少3起"
)

// fixture is a store with a scenario in it and the read models built from it.
type fixture struct {
	store *eventstore.Memory
	db    *projections.DB
	// midPosition is a position in the middle of the log, for as-of exports.
	midPosition uint64
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(1500 * time.Millisecond) // distinct, with a fraction of a second
	return c.t
}

func (c *clock) set(day string) {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		panic(err)
	}
	c.mu.Lock()
	c.t = d.Add(4*time.Hour + 123456789)
	c.mu.Unlock()
}

type writer struct {
	t     testing.TB
	store eventstore.Store
	n     int
}

func (w *writer) append(ref domain.AggregateRef, events ...domain.Event) []domain.Envelope {
	w.t.Helper()
	ps := make([]domain.Pending, len(events))
	for i, e := range events {
		p, err := domain.NewPending(e)
		if err != nil {
			w.t.Fatal(err)
		}
		ps[i] = p
	}
	ctx := context.Background()
	have, err := w.store.Load(ctx, ref)
	if err != nil {
		w.t.Fatal(err)
	}
	var version uint64
	if len(have) > 0 {
		version = have[len(have)-1].AggregateVersion
	}
	w.n++
	meta := domain.Meta{Actor: "office:区政府督查室", CommandID: fmt.Sprintf("cmd-%d", w.n), Source: "import:2022-selfcheck"}
	if w.n%2 == 0 {
		meta.CorrelationID = "批次-2022"
	}
	envs, err := w.store.Append(ctx, ref, version, meta, ps...)
	if err != nil {
		w.t.Fatalf("append to %s: %v", ref, err)
	}
	return envs
}

func task(id string) domain.AggregateRef {
	return domain.AggregateRef{Type: domain.AggregateTask, ID: id}
}
func ind(id string) domain.AggregateRef {
	return domain.AggregateRef{Type: domain.AggregateIndicator, ID: id}
}
func dec(s string) *domain.Decimal { d := domain.MustDecimal(s); return &d }

// newFixture writes a scenario that puts rows in every exportable table,
// NULLs and REAL copies included, and one message the read models must
// dead-letter; then it builds the read models with a rebuild.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	c := &clock{}
	store := eventstore.NewMemory(c.now)
	w := &writer{t: t, store: store}
	src := func(kind domain.SourceKind, name string) domain.Source { return domain.Source{Kind: kind, Name: name} }
	jan2nov := func(year int) domain.Window { return domain.Window{Year: year, FromMonth: 1, ToMonth: 11} }
	y2022 := domain.YearWindow(2022)

	c.set("2021-12-10")
	w.append(task("safety-2021"), &domain.TaskRegistered{Year: 2021, Dimension: trickyDimension, Title: "安全生产", LeadDepartment: "区应急局"})
	w.append(ind("accidents-2021"), &domain.IndicatorDefined{TaskID: "safety-2021", Year: 2021, Key: "生产安全事故起数",
		Name: "生产安全事故起数", Unit: "起", Direction: domain.LowerIsBetter, Formula: domain.FormulaCap})
	w.append(ind("accidents-2021"), &domain.FigureReported{Window: jan2nov(2021), Value: domain.MustDecimal("16"),
		Quality: domain.QualityFinal, Source: src(domain.SourceAgency, "区应急局")})

	c.set("2022-01-15")
	w.append(task("hitech"), &domain.TaskRegistered{Year: 2022, Dimension: trickyDimension, Title: trickyTitle,
		LeadDepartment: "区科委", CoDepartments: []string{"区发改委", "区财政局"}, Deadline: "2022-12-31", Description: trickyDescription})
	w.append(ind("hitech-firms"), &domain.IndicatorDefined{TaskID: "hitech", Year: 2022, Key: "高新技术企业保有量",
		Name: "高新技术企业保有量", Unit: "家", Direction: domain.HigherIsBetter, Formula: domain.FormulaRatio})
	w.append(ind("hitech-firms"), &domain.IndicatorTargetSet{Value: dec("719"), Source: &domain.Source{Kind: domain.SourceAgency, Name: "市级下达"}})
	w.append(task("safety"), &domain.TaskRegistered{Year: 2022, Dimension: trickyDimension, Title: "安全生产", LeadDepartment: "区应急局"})
	w.append(ind("accidents"), &domain.IndicatorDefined{TaskID: "safety", Year: 2022, Key: "生产安全事故起数", Name: "生产安全事故起数",
		Unit: "起", Direction: domain.LowerIsBetter, Formula: domain.FormulaCap})
	w.append(ind("accidents"), &domain.IndicatorTargetSet{Value: dec("16")})
	w.append(ind("deaths"), &domain.IndicatorDefined{TaskID: "safety", Year: 2022, Key: "生产安全事故死亡人数", Name: "死亡人数",
		Unit: "人", Direction: domain.LowerIsBetter, Formula: domain.FormulaCap})
	w.append(ind("deaths"), &domain.IndicatorBaseRecorded{Window: jan2nov(2021), Value: domain.MustDecimal("19"),
		Quality: domain.QualityFinal, Source: &domain.Source{Kind: domain.SourceStatistics, Name: "区统计局"}})
	w.append(task("hills"), &domain.TaskRegistered{Year: 2022, Dimension: trickyDimension, Title: "“浅山区”违法项目整治", LeadDepartment: "区城管委"})
	w.append(task("hills"), &domain.TaskProblemRecorded{ProblemID: "p87-1", Description: "“浅山区”193宗一般性违法项目拆除整改",
		Cause: "部分项目涉及历史遗留问题，协调难度大。", TotalItems: 193})

	c.set("2022-12-05")
	accidents := w.append(ind("accidents"), &domain.FigureReported{Window: jan2nov(2022), Value: domain.MustDecimal("13"),
		Quality: domain.QualityFinal, Source: src(domain.SourceAgency, "区应急局"), Note: lineBreakNote})[0].ID
	// Reviewed: submitted and approved, so the review instants and the
	// approved year over year have values to type.
	w.append(ind("accidents"), &domain.FigureSubmitted{Figure: accidents, Window: jan2nov(2022), Value: domain.MustDecimal("13"),
		Reason: "报考评办审核"})
	w.append(ind("accidents"), &domain.FigureApproved{Figure: accidents, Window: jan2nov(2022), Value: domain.MustDecimal("13"),
		SubmittedBy: "reporter:区应急局", Reason: "与区应急局台账一致"})
	w.append(ind("deaths"), &domain.FigureReported{Window: jan2nov(2022), Value: domain.MustDecimal("14"),
		Quality: domain.QualityFinal, Source: src(domain.SourceAgency, "区应急局")})
	// A share of 150 of 100: flagged by two rules, one of them explained.
	w.append(ind("insured"), &domain.IndicatorDefined{TaskID: "safety", Year: 2022, Key: "安责险宣传企业覆盖率", Name: "安责险宣传企业覆盖率",
		Unit: "%", Direction: domain.HigherIsBetter, Formula: domain.FormulaRatio, IsRate: true, Cadence: "yearly"})
	over := w.append(ind("insured"), &domain.FigureReported{Window: y2022, Value: domain.MustDecimal("150"), Numerator: dec("150"),
		Denominator: dec("100"), Quality: domain.QualityFinal, Source: src(domain.SourceSelfReported, "区应急局")})[0].ID
	w.append(ind("insured"), &domain.WarningExplained{Rule: "share_range", Figure: over, Reason: "含外区企业，口径待核"})
	w.append(task("hills"), &domain.TaskRectificationProgressed{ProblemID: "p87-1", Total: 193, Rectified: 191,
		PreviousTotal: 193, State: domain.RectInProgress, Note: "已整改到位191宗"})
	mid := w.append(task("hitech"), &domain.TaskNarrativeRecorded{Items: []string{"1. 已完成年度目标，共引进20家硬科技企业；", "2. 遴选推荐50家企业申报"}, AsOf: "2022-12-15"})

	c.set("2022-12-20")
	estimate := w.append(ind("hitech-firms"), &domain.FigureReported{Window: y2022, Value: domain.MustDecimal("610"),
		Quality: domain.QualityEstimate, Source: src(domain.SourceSelfReported, "区科委"), FinalDue: "2023-03-31", Note: hitechNote})[0].ID
	// An event the read models refuse (a figure for an indicator nobody
	// defined): dead-lettered, yet still in the stored log.
	w.append(ind("undefined"), &domain.FigureReported{Window: y2022, Value: domain.MustDecimal("1"),
		Quality: domain.QualityFinal, Source: src(domain.SourceAgency, "市科委")})

	c.set("2023-02-15")
	final := w.append(ind("hitech-firms"), &domain.FigureReported{Window: y2022, Value: domain.MustDecimal("605"),
		Quality: domain.QualityFinal, Source: src(domain.SourceAgency, "市科委"), Supersedes: estimate})[0].ID
	c.set("2023-03-01")
	w.append(ind("hitech-firms"), &domain.FigureCorrected{Corrects: final, Window: y2022,
		OldValue: domain.MustDecimal("605"), NewValue: domain.MustDecimal("607"), OldQuality: domain.QualityFinal,
		NewQuality: domain.QualityRevised, Source: src(domain.SourceAgency, "市科委"), Reason: "市科委复核：补录2家延长批企业"})
	w.append(task("hitech"), &domain.TaskMilestoneReached{Milestone: "完成前四批申报", ReachedOn: "2022-12-25", Note: "含\"延长批\""})
	w.append(ind("hitech-firms"), &domain.TargetProposed{Value: dec("650"), Source: &domain.Source{Kind: domain.SourceAgency, Name: "市科委"},
		Reason: "市科委调整下达任务"})
	w.append(domain.AggregateRef{Type: domain.AggregateSnapshot, ID: "y2022"}, &domain.SnapshotRecorded{Year: 2022, Position: mid[0].Position,
		ContentHash: strings.Repeat("ab", 32), Root: strings.Repeat("cd", 32), Aggregates: 9, Note: "2022年度考核年终封存"})
	y2022Lock := domain.AggregateRef{Type: domain.AggregateYear, ID: domain.YearID(2022)}
	w.append(y2022Lock, &domain.YearCalendarSet{Year: 2022, MonthlyDueDay: 5, QuarterlyDueDay: 10, YearlyDue: "2023-01-31"})
	w.append(y2022Lock, &domain.YearFrozen{Year: 2022, Note: "2022年度考核年终封存"})
	w.append(y2022Lock, &domain.YearReopened{Year: 2022, Reason: "市科委补报认定结果"})

	path := filepath.Join(t.TempDir(), "readmodels.db")
	if err := projections.Rebuild(ctxT(t), store, path, projections.RebuildOptions{}); err != nil {
		t.Fatal(err)
	}
	db, err := projections.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &fixture{store: store, db: db, midPosition: mid[0].Position}
}

// sqliteTable is a table read straight from SQLite, independently of the
// exporter's own reading code: the oracle the files are compared with.
type sqliteTable struct {
	columns []string
	rows    [][]any // nil, int64, float64, string, []byte
}

func readSQLite(t testing.TB, db *sql.DB, table string) sqliteTable {
	t.Helper()
	var pk []string
	rows, err := db.Query(`SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk`, table)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		pk = append(pk, `"`+n+`"`)
	}
	rows.Close()
	rows, err = db.Query(`SELECT * FROM "` + table + `" ORDER BY ` + strings.Join(pk, ", "))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out sqliteTable
	out.columns, _ = rows.Columns()
	for rows.Next() {
		vals := make([]any, len(out.columns))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out.rows = append(out.rows, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustRun(t testing.TB, opts Options) *Manifest {
	t.Helper()
	m, err := Run(ctxT(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
