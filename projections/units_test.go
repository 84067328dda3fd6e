package projections

import (
	"testing"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// unitsLog is a city (bj) with two districts (da, db), a task of the
// default unit, two tasks in da (one with an open problem, one with a
// closed one) and one in db; da and db measure the key "firms" against the
// same target, db better.
func unitsLog(t *testing.T) *eventstore.Memory {
	clock := newClock("2022-03-01")
	mem := eventstore.NewMemory(clock.now)
	w := &writer{t: t, store: mem}
	w.append(domain.UnitRef("bj"), &domain.UnitRegistered{Name: "北京市", Level: domain.UnitLevelCity})
	w.append(domain.UnitRef("da"), &domain.UnitRegistered{Name: "甲区", Level: domain.UnitLevelDistrict, Parent: "bj", Ancestors: []string{"bj"}})
	w.append(domain.UnitRef("db"), &domain.UnitRegistered{Name: "乙区", Level: domain.UnitLevelDistrict, Parent: "bj", Ancestors: []string{"bj"}})
	task := func(id, unit string) {
		w.append(taskRef(id), &domain.TaskRegistered{Year: 2022, Title: "高新技术企业发展 " + id, LeadDepartment: "区科委", UnitID: unit})
	}
	task("t0", "")
	task("t1", "da")
	task("t2", "da")
	task("t3", "db")
	w.append(taskRef("t1"), &domain.TaskProblemRecorded{ProblemID: "p1", Description: "认定延迟", TotalItems: 3})
	w.append(taskRef("t2"), &domain.TaskProblemRecorded{ProblemID: "p2", Description: "资料不全", TotalItems: 1})
	w.append(taskRef("t2"), &domain.TaskProblemClosed{ProblemID: "p2", Outcome: domain.RectRectified})
	firms := func(ind, task, unit, value string) {
		w.append(indRef(ind), &domain.IndicatorDefined{TaskID: task, Year: 2022, Key: "firms", Name: "高新技术企业保有量", Unit: "家",
			Direction: domain.HigherIsBetter, Formula: domain.AllowedFormulas(domain.HigherIsBetter)[0], UnitID: unit})
		w.append(indRef(ind), &domain.IndicatorTargetSet{Value: dec("10")})
		w.append(indRef(ind), &domain.FigureReported{Window: domain.YearWindow(2022), Value: domain.MustDecimal(value),
			Quality: domain.QualityFinal, Source: domain.Source{Kind: domain.SourceSelfReported}})
	}
	firms("i1", "t1", "da", "8")
	firms("i3", "t3", "db", "12")
	return mem
}

// Given the units log, when it is projected, then the units hold the
// hierarchy (and the default unit, a root, unregistered), the city's
// roll-up counts its districts' tasks and problems with a line per
// district, a caller's scope cuts the counts, and the ranking puts db
// (120%) before da (80%).
func TestUnitsRollUpAndRank(t *testing.T) {
	db := tempDB(t)
	catchUp(t, db, unitsLog(t), RunnerOptions{})
	ctx := ctxT(t)
	units, err := db.Units(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Unit{}
	for _, u := range units {
		got[u.ID] = u
	}
	if len(units) != 4 || got["huairou"].Registered || len(got["huairou"].Path) != 1 || got["huairou"].Tasks != 1 ||
		!got["da"].Registered || got["da"].Parent != "bj" || got["da"].Tasks != 2 {
		t.Fatalf("units: %+v", units)
	}
	roll, err := db.Rollup(ctx, "bj", RollupFilter{Year: 2022, On: "2023-02-01"})
	if err != nil {
		t.Fatal(err)
	}
	if roll.Total.Tasks != 3 || roll.Own.Tasks != 0 || len(roll.Children) != 2 {
		t.Fatalf("roll-up of bj: %+v", roll)
	}
	da := roll.Children[0]
	if da.Unit.ID != "da" || da.Tasks != 2 || da.Problems != 2 || da.ProblemsOpen != 1 || da.ProblemItemLeft != 4 {
		t.Fatalf("da's line: %+v", da)
	}
	if roll.Total.Indicators != 2 || roll.Total.IndicatorsMet != 1 || roll.Total.CompletionPct != "50.0" {
		t.Fatalf("completion: %+v", roll.Total)
	}
	cut, err := db.Rollup(ctx, "bj", RollupFilter{Year: 2022, On: "2023-02-01", Sees: func(id string) (bool, error) { return id != "t1", nil }})
	if err != nil {
		t.Fatal(err)
	}
	if cut.Total.Tasks != 2 || cut.Total.Problems != 1 || cut.Total.ProblemsOpen != 0 {
		t.Fatalf("a scope without t1: %+v", cut.Total)
	}
	if _, err := db.Rollup(ctx, "nowhere", RollupFilter{}); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("an unknown unit: %v", err)
	}
	rank, err := db.Rank(ctx, RankingFilter{Key: "firms", Year: 2022})
	if err != nil {
		t.Fatal(err)
	}
	if len(rank.Units) != 2 || rank.Units[0].UnitID != "db" || rank.Units[0].Rank != 1 || rank.Units[1].UnitID != "da" || rank.Units[1].Rank != 2 {
		t.Fatalf("ranking: %+v", rank.Units)
	}
	only, err := db.Rank(ctx, RankingFilter{Key: "firms", Year: 2022, Unit: "da"})
	if err != nil || len(only.Units) != 1 || only.Units[0].UnitID != "da" {
		t.Fatalf("ranking within da: %+v %v", only, err)
	}
	board, err := db.ListTasks(ctx, TaskFilter{Unit: "bj"})
	if err != nil || len(board) != 3 {
		t.Fatalf("bj's board: %d tasks, %v", len(board), err)
	}
	path, deps, err := db.TaskReach(ctx, "t1")
	if err != nil || !path.Within("bj") || path.Unit() != "da" || deps[0] != "区科委" {
		t.Fatalf("t1's reach: %v %v %v", path, deps, err)
	}
	path, _, _ = db.TaskReach(ctx, "t0")
	if path.Unit() != domain.DefaultUnitID || path.Within("bj") {
		t.Fatalf("the default unit's task: %v", path)
	}
}
