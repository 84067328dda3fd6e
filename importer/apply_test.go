package importer

import (
	"context"
	"strings"
	"testing"

	"kpitrail/app"
	"kpitrail/domain"
	"kpitrail/eventstore"
)

const actor = "office:importer"

var by = domain.Attribution{Actor: actor, TokenID: "tok-importer"}

func lastPos(t *testing.T, s *eventstore.Memory) uint64 {
	t.Helper()
	p, err := s.LastPosition(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestApplyReapplyUndo(t *testing.T) {
	ctx := context.Background()
	store := eventstore.NewMemory(nil)
	svc := app.NewService(store)
	plan, err := Plan(seedTable(t), PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := len(plan.Commands)

	first, err := Apply(ctx, svc, plan, "b1", by)
	if err != nil || first.Applied != n || first.AlreadyPresent != 0 {
		t.Fatalf("first apply %+v, %v", first, err)
	}
	if envs, err := store.Load(ctx, plan.Commands[0].Command.Target()); err != nil || envs[0].Actor != actor || envs[0].ActorTokenID != by.TokenID {
		t.Fatalf("imported events not attributed to the importer's token: %v %+v", err, envs)
	}
	after := lastPos(t, store)
	for _, batch := range []string{"b1", "b2"} {
		again, err := Apply(ctx, svc, plan, batch, by)
		if err != nil || again.Applied != 0 || again.AlreadyPresent != n {
			t.Fatalf("re-apply as %s: %+v, %v", batch, again, err)
		}
		if got := lastPos(t, store); got != after {
			t.Fatalf("re-apply as %s appended %d messages", batch, got-after)
		}
		if again.Results[0].EventIDs[0] != first.Results[0].EventIDs[0] {
			t.Error("re-apply must return the original events")
		}
	}

	// b2 stored nothing, so it has nothing to undo.
	u2, err := Undo(ctx, svc, plan, "b2", by)
	if err != nil || u2.TasksWithdrawn != 0 || u2.NotFromBatch != n || lastPos(t, store) != after {
		t.Fatalf("undo b2 %+v, %v", u2, err)
	}

	u1, err := Undo(ctx, svc, plan, "b1", by)
	if err != nil || u1.TasksWithdrawn != 20 || u1.Covered != n-20 || len(u1.NotCompensated) != 0 {
		t.Fatalf("undo b1 %+v, %v", u1, err)
	}
	undone := lastPos(t, store)
	if undone != after+20 {
		t.Fatalf("undo appended %d messages, want 20", undone-after)
	}
	reg := plan.Commands[0].Command.(domain.RegisterTask)
	agg, _ := svc.Load(ctx, domain.AggregateRef{Type: domain.AggregateTask, ID: reg.TaskID})
	if agg.(*domain.Task).Status() != domain.TaskStatusWithdrawn {
		t.Fatal("task not withdrawn")
	}
	envs, _ := store.Load(ctx, domain.AggregateRef{Type: domain.AggregateTask, ID: reg.TaskID})
	last := envs[len(envs)-1]
	ev, _ := domain.Decode(last)
	if w, ok := ev.(*domain.TaskWithdrawn); !ok || w.Reason != "import b1 undone" || last.Source != "import:b1" || len(envs) != 3 {
		t.Fatalf("last event %s %+v (of %d)", last.Name, ev, len(envs))
	}

	u1again, err := Undo(ctx, svc, plan, "b1", by)
	if err != nil || u1again.TasksWithdrawn != 0 || u1again.AlreadyUndone != 20 || lastPos(t, store) != undone {
		t.Fatalf("second undo %+v, %v", u1again, err)
	}
	// Re-importing does not revive an undone import.
	if rep, err := Apply(ctx, svc, plan, "b3", by); err != nil || rep.Applied != 0 || lastPos(t, store) != undone {
		t.Fatalf("apply after undo %+v, %v", rep, err)
	}
}

func TestApplyLeavesExistingAggregates(t *testing.T) {
	ctx := context.Background()
	svc := app.NewService(eventstore.NewMemory(nil))
	plan, err := Plan(seedTable(t), PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reg := plan.Commands[0].Command.(domain.RegisterTask)
	meta := domain.Meta{Actor: "office:张三", CommandID: "by-hand", Source: "api"}
	if _, err := svc.Execute(ctx, meta, reg, app.Options{}); err != nil {
		t.Fatal(err)
	}
	rep, err := Apply(ctx, svc, plan, "b1", by)
	if err != nil || rep.Existing != 1 || rep.Applied != len(plan.Commands)-1 || rep.Results[0].Outcome != OutcomeExisting {
		t.Fatalf("%+v, %v", rep, err)
	}
	// The task was not the batch's: undo leaves it, and its narrative has
	// no compensation.
	u, err := Undo(ctx, svc, plan, "b1", by)
	if err != nil || u.TasksWithdrawn != 19 || len(u.NotCompensated) != 1 || u.NotCompensated[0].Line != 6 {
		t.Fatalf("%+v, %v", u, err)
	}
}

// oneByOne hides ExecuteMany, so Apply takes the one-command path.
type oneByOne struct{ Executor }

func TestApplyStopsAtTheFirstRefusal(t *testing.T) {
	for _, bulk := range []bool{false, true} {
		ctx := context.Background()
		store := eventstore.NewMemory(nil)
		svc := app.NewService(store)
		svc.Authorize = func(_ context.Context, _ domain.Meta, cmd domain.Command, _ domain.Aggregate, _ []domain.Aggregate) error {
			if _, ok := cmd.(domain.RecordProblem); ok {
				return domain.Forbidden("no problems today")
			}
			return nil
		}
		var exec Executor = oneByOne{svc}
		if bulk {
			exec = svc
		}
		plan, _ := Plan(seedTable(t), PlanOptions{})
		rep, err := Apply(ctx, exec, plan, "b1", by)
		if err == nil || domain.ErrorCode(err) != domain.EFORBIDDEN || !strings.Contains(err.Error(), "line 8,") {
			t.Fatalf("bulk %v: err %v", bulk, err)
		}
		firstFailed := -1
		for i, r := range rep.Results {
			_, isProblem := plan.Commands[i].Command.(domain.RecordProblem)
			switch {
			case isProblem && r.Outcome != OutcomeFailed, !isProblem && r.Outcome != OutcomeApplied:
				t.Fatalf("bulk %v: result %d %+v", bulk, i, r)
			case isProblem && firstFailed < 0:
				firstFailed = i
			}
		}
		if firstFailed < 0 || rep.Results[firstFailed].Line != 8 {
			t.Fatalf("bulk %v: first failure %d", bulk, firstFailed)
		}
		// One by one stops at the refusal; in bulk the rest of the slice (the
		// whole seed) ran and each command says what became of it.
		wantResults := firstFailed + 1
		if bulk {
			wantResults = len(plan.Commands)
		}
		if len(rep.Results) != wantResults || rep.Applied != wantResults-countFailed(rep) {
			t.Fatalf("bulk %v: %d results, %d applied", bulk, len(rep.Results), rep.Applied)
		}
		// What the report calls applied is what the store holds.
		for i, r := range rep.Results {
			if r.Outcome != OutcomeApplied {
				continue
			}
			envs, err := store.Load(ctx, plan.Commands[i].Command.Target())
			if err != nil || len(r.EventIDs) == 0 || !holds(envs, r.EventIDs[0]) {
				t.Fatalf("bulk %v: line %d reported applied, not stored: %v", bulk, r.Line, err)
			}
		}
	}
	svc := app.NewService(eventstore.NewMemory(nil))
	plan, _ := Plan(seedTable(t), PlanOptions{})
	if _, err := Apply(context.Background(), svc, plan, "", by); err == nil {
		t.Error("empty batch id accepted")
	}
}

func holds(envs []domain.Envelope, id string) bool {
	for _, e := range envs {
		if e.ID == id {
			return true
		}
	}
	return false
}

func countFailed(rep *ApplyReport) int {
	n := 0
	for _, r := range rep.Results {
		if r.Outcome == OutcomeFailed {
			n++
		}
	}
	return n
}

// TestStoredTextIsTheTableText: what reaches the store is the table's text,
// byte for byte, full-width punctuation and all.
func TestStoredTextIsTheTableText(t *testing.T) {
	ctx := context.Background()
	store := eventstore.NewMemory(nil)
	svc := app.NewService(store)
	tb := seedTable(t)
	plan, _ := Plan(tb, PlanOptions{})
	if _, err := Apply(ctx, svc, plan, "b1", by); err != nil {
		t.Fatal(err)
	}
	for _, r := range tb.Rows {
		envs, _ := store.Load(ctx, domain.AggregateRef{Type: domain.AggregateTask, ID: TaskID(2022, r.Dimension, r.Task)})
		var got []string
		for _, e := range envs {
			ev, err := domain.Decode(e)
			if err != nil {
				t.Fatal(err)
			}
			switch ev := ev.(type) {
			case *domain.TaskRegistered:
				got = append(got, ev.Title)
			case *domain.TaskNarrativeRecorded:
				got = append(got, ev.Items...)
			case *domain.TaskProblemRecorded:
				got = append(got, ev.Description, ev.Cause)
			}
		}
		want := []string{r.Task}
		for _, it := range r.Items {
			want = append(want, it.Text)
		}
		for _, p := range r.Problems {
			want = append(want, p.Description, p.Cause)
		}
		if len(got) != len(want) {
			t.Fatalf("line %d: %d texts stored, want %d", r.Line, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("line %d: stored %q, table %q", r.Line, got[i], want[i])
			}
		}
	}
}
