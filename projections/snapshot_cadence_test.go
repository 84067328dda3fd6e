package projections

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/eventstore/storetest"
)

// jetStreamStore is a real JetStream store on an embedded server, with its
// record times from clock.
func jetStreamStore(t *testing.T, clock *testClock) *eventstore.JetStream {
	t.Helper()
	nc := storetest.Conn(t, "projections-test")
	store, err := eventstore.OpenJetStream(ctxT(t), nc, eventstore.Config{Clock: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	return store
}

// registerTasks appends n tasks, one message each, recorded on day.
func registerTasks(w *writer, clock *testClock, day, prefix string, n int) {
	clock.set(day)
	for i := range n {
		w.append(taskRef(sprintf("%s-%d", prefix, i)), &domain.TaskRegistered{Year: 2022, Dimension: "高质量 发展",
			Title: sprintf("任务（%s）%d", prefix, i), LeadDepartment: "区发改委"})
	}
}

func snapshotNames(dir string) []string {
	var out []string
	for _, a := range listAutoSnapshots(dir) {
		out = append(out, filepath.Base(a.path))
	}
	return out
}

// waitForSnapshots waits until the cadence has taken want (by name).
func waitForSnapshots(t *testing.T, dir string, want []string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !slices.Equal(snapshotNames(dir), want) {
		if time.Now().After(deadline) {
			t.Fatalf("snapshots %v, want %v", snapshotNames(dir), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSnapshotsAreTakenAtYearEndsAndEveryNEvents: a serving process on a
// real JetStream log takes a snapshot at each year end and after every N
// events; each is the file a replay from position 1 to its position gives;
// an as-of replay starts from the newest one recorded by its instant and
// gives the file a replay from position 1 gives; after a restart the
// cadence continues from the newest snapshot, and files of another log are
// removed.
func TestSnapshotsAreTakenAtYearEndsAndEveryNEvents(t *testing.T) {
	clock := newClock("2021-11-01")
	store := jetStreamStore(t, clock)
	w := &writer{t: t, store: store}
	ctx := ctxT(t)
	dir := t.TempDir()
	auto := filepath.Join(dir, "snapshots", "auto")

	// A file of another log where the cadence keeps its files: a restart
	// must not build on it.
	other := eventstore.NewMemory(newClock("2020-01-01").now)
	ow := &writer{t: t, store: other}
	for i := range 3 {
		ow.append(taskRef(sprintf("other-%d", i)), &domain.TaskRegistered{Year: 2020, Title: "别的日志", LeadDepartment: "区发改委"})
	}
	os.MkdirAll(auto, 0o750)
	if err := ReplayToPosition(ctx, other, 3, filepath.Join(auto, autoSnapshotName(3, 0))); err != nil {
		t.Fatal(err)
	}

	open := func() *Live {
		live, err := OpenLive(ctx, filepath.Join(dir, "readmodels.db"), store, RunnerOptions{Now: fixedNow}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		live.TakeSnapshots(SnapshotCadence{Every: 7})
		return live
	}
	live := open()
	// 2021: 10 messages; 2022: 10; 2023: 5.
	registerTasks(w, clock, "2021-11-01", "y2021", 10)
	registerTasks(w, clock, "2022-03-01", "y2022", 10)
	registerTasks(w, clock, "2023-02-01", "y2023", 5)
	want := []string{"000000000007.db", "000000000010-year-2021.db", "000000000017.db", "000000000020-year-2022.db"}
	waitForSnapshots(t, auto, want)

	// As-of reads through the serving process answer from them.
	for _, c := range []struct {
		day   string
		tasks int
	}{{"2021-12-31", 10}, {"2022-12-31", 20}, {"2023-02-02", 25}} {
		d, _ := time.ParseInLocation(time.DateOnly, c.day, DefaultLocation)
		at := d.Add(24*time.Hour - time.Nanosecond)
		err := live.With(ctx, &at, func(db *DB) error {
			ts, err := db.ListTasks(ctx, TaskFilter{})
			if err == nil && len(ts) != c.tasks {
				t.Errorf("as of %s: %d tasks, want %d", c.day, len(ts), c.tasks)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// The cadence continues after a restart; the other log's file is gone.
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}
	registerTasks(w, clock, "2023-03-01", "y2023b", 2)
	live = open()
	want = append(want, "000000000027.db")
	waitForSnapshots(t, auto, want)
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}

	// Offline, on the log as it is, the cadence calls for the same files.
	offline := filepath.Join(t.TempDir(), "offline")
	if err := TakeSnapshots(ctx, store, SnapshotCadence{Dir: offline, Every: 7}, nil); err != nil {
		t.Fatal(err)
	}
	if got := snapshotNames(offline); !slices.Equal(got, want) {
		t.Fatalf("offline snapshots %v, want %v", got, want)
	}

	// Each snapshot is the replay from position 1 to its position.
	scratch := t.TempDir()
	var bases []string
	for _, a := range listAutoSnapshots(auto) {
		fresh := filepath.Join(scratch, sprintf("fresh-%d.db", a.position))
		if err := ReplayToPosition(ctx, store, a.position, fresh); err != nil {
			t.Fatal(err)
		}
		copied := filepath.Join(scratch, filepath.Base(a.path))
		if err := copyNew(a.path, copied); err != nil {
			t.Fatal(err)
		}
		sameContent(t, openDB(t, fresh), openDB(t, copied))
		bases = append(bases, a.path)
	}

	// As of any instant, the replay from the newest snapshot recorded by
	// then is the replay from position 1.
	for _, tc := range []struct {
		day  string
		base string
	}{
		{"2021-11-01", ""},
		{"2021-12-31", "000000000010-year-2021.db"},
		{"2022-02-01", "000000000010-year-2021.db"},
		{"2022-03-01", "000000000020-year-2022.db"},
		{"2022-12-31", "000000000020-year-2022.db"},
		{"2023-03-02", "000000000027.db"},
	} {
		d, _ := time.ParseInLocation(time.DateOnly, tc.day, DefaultLocation)
		at := d.Add(24*time.Hour - time.Nanosecond)
		if tc.day == "2021-11-01" {
			at = d.Add(12*time.Hour + 3*time.Second) // within the first day's messages
		}
		b, err := chooseBase(ctx, store, at, bases)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if b != nil {
			got = filepath.Base(b.path)
		}
		if got != tc.base {
			t.Errorf("as of %s: base %q, want %q", tc.day, got, tc.base)
		}
		full := filepath.Join(scratch, sprintf("full-%s.db", tc.day))
		if err := ReplayAsOf(ctx, store, at, full); err != nil {
			t.Fatal(err)
		}
		fast := filepath.Join(scratch, sprintf("fast-%s.db", tc.day))
		if err := ReplayAsOfFrom(ctx, store, at, fast, bases); err != nil {
			t.Fatal(err)
		}
		sameContent(t, openDB(t, full), openDB(t, fast))
	}
}

func copyNew(src, dst string) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	f.Close()
	return copyFile(src, dst)
}

// countingLog records the highest position a read delivered.
type countingLog struct {
	Log
	mu   sync.Mutex
	seen uint64
}

func (c *countingLog) Read(ctx context.Context, after uint64, opts eventstore.ReadOptions, fn func(eventstore.Message) error) error {
	return c.Log.Read(ctx, after, opts, func(m eventstore.Message) error {
		c.mu.Lock()
		c.seen = max(c.seen, m.Position)
		c.mu.Unlock()
		return fn(m)
	})
}

// TestAsOfReplayReadsOnlyUpToItsInstant: on a three-year JetStream log the
// first year's as-of replay stops at the first message recorded after the
// instant (plus the settle bound) instead of reading the later years, and
// gives the file a replay to the year's last position gives, deadlines
// aside.
func TestAsOfReplayReadsOnlyUpToItsInstant(t *testing.T) {
	clock := newClock("2021-03-01")
	store := jetStreamStore(t, clock)
	w := &writer{t: t, store: store}
	ctx := ctxT(t)
	registerTasks(w, clock, "2021-03-01", "y2021", 6)
	registerTasks(w, clock, "2022-03-01", "y2022", 30)
	registerTasks(w, clock, "2023-03-01", "y2023", 30)

	counted := &countingLog{Log: store}
	at := time.Date(2021, 12, 31, 23, 59, 59, 0, DefaultLocation)
	dir := t.TempDir()
	if err := ReplayAsOf(ctx, counted, at, filepath.Join(dir, "asof.db")); err != nil {
		t.Fatal(err)
	}
	if counted.seen != 7 {
		t.Fatalf("the replay read up to position %d, want 7 (the first message after the year)", counted.seen)
	}
	if err := ReplayToPosition(ctx, store, 6, filepath.Join(dir, "to6.db")); err != nil {
		t.Fatal(err)
	}
	a, b := openDB(t, filepath.Join(dir, "asof.db")), openDB(t, filepath.Join(dir, "to6.db"))
	sameContent(t, b, a)
}

// TestSnapshotPruningKeepsYearEndsAndTheNewest: past MaxBytes the oldest
// every-N snapshots go first, then the oldest year ends; the newest stays
// even when it alone is past the budget.
func TestSnapshotPruningKeepsYearEndsAndTheNewest(t *testing.T) {
	dir := t.TempDir()
	write := func(pos uint64, year int) {
		if err := os.WriteFile(filepath.Join(dir, autoSnapshotName(pos, year)), make([]byte, 100), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	write(5, 0)
	write(9, 2021)
	write(14, 0)
	write(20, 2022)
	write(25, 0)
	s := &snapshotter{cad: SnapshotCadence{Dir: dir, MaxBytes: 300}}
	s.prune()
	if got, want := snapshotNames(dir), []string{"000000000009-year-2021.db", "000000000020-year-2022.db", "000000000025.db"}; !slices.Equal(got, want) {
		t.Fatalf("after pruning to 300 bytes: %v, want %v", got, want)
	}
	s.cad.MaxBytes = 50
	s.prune()
	if got, want := snapshotNames(dir), []string{"000000000025.db"}; !slices.Equal(got, want) {
		t.Fatalf("after pruning to 50 bytes: %v, want %v", got, want)
	}
}
