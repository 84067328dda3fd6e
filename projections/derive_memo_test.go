package projections

import (
	"path/filepath"
	"reflect"
	"testing"

	"kpitrail/domain"
)

// TestBestFigureOrder: the figure that stands for an indicator is the
// whole year's, else the one whose window ends latest, the widest of
// those, then the latest reported; the best approved one is the best of
// the approved alone.
func TestBestFigureOrder(t *testing.T) {
	fig := func(id string, from, to int, pos int64, review domain.ReviewState) currentFigure {
		return currentFigure{eventID: id, fromMonth: from, toMonth: to, position: pos, review: string(review)}
	}
	approved, reported := domain.ReviewApproved, domain.ReviewState("reported")
	for _, c := range []struct {
		name           string
		figs           []currentFigure
		best, approved string
	}{
		{"none", nil, "", ""},
		{"the whole year over a later-reported quarter",
			[]currentFigure{fig("q4", 10, 12, 9, reported), fig("year", 1, 12, 3, reported)}, "year", ""},
		{"the window ending latest",
			[]currentFigure{fig("h1", 1, 6, 5, approved), fig("q3", 7, 9, 2, approved)}, "q3", "q3"},
		{"the widest of those ending together",
			[]currentFigure{fig("q3", 7, 9, 8, reported), fig("jan-sep", 1, 9, 2, approved), fig("sep", 9, 9, 9, reported)}, "jan-sep", "jan-sep"},
		{"the latest reported of the same window",
			[]currentFigure{fig("old", 1, 3, 2, approved), fig("new", 1, 3, 7, reported)}, "new", "old"},
		{"the best approved when the best is not",
			[]currentFigure{fig("year", 1, 12, 9, reported), fig("h1", 1, 6, 4, approved), fig("q1", 1, 3, 8, approved)}, "year", "h1"},
	} {
		best, appr := bestFigures(c.figs)
		id := func(f *currentFigure) string {
			if f == nil {
				return ""
			}
			return f.eventID
		}
		if id(best) != c.best || id(appr) != c.approved {
			t.Errorf("%s: best %q, approved %q; want %q, %q", c.name, id(best), id(appr), c.best, c.approved)
		}
		// The order of the rows read does not matter.
		rev := make([]currentFigure, len(c.figs))
		for i, f := range c.figs {
			rev[len(c.figs)-1-i] = f
		}
		if b2, a2 := bestFigures(rev); id(b2) != c.best || id(a2) != c.approved {
			t.Errorf("%s, rows reversed: best %q, approved %q", c.name, id(b2), id(a2))
		}
	}
}

// TestDeriveMemoKeepsWithinRoom: a derive pass keeps at most its room of
// figures, and an indicator it did not keep reads the same figures again.
func TestDeriveMemoKeepsWithinRoom(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pinned.db")
	if err := Rebuild(ctxT(t), pinnedLog(t), path, RebuildOptions{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, path)
	ids, err := queryStrings(ctxT(t), db.writer, `SELECT id FROM indicators ORDER BY id`)
	if err != nil || len(ids) < 3 {
		t.Fatalf("indicators %q, %v", ids, err)
	}
	tx, err := db.begin(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	b := newBatchTx(tx, db.kept)
	all, some := newDeriveMemo(), newDeriveMemo()
	some.room = 2
	total := 0
	for _, id := range ids {
		want, err := loadCurrentFigures(b, all, id)
		if err != nil {
			t.Fatal(err)
		}
		total += max(len(want), 1)
		for range 2 { // the second read comes from the memo if it kept them
			got, err := loadCurrentFigures(b, some, id)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: %+v, want %+v", id, got, want)
			}
		}
	}
	if total <= some.room {
		t.Fatalf("the log has %d current figures: too few to fill the room", total)
	}
	kept := 0
	for _, figs := range some.figures {
		kept += max(len(figs), 1)
	}
	if kept > some.room || kept != some.kept {
		t.Errorf("kept %d figures (counted %d), room %d", kept, some.kept, some.room)
	}
	if all.kept != total {
		t.Errorf("with room for all, kept %d of %d figures", all.kept, total)
	}
}
