package projections

import (
	"sync"
	"testing"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// TestAnswersFollowEveryCommit: the board and the audit trail a runner's DB
// keeps are never served after a commit that changes them, and what a
// caller does to an answer does not reach the next caller.
func TestAnswersFollowEveryCommit(t *testing.T) {
	clock := newClock("2022-01-01")
	store := eventstore.NewMemory(clock.now)
	sc := buildScenario(t, store, clock)
	db := tempDB(t)
	catchUp(t, db, store, RunnerOptions{})
	ctx := ctxT(t)

	board, err := db.ListTasks(ctx, TaskFilter{Year: 2022})
	if err != nil || len(board) == 0 {
		t.Fatalf("board %v %v", board, err)
	}
	board[0].Title, board[0].CoDepartments = "changed by a caller", nil
	trail, err := db.AuditTrail(ctx, "hitech-firms")
	if err != nil || len(trail) == 0 {
		t.Fatalf("trail %v %v", trail, err)
	}
	trail[0].Kind = "changed by a caller"
	again, _ := db.ListTasks(ctx, TaskFilter{Year: 2022})
	if again[0].Title == "changed by a caller" || again[0].CoDepartments == nil {
		t.Fatal("a caller's change reached the kept board")
	}
	if tr, _ := db.AuditTrail(ctx, "hitech-firms"); tr[0].Kind == "changed by a caller" {
		t.Fatal("a caller's change reached the kept audit trail")
	}

	w := &writer{t: t, store: store}
	w.append(taskRef("hitech"), &domain.TaskCompleted{CompletedOn: "2022-12-30"})
	w.append(indRef("hitech-firms"), &domain.FigureRetracted{Retracts: sc.correction, Window: domain.YearWindow(2022),
		OldValue: domain.MustDecimal("607"), Reason: "复核撤回"})
	catchUp(t, db, store, RunnerOptions{})
	after, _ := db.ListTasks(ctx, TaskFilter{Year: 2022})
	fresh, err := db.listTasks(ctx, TaskFilter{Year: 2022})
	if err != nil {
		t.Fatal(err)
	}
	for i := range fresh {
		if after[i].Lifecycle != fresh[i].Lifecycle || after[i].Version != fresh[i].Version {
			t.Errorf("board after a commit: %+v, the file says %+v", after[i], fresh[i])
		}
	}
	if tr, _ := db.AuditTrail(ctx, "hitech-firms"); len(tr) != len(trail)+1 {
		t.Errorf("audit trail after a commit: %d changes, want %d", len(tr), len(trail)+1)
	}
}

// TestAnswersUnderConcurrentCallers: callers that ask at once share one
// query and each gets its own copy.
func TestAnswersUnderConcurrentCallers(t *testing.T) {
	clock := newClock("2022-01-01")
	store := eventstore.NewMemory(clock.now)
	buildScenario(t, store, clock)
	db := tempDB(t)
	catchUp(t, db, store, RunnerOptions{})
	want, err := db.listTasks(ctxT(t), TaskFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := db.ListTasks(ctxT(t), TaskFilter{})
			if err != nil || len(got) != len(want) {
				t.Errorf("board: %d tasks, %v", len(got), err)
				return
			}
			got[0].Narrative = append(got[0].Narrative, "mine")
			if _, err := db.AuditTrail(ctxT(t), "hitech-firms"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got, _ := db.ListTasks(ctxT(t), TaskFilter{}); len(got[0].Narrative) != len(want[0].Narrative) {
		t.Errorf("a caller's append reached the kept board: %q", got[0].Narrative)
	}
}

// TestTaskBoardSharesTheKeptAnswer: readers that only read (the API) get
// the kept board itself, without a copy, until the next commit; ListTasks
// callers get their own tasks.
func TestTaskBoardSharesTheKeptAnswer(t *testing.T) {
	clock := newClock("2022-01-01")
	store := eventstore.NewMemory(clock.now)
	buildScenario(t, store, clock)
	db := tempDB(t)
	catchUp(t, db, store, RunnerOptions{})
	ctx := ctxT(t)
	a, err := db.TaskBoard(ctx, TaskFilter{})
	if err != nil || len(a) == 0 {
		t.Fatalf("board %v %v", a, err)
	}
	b, _ := db.TaskBoard(ctx, TaskFilter{})
	if &a[0] != &b[0] {
		t.Error("TaskBoard copied a kept board")
	}
	l, _ := db.ListTasks(ctx, TaskFilter{})
	if &l[0] == &a[0] {
		t.Error("ListTasks handed out the kept board")
	}
	if len(l[0].Narrative) > 0 && cap(l[0].Narrative) != len(l[0].Narrative) {
		t.Error("a shared slice has spare capacity: a caller's append would write into it")
	}
	w := &writer{t: t, store: store}
	w.append(taskRef("hitech"), &domain.TaskCompleted{CompletedOn: "2022-12-30"})
	catchUp(t, db, store, RunnerOptions{})
	c, _ := db.TaskBoard(ctx, TaskFilter{})
	if &c[0] == &a[0] {
		t.Error("a commit did not replace the kept board")
	}
}

// TestProblemTotalsFollowEveryCommit: a board's problem totals are kept
// like the board, summed as the problems table says, and never served
// after a commit that changes them.
func TestProblemTotalsFollowEveryCommit(t *testing.T) {
	clock := newClock("2022-01-01")
	store := eventstore.NewMemory(clock.now)
	buildScenario(t, store, clock)
	db := tempDB(t)
	catchUp(t, db, store, RunnerOptions{})
	ctx := ctxT(t)
	totals, err := db.ProblemTotals(ctx, 2022)
	if err != nil {
		t.Fatal(err)
	}
	if got := totals["hills"]; got != (ProblemTotal{Problems: 1, Total: 193, Rectified: 191}) {
		t.Fatalf("hills: %+v", got)
	}
	if all, _ := db.ProblemTotals(ctx, 0); len(all) != len(totals) {
		t.Fatalf("every year %v, 2022 %v", all, totals)
	}
	if none, _ := db.ProblemTotals(ctx, 2021); len(none) != 0 {
		t.Fatalf("2021: %v", none)
	}
	w := &writer{t: t, store: store}
	w.append(taskRef("hills"), &domain.TaskRectificationProgressed{ProblemID: "p87-1", Total: 193, Rectified: 192,
		PreviousTotal: 193, PreviousRectified: 191, State: domain.RectInProgress})
	catchUp(t, db, store, RunnerOptions{})
	if got, _ := db.ProblemTotals(ctx, 2022); got["hills"].Rectified != 192 {
		t.Fatalf("after a commit: %+v", got["hills"])
	}
}
