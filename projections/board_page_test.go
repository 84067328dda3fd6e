package projections

import (
	"slices"
	"testing"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// TestBoardPagesConcatenateToTheBoard: pages of the task board, read by
// cursor, are the whole board in order, with or without a filter; the
// last page is short; a cursor from a task that no longer sorts there
// still continues after its position.
func TestBoardPagesConcatenateToTheBoard(t *testing.T) {
	clock := newClock("2022-01-01")
	store := eventstore.NewMemory(clock.now)
	w := &writer{t: t, store: store}
	for i := range 23 {
		year := 2021 + i%3
		dim := []string{"高质量 发展", "高效率 落实", "高水平 治理"}[i%2]
		w.append(taskRef(sprintf("t%02d", i)), &domain.TaskRegistered{Year: year, Dimension: dim, Title: sprintf("任务，第%d项", i), LeadDepartment: "区发改委"})
	}
	db := tempDB(t)
	catchUp(t, db, store, RunnerOptions{})
	ctx := ctxT(t)
	ids := func(ts []Task) []string {
		var out []string
		for _, x := range ts {
			out = append(out, x.ID)
		}
		return out
	}
	for _, f := range []TaskFilter{{}, {Year: 2022}} {
		full, err := db.TaskBoard(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var paged []Task
		page := f
		page.Limit = 5
		for n := 0; ; n++ {
			ts, err := db.TaskBoard(ctx, page)
			if err != nil {
				t.Fatal(err)
			}
			if len(ts) > 5 || n > 10 {
				t.Fatalf("page %d of %+v: %d tasks", n, f, len(ts))
			}
			paged = append(paged, ts...)
			if len(ts) < 5 {
				break
			}
			page.After = CursorOf(ts[len(ts)-1])
		}
		if !slices.Equal(ids(paged), ids(full)) || len(full) == 0 {
			t.Fatalf("filter %+v: pages %v, board %v", f, ids(paged), ids(full))
		}
	}
	full, _ := db.TaskBoard(ctx, TaskFilter{})
	// A cursor between two rows continues at the next one.
	c := CursorOf(full[6])
	c.ID += "~"
	ts, err := db.TaskBoard(ctx, TaskFilter{Limit: 2, After: c})
	if err != nil || !slices.Equal(ids(ts), ids(full[7:9])) {
		t.Fatalf("after %+v: %v (%v), want %v", c, ids(ts), err, ids(full[7:9]))
	}
}
