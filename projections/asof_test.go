package projections

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// gatedStore holds every read at its first message until the gate opens
// (or the reader's context ends): a replay that takes as long as a test
// needs.
type gatedStore struct {
	eventstore.Store
	gate chan struct{}
}

func (s gatedStore) Read(ctx context.Context, after uint64, opts eventstore.ReadOptions, fn func(eventstore.Message) error) error {
	select {
	case <-s.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Store.Read(ctx, after, opts, fn)
}

func asOfStore(t *testing.T) (eventstore.Store, []time.Time) {
	clock := newClock("2022-03-01")
	store := eventstore.NewMemory(clock.now)
	w := &writer{t: t, store: store}
	var instants []time.Time
	for i, day := range []string{"2022-03-01", "2022-04-01", "2022-05-01", "2022-06-01"} {
		clock.set(day)
		w.append(taskRef(string(rune('a'+i))), &domain.TaskRegistered{Year: 2022, Title: "国际消费中心城市建设", LeadDepartment: "区商务局"})
		instants = append(instants, clock.now().Add(time.Hour))
	}
	return store, instants
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestAsOfReplaysAreBudgeted: one replay at a time; a reader of the same
// instant joins the replay under way; a reader of another instant waits
// QueueWait and is refused as too many; when every reader of a replay has
// left, the replay stops and leaves no file; leftovers of a crash are
// removed at start.
func TestAsOfReplaysAreBudgeted(t *testing.T) {
	store, at := asOfStore(t)
	gated := gatedStore{Store: store, gate: make(chan struct{})}
	dir := filepath.Join(t.TempDir(), "asof")
	os.MkdirAll(dir, 0o750)
	os.WriteFile(filepath.Join(dir, "asof-1-1.db"), []byte("left by a crash"), 0o640)
	c := newAsOfCache(dir, gated, AsOfLimits{Concurrent: 1, QueueWait: 200 * time.Millisecond})
	defer c.close()
	if f := files(t, dir); len(f) != 0 {
		t.Fatalf("left at start: %v", f)
	}
	read := func(ctx context.Context, i int) chan error {
		out := make(chan error, 1)
		go func() {
			out <- c.with(ctx, at[i], func(db *DB) error {
				tasks, err := db.ListTasks(ctx, TaskFilter{})
				if err == nil && len(tasks) != i+1 {
					return errors.New("wrong state")
				}
				return err
			})
		}()
		return out
	}
	wait := func(what string, cond func(AsOfStats) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond(c.stats()) {
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s: %+v", what, c.stats())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	ctxA, cancelA := context.WithCancel(context.Background())
	ctxB, cancelB := context.WithCancel(context.Background())
	a := read(ctxA, 1)
	wait("the replay to start", func(s AsOfStats) bool { return s.Running == 1 })
	b := read(ctxB, 1)
	wait("the second reader to join", func(s AsOfStats) bool { return s.Shared == 1 })
	err := <-read(context.Background(), 2)
	if e, ok := domain.AsError(err); !ok || e.Code != domain.ETOOMANY || e.Rule != "max_concurrent_replays" {
		t.Fatalf("another instant while the one turn is taken: %v", err)
	}
	cancelA()
	cancelB()
	if !errors.Is(<-a, context.Canceled) || !errors.Is(<-b, context.Canceled) {
		t.Fatal("the readers who left were answered")
	}
	wait("the replay to stop", func(s AsOfStats) bool { return s.Running == 0 && s.Cancelled == 1 })
	if f := files(t, dir); len(f) != 0 {
		t.Fatalf("a stopped replay left %v", f)
	}
	close(gated.gate)
	if err := <-read(context.Background(), 1); err != nil {
		t.Fatalf("the instant again, afresh: %v", err)
	}
	if s := c.stats(); s.Started != 2 || s.Busy != 1 || s.KeptBytes == 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestAsOfCacheIsBoundedBySize: replays are kept while they fit in
// CacheBytes; the least recently read is removed first, file and all.
func TestAsOfCacheIsBoundedBySize(t *testing.T) {
	store, at := asOfStore(t)
	dir := filepath.Join(t.TempDir(), "asof")
	probe := newAsOfCache(dir, store, AsOfLimits{})
	ctx := ctxT(t)
	noop := func(*DB) error { return nil }
	if err := probe.with(ctx, at[0], noop); err != nil {
		t.Fatal(err)
	}
	one := probe.stats().KeptBytes
	probe.close()

	// Room for two replays (they are about the same size).
	c := newAsOfCache(dir, store, AsOfLimits{CacheBytes: 2*one + one/2, OpenFiles: 1})
	defer c.close()
	for _, i := range []int{0, 1, 0, 2} { // 1 is then the least recently read
		if err := c.with(ctx, at[i], noop); err != nil {
			t.Fatal(err)
		}
	}
	if s := c.stats(); s.Evicted != 1 || s.Started != 3 || s.Shared != 1 {
		t.Fatalf("stats %+v", s)
	}
	c.mu.Lock()
	_, kept0 := c.entries[at[0].UnixNano()]
	_, kept1 := c.entries[at[1].UnixNano()]
	c.mu.Unlock()
	if !kept0 || kept1 {
		t.Fatalf("kept %v %v: the least recently read should have gone", kept0, kept1)
	}
	dbs := 0
	for _, f := range files(t, dir) {
		if filepath.Ext(f) == ".db" {
			dbs++
		}
	}
	if dbs != 2 {
		t.Fatalf("files %v", files(t, dir))
	}
}
