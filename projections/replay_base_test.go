package projections

import (
	"path/filepath"
	"testing"
	"time"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// TestReplayFromASnapshotIsTheFullReplay: an as-of replay that starts from
// a snapshot file gives the file a replay from position 1 gives, for
// instants before, between and after the snapshots; a snapshot holding
// anything recorded after the instant, or made from another log, is not
// used.
func TestReplayFromASnapshotIsTheFullReplay(t *testing.T) {
	clock := newClock("2022-01-01")
	store := eventstore.NewMemory(clock.now)
	sc := buildScenario(t, store, clock)
	dir := t.TempDir()
	ctx := ctxT(t)

	// Snapshots after the set-up, after the December figures (2022-12-20,
	// the estimate) and at the end, each opened once the way serve hashes
	// them (which turns the file to WAL mode).
	msgs := readAll(t, store)
	var snapshots []string
	for _, pos := range []uint64{msgs[len(msgs)/3].Position, positionOf(t, msgs, sc.estimate), sc.lastPosition} {
		path := filepath.Join(dir, sprintf("snap-%d.db", pos))
		if err := ReplayToPosition(ctx, store, pos, path); err != nil {
			t.Fatal(err)
		}
		openDB(t, path).Close()
		snapshots = append(snapshots, path)
	}
	// A snapshot of another log, at a position this log has too.
	otherClock := newClock("2021-06-01")
	other := eventstore.NewMemory(otherClock.now)
	ow := &writer{t: t, store: other}
	for i := range len(msgs) {
		ow.append(taskRef(sprintf("o%d", i)), &domain.TaskRegistered{Year: 2022, Dimension: "高质量 发展", Title: "别的日志", LeadDepartment: "区发改委"})
	}
	foreign := filepath.Join(dir, "foreign.db")
	if err := ReplayToPosition(ctx, other, uint64(len(msgs)-1), foreign); err != nil {
		t.Fatal(err)
	}
	candidates := append([]string{foreign}, snapshots...)

	for _, tc := range []struct {
		day  string
		base string // the snapshot that must be chosen, "" for none
	}{
		{"2021-11-30", ""},
		{"2022-06-30", snapshots[0]},
		{"2022-12-31", snapshots[1]},
		{"2023-02-20", snapshots[1]},
		{"2023-12-31", snapshots[2]},
	} {
		d, _ := time.ParseInLocation(time.DateOnly, tc.day, DefaultLocation)
		asOf := d.Add(24*time.Hour - time.Nanosecond)
		base, err := chooseBase(ctx, store, asOf, candidates)
		if err != nil {
			t.Fatal(err)
		}
		if got := ""; base != nil {
			got = base.path
			if got != tc.base {
				t.Errorf("as of %s: base %s, want %s", tc.day, got, tc.base)
			}
		} else if tc.base != "" {
			t.Errorf("as of %s: no base, want %s", tc.day, tc.base)
		}
		full := filepath.Join(dir, sprintf("full-%s.db", tc.day))
		if err := ReplayAsOf(ctx, store, asOf, full); err != nil {
			t.Fatal(err)
		}
		fast := filepath.Join(dir, sprintf("fast-%s.db", tc.day))
		if err := ReplayAsOfFrom(ctx, store, asOf, fast, candidates); err != nil {
			t.Fatal(err)
		}
		want, got := openDB(t, full), openDB(t, fast)
		sameContent(t, want, got)
		// Deadlines, which the content hash leaves out, are judged on the
		// as-of day in both.
		q := `SELECT group_concat(id || ':' || status || ':' || deadline_status || ':' || status_date, ' ') FROM (SELECT * FROM tasks ORDER BY id)`
		if w, g := queryString(t, want, q), queryString(t, got, q); w != g {
			t.Errorf("as of %s: tasks %s, want %s", tc.day, g, w)
		}
	}
}

func positionOf(t *testing.T, msgs []eventstore.Message, eventID string) uint64 {
	t.Helper()
	for _, m := range msgs {
		for _, e := range m.Events {
			if e.ID == eventID {
				return m.Position
			}
		}
	}
	t.Fatalf("event %s not in the log", eventID)
	return 0
}
