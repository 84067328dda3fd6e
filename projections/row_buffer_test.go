package projections

import (
	"testing"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// TestRepeatedEventIDsAreRefusedWhateverTheBatch: a correctly sealed message
// that reuses a stored event id, or one earlier in its own batch, is
// dead-lettered and leaves nothing behind, in a batch of one message as in
// a batch of all of them, where events_log rows are otherwise written at
// the end of the batch.
func TestRepeatedEventIDsAreRefusedWhateverTheBatch(t *testing.T) {
	clock := newClock("2022-03-01")
	mem := eventstore.NewMemory(clock.now)
	w := &writer{t: t, store: mem}
	reg := func(title string) *domain.TaskRegistered {
		return &domain.TaskRegistered{Year: 2022, Dimension: "高质量 发展", Title: title, LeadDepartment: "区发改委"}
	}
	first := w.append(taskRef("t1"), reg("营商环境"))[0]
	w.append(indRef("i1"), &domain.IndicatorDefined{TaskID: "t1", Year: 2022, Name: "新增市场主体", Unit: "户", Direction: domain.HigherIsBetter})
	fig := w.append(indRef("i1"), &domain.FigureReported{Window: domain.YearWindow(2022), Value: domain.MustDecimal("5"),
		Quality: domain.QualityEstimate, Source: domain.Source{Kind: domain.SourceSelfReported}})[0]
	copyTask := w.append(taskRef("t-copy"), reg("重复的事件编号"))[0].Position
	copyFigure := w.append(taskRef("t-copy2"), reg("重复的数字编号"))[0].Position
	w.append(taskRef("t2"), reg("最后一个好事件"))
	store := tamperStore{Store: mem, mutate: func(m *eventstore.Message) {
		id := map[uint64]string{copyTask: first.ID, copyFigure: fig.ID}[m.Position]
		if id == "" {
			return
		}
		m.Events[0].ID = id
		if err := m.Events[0].Seal(""); err != nil {
			t.Fatal(err)
		}
	}}

	all := tempDB(t)
	catchUp(t, all, store, RunnerOptions{})
	each := tempDB(t)
	catchUp(t, each, store, RunnerOptions{BatchSize: 1})
	sameContent(t, each, all)
	// Split where the copies' originals are stored already.
	later := tempDB(t)
	catchUp(t, later, store, RunnerOptions{BatchSize: 4})
	sameContent(t, each, later)

	q := func(query string) string { return queryString(t, all, query) }
	if got := q(`SELECT group_concat(position || ':' || kind, ' ') FROM (SELECT * FROM dead_letters ORDER BY position)`); got != sprintf("%d:%s %d:%s", copyTask, DeadInvariant, copyFigure, DeadInvariant) {
		t.Errorf("dead letters: %s", got)
	}
	if got := q(`SELECT group_concat(id, ',') FROM (SELECT id FROM tasks ORDER BY id)`); got != "t1,t2" {
		t.Errorf("tasks: %s", got)
	}
	if got := q(`SELECT CAST(COUNT(*) AS TEXT) FROM events_log`); got != "4" {
		t.Errorf("%s events logged, want 4", got)
	}
}

// TestFlushUsesFewStatementTexts: whatever number of rows a batch ends with,
// a flush cuts them into full chunks and powers of two, so the writer's
// kept statements stay a handful per table instead of one per remainder.
func TestFlushUsesFewStatementTexts(t *testing.T) {
	const per = 588 // maxBoundValues / 17 columns (events_log)
	sizes := map[int]bool{}
	for n := 1; n <= 5000; n++ {
		left := n
		for left > 0 {
			k := chunkRows(left, per)
			if k < 1 || k > left || k > per {
				t.Fatalf("%d rows left: chunk of %d", left, k)
			}
			sizes[k] = true
			left -= k
		}
	}
	// 588 and the powers of two below it: 1, 2, 4, …, 512.
	if len(sizes) != 11 {
		t.Fatalf("%d distinct chunk sizes for 1..5000 rows, want 11: %v", len(sizes), sizes)
	}
}
