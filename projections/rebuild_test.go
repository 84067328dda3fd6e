package projections

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// TestRebuildSwapsUnderAServer plays the serving process: a *DB behind an
// atomic pointer, a rebuild that closes it just before the rename, and a
// reopen on the same path.
func TestRebuildSwapsUnderAServer(t *testing.T) {
	clock := newClock("2022-01-01")
	store := eventstore.NewMemory(clock.now)
	sc := buildScenario(t, store, clock)
	dir := t.TempDir()
	path := filepath.Join(dir, "readmodels.db")
	ctx := ctxT(t)

	var current atomic.Pointer[DB]
	live, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	current.Store(live)
	t.Cleanup(func() { current.Load().Close() })
	catchUp(t, live, store, RunnerOptions{})
	before, err := ContentHash(ctx, live)
	if err != nil {
		t.Fatal(err)
	}

	// While the server holds the file open, the rename is refused and the
	// file is left as it was.
	err = Rebuild(ctx, store, path, RebuildOptions{Now: fixedNow})
	if err == nil || !strings.Contains(err.Error(), "still open") {
		t.Fatalf("rebuild under an open file: %v", err)
	}
	if h, _ := ContentHash(ctx, current.Load()); h != before {
		t.Fatal("a refused rebuild changed the live file")
	}

	// More events arrive; the rebuild picks them up.
	w := &writer{t: t, store: store}
	w.append(taskRef("hitech"), &domain.TaskMilestoneReached{Milestone: "完成前四批申报", ReachedOn: "2022-12-25"})
	err = Rebuild(ctx, store, path, RebuildOptions{Now: fixedNow, BeforeRename: func() error {
		return current.Load().Close()
	}})
	if err != nil {
		t.Fatal(err)
	}
	next, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	current.Store(next)
	if cp, _ := next.Checkpoint(ctx); cp.Position != sc.lastPosition+1 {
		t.Errorf("rebuilt checkpoint %d, want %d", cp.Position, sc.lastPosition+1)
	}
	if m := queryString(t, next, `SELECT json_extract(milestones, '$[0].milestone') FROM tasks WHERE id = 'hitech'`); m != "完成前四批申报" {
		t.Errorf("milestone %s", m)
	}
	// The served file keeps following from the rebuilt checkpoint.
	w.append(taskRef("hitech"), &domain.TaskCompleted{CompletedOn: "2022-12-30"})
	catchUp(t, next, store, RunnerOptions{})
	if s := queryString(t, next, `SELECT status FROM tasks WHERE id = 'hitech'`); s != TaskCompleted {
		t.Errorf("status after the swap %s", s)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "readmodels.db" && !strings.HasPrefix(e.Name(), "readmodels.db-") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

// TestFailedRebuildLeavesNothing: a store error mid-build leaves finalPath
// alone and removes the temp file.
func TestFailedRebuildLeavesNothing(t *testing.T) {
	clock := newClock("2022-01-01")
	mem := eventstore.NewMemory(clock.now)
	buildScenario(t, mem, clock)
	dir := t.TempDir()
	path := filepath.Join(dir, "readmodels.db")
	ctx, cancel := context.WithCancel(ctxT(t))
	n := 0
	store := tamperStore{Store: mem, mutate: func(*eventstore.Message) {
		if n++; n == 5 {
			cancel()
		}
	}}
	if err := Rebuild(ctx, store, path, RebuildOptions{BatchSize: 2}); err == nil {
		t.Fatal("rebuild with a cancelled context succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}
