package projections

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

func cleanBuild(t *testing.T, store Log) *DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "clean.db")
	if err := Rebuild(ctxT(t), store, path, RebuildOptions{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	return openDB(t, path)
}

func countEvents(msgs []eventstore.Message) (n int) {
	for _, m := range msgs {
		n += len(m.Events)
	}
	return n
}

// TestCrashBeforeCommitResumesExactly fails a batch after it is applied and
// before it commits, then resumes on a reopened file.
func TestCrashBeforeCommitResumesExactly(t *testing.T) {
	clock := newClock("2022-01-01")
	store := eventstore.NewMemory(clock.now)
	buildScenario(t, store, clock)
	path := filepath.Join(t.TempDir(), "readmodels.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	r := NewRunner(db, store, RunnerOptions{BatchSize: 4, Now: fixedNow})
	errCrash := errors.New("crash")
	batches := 0
	r.proj.beforeCommit = func(Applied) error {
		if batches++; batches == 3 {
			return errCrash
		}
		return nil
	}
	if err := r.CatchUp(ctxT(t)); !errors.Is(err, errCrash) {
		t.Fatalf("catch up: %v, want the crash", err)
	}
	if cp, _ := db.Checkpoint(ctxT(t)); cp.Position != 8 {
		t.Errorf("checkpoint after the crash %d, want 8 (two whole batches)", cp.Position)
	}
	db.Close()

	db = openDB(t, path)
	catchUp(t, db, store, RunnerOptions{BatchSize: 4})
	sameContent(t, cleanBuild(t, store), db)
	if n := queryString(t, db, `SELECT CAST(COUNT(*) AS TEXT) FROM events_log`); n != sprintf("%d", countEvents(readAll(t, store))) {
		t.Errorf("events_log has %s events", n)
	}
}

// TestCrashProcessResumesExactly kills a real process in the middle of a
// batch: the file must come back at exactly the last committed batch.
func TestCrashProcessResumesExactly(t *testing.T) {
	if os.Getenv("KPITRAIL_CRASH_DB") != "" {
		crashChild(t)
		return
	}
	clock := newClock("2022-01-01")
	mem := eventstore.NewMemory(clock.now)
	buildScenario(t, mem, clock)
	msgs := readAll(t, mem)
	dir := t.TempDir()
	logPath, dbPath := filepath.Join(dir, "log.json"), filepath.Join(dir, "readmodels.db")
	if err := os.WriteFile(logPath, mustJSON(t, msgs), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashProcessResumesExactly$")
	cmd.Env = append(os.Environ(), "KPITRAIL_CRASH_DB="+dbPath, "KPITRAIL_CRASH_LOG="+logPath)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("child: %v\n%s", err, out)
	}
	db := openDB(t, dbPath)
	if cp, _ := db.Checkpoint(ctxT(t)); cp.Position != 10 {
		t.Errorf("checkpoint after the crash %d, want 10", cp.Position)
	}
	store := sliceStore{msgs: msgs}
	catchUp(t, db, store, RunnerOptions{BatchSize: 5})
	sameContent(t, cleanBuild(t, store), db)
}

func crashChild(t *testing.T) {
	var msgs []eventstore.Message
	b, err := os.ReadFile(os.Getenv("KPITRAIL_CRASH_LOG"))
	if err != nil {
		t.Fatal(err)
	}
	if err := unmarshalText(string(b), &msgs); err != nil {
		t.Fatal(err)
	}
	db, err := Open(os.Getenv("KPITRAIL_CRASH_DB"))
	if err != nil {
		t.Fatal(err)
	}
	r := NewRunner(db, sliceStore{msgs: msgs}, RunnerOptions{BatchSize: 5, Now: fixedNow})
	r.proj.beforeCommit = func(a Applied) error {
		if a.From > 10 {
			os.Exit(3) // no rollback, no close: the process is simply gone
		}
		return nil
	}
	r.CatchUp(context.Background())
	t.Fatal("the child should have crashed")
}

// TestRebuildEqualsIncremental follows the log while it is written, in
// small batches, and compares with a rebuild, table by table.
func TestRebuildEqualsIncremental(t *testing.T) {
	clock := newClock("2022-01-01")
	store := eventstore.NewMemory(clock.now)
	db := tempDB(t)
	var mu sync.Mutex
	var applied []Applied
	r := NewRunner(db, store, RunnerOptions{BatchSize: 3, BatchWait: 2 * time.Millisecond, Now: fixedNow,
		Observer: func(a Applied) { mu.Lock(); applied = append(applied, a); mu.Unlock() }})
	ctx, cancel := context.WithCancel(ctxT(t))
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()

	sc := buildScenario(t, store, clock)
	if err := r.Wait(ctxT(t), sc.lastPosition); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	sameContent(t, cleanBuild(t, store), db)

	mu.Lock()
	defer mu.Unlock()
	var next uint64 = 1
	seen := map[string]bool{}
	for _, a := range applied {
		if a.From != next || a.To < a.From || a.Messages != int(a.To-a.From+1) {
			t.Fatalf("batch %+v does not follow position %d", a, next-1)
		}
		next = a.To + 1
		for _, id := range a.Indicators {
			seen[id] = true
		}
	}
	if next-1 != sc.lastPosition || !seen["hitech-firms"] {
		t.Errorf("observer saw up to %d (want %d), indicators %v", next-1, sc.lastPosition, seen)
	}
}

func TestWaitAndLag(t *testing.T) {
	clock := newClock("2022-01-01")
	store := eventstore.NewMemory(clock.now)
	w := &writer{t: t, store: store}
	w.append(taskRef("t1"), &domain.TaskRegistered{Year: 2022, Dimension: "高效率 落实", Title: "一", LeadDepartment: "区科委"})
	w.append(taskRef("t2"), &domain.TaskRegistered{Year: 2022, Dimension: "高效率 落实", Title: "二", LeadDepartment: "区科委"})
	db := tempDB(t)
	now := clock.now().Add(90 * time.Second)
	r := NewRunner(db, store, RunnerOptions{BatchWait: time.Millisecond, Now: func() time.Time { return now }})
	ctx := ctxT(t)
	if n, secs, err := r.Lag(ctx); err != nil || n != 2 || secs != 0 {
		t.Errorf("lag before any apply: %d, %v, %v", n, secs, err)
	}
	if err := r.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _, err := r.Lag(ctx); err != nil || n != 0 {
		t.Errorf("lag after catch up: %d, %v", n, err)
	}
	w.append(taskRef("t3"), &domain.TaskRegistered{Year: 2022, Dimension: "高效率 落实", Title: "三", LeadDepartment: "区科委"})
	if n, secs, err := r.Lag(ctx); err != nil || n != 1 || secs < 90 {
		t.Errorf("lag behind by one: %d, %v, %v", n, secs, err)
	}

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()
	envs := w.append(taskRef("t4"), &domain.TaskRegistered{Year: 2022, Dimension: "高效率 落实", Title: "四", LeadDepartment: "区科委"})
	if err := r.Wait(ctx, envs[0].Position); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetTask(ctx, "t4"); err != nil {
		t.Errorf("read your write: %v", err)
	}
	if _, err := db.GetTask(ctx, "t9"); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Errorf("missing task: %v", err)
	}
	// A position not yet written waits until the context gives up.
	short, stop := context.WithTimeout(ctx, 20*time.Millisecond)
	defer stop()
	if err := r.Wait(short, envs[0].Position+1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("wait for the future: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

// TestDeadlineStatusFollowsTheCalendar: "due soon" becomes "overdue" with
// no event, only because the day changed.
func TestDeadlineStatusFollowsTheCalendar(t *testing.T) {
	clock := newClock("2022-01-01")
	store := eventstore.NewMemory(clock.now)
	w := &writer{t: t, store: store}
	w.append(taskRef("t1"), &domain.TaskRegistered{Year: 2022, Dimension: "高效率 落实", Title: "污染防治", LeadDepartment: "区生态环境局", Deadline: "2022-12-31"})
	db := tempDB(t)
	day := "2022-12-10"
	now := func() time.Time {
		d, _ := time.ParseInLocation(time.DateOnly, day, DefaultLocation)
		return d.Add(10 * time.Hour)
	}
	r := NewRunner(db, store, RunnerOptions{Now: now})
	status := func() string {
		if err := r.CatchUp(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		return queryString(t, db, `SELECT status || '/' || deadline_status || '/' || status_date FROM tasks WHERE id = 't1'`)
	}
	for _, step := range []struct{ day, want string }{
		{"2022-12-10", "pending/not_due/2022-12-10"},
		{"2022-12-20", "due_soon/due_soon/2022-12-20"},
		{"2023-01-02", "overdue/overdue/2023-01-02"},
	} {
		day = step.day
		if got := status(); got != step.want {
			t.Errorf("on %s: %s, want %s", step.day, got, step.want)
		}
	}
	w.append(taskRef("t1"), &domain.TaskCompleted{CompletedOn: "2023-01-02"})
	if got := status(); got != "done_late/done_late/2023-01-02" {
		t.Errorf("completed late: %s", got)
	}
}
