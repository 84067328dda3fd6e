package projections

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// pinnedContentHash is ContentHash of the read models of pinnedLog, as the
// projector before the rebuild speed-up produced them. A performance change
// must leave it alone; a change of what the read models hold changes it on
// purpose, and says so in its commit.
//
// Re-pinned for schema version 6 (assessed units): the dump gains the
// units table (the default unit's row, written by the first task that
// belongs to it), tasks.unit_id, and migration 6's row.
//
// Re-pinned when subjects gained the unit (kpitrail.events.<unit>.<type>.<id>):
// the events are the same, but a dead letter records the subject its
// message was stored on, and two of pinnedLog's dead letters are events on
// their aggregates' subjects. pinnedOldLayoutHash is the former pin: the
// same log on subjects of the old layout still rebuilds to it.
//
// Re-pinned for schema version 7 (docs/readmodels.md, "Schema version 7"):
// figure_changes is keyed by (indicator_id, position, event_id), so the
// dump reads its rows in that order; events_log no longer holds payload,
// hash and prev_hash (the log does); migration 7's row is added. Every
// other row is the same; TestMigratedV6EqualsRebuiltV7 checks that the
// file schema 6 built from pinnedLog migrates to this hash. The former pins
// were d63e1b28… (units in subjects) and be8dea42… (the old layout).
const (
	pinnedContentHash   = "b92e0cd3c08198aca068eb67401c60496b561642626fce21927df12f64891485"
	pinnedOldLayoutHash = "1b489273a29fbfb958b06439d1c825c11a27dabec65c7f7059765024a6eefe79"
)

// pinnedLog is the scenario with deterministic event ids (re-sealed), plus
// messages that must be dead-lettered: an altered payload, a figure for an
// indicator that is not defined, and bytes that are not a message.
func pinnedLog(t *testing.T) sliceStore {
	t.Helper()
	clock := newClock("2022-01-01")
	mem := eventstore.NewMemory(clock.now)
	buildScenario(t, mem, clock)
	w := &writer{t: t, store: mem}
	w.append(indRef("ghost"), &domain.FigureReported{Window: domain.YearWindow(2022), Value: domain.MustDecimal("1"),
		Quality: domain.QualityFinal, Source: domain.Source{Kind: domain.SourceSelfReported}})
	w.append(taskRef("hitech"), &domain.TaskNarrativeRecorded{Items: []string{"将被篡改的叙述"}})
	w.append(taskRef("hitech"), &domain.TaskMilestoneReached{Milestone: "完成前四批申报", ReachedOn: "2022-12-25"})
	msgs := readAll(t, mem)
	ids := map[string]string{}
	n := 0
	for _, m := range msgs {
		for _, e := range m.Events {
			n++
			ids[e.ID] = fmt.Sprintf("0190a000-0000-7000-8000-%012d", n)
		}
	}
	heads := map[domain.AggregateRef]string{}
	for i := range msgs {
		for k := range msgs[i].Events {
			e := &msgs[i].Events[k]
			p := []byte(e.Payload)
			for old, id := range ids {
				p = bytes.ReplaceAll(p, []byte(old), []byte(id))
			}
			e.ID, e.Payload = ids[e.ID], json.RawMessage(p)
			if err := e.Seal(heads[e.Ref()]); err != nil {
				t.Fatal(err)
			}
			heads[e.Ref()] = e.Hash
		}
	}
	// The narrative's text is changed after sealing: a chain break.
	msgs[len(msgs)-2].Events[0].Payload = json.RawMessage(`{"items":["篡改后的文本"]}`)
	msgs = append(msgs, eventstore.Message{Position: uint64(len(msgs) + 1), Subject: "kpitrail.events.task.x",
		Raw: []byte("\x00不是JSON"), Err: eventstore.ErrMalformed})
	return sliceStore{msgs: msgs}
}

// TestOldLayoutRebuildKeepsItsPin: pinnedLog's messages on the subjects
// a log written before units were in subjects has rebuild to the content
// they rebuilt to then: only the dead letters' subject column tells the
// layouts apart.
func TestOldLayoutRebuildKeepsItsPin(t *testing.T) {
	store := pinnedLog(t)
	for i, m := range store.msgs {
		if len(m.Events) > 0 {
			store.msgs[i].Subject = eventstore.LegacySubject(eventstore.DefaultSubjectPrefix, m.Events[0].Ref())
		}
	}
	path := filepath.Join(t.TempDir(), "old.db")
	if err := Rebuild(ctxT(t), store, path, RebuildOptions{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	h, err := ContentHash(ctxT(t), openDB(t, path))
	if err != nil {
		t.Fatal(err)
	}
	if h != pinnedOldLayoutHash {
		t.Fatalf("the old layout's content hash %s, pinned %s", h, pinnedOldLayoutHash)
	}
}

// TestRebuildContentIsPinned rebuilds a fixed log in one batch, in
// batches of two, and within a memory budget so small that its folded state
// is written early, batch after batch, and compares with the pinned hash.
func TestRebuildContentIsPinned(t *testing.T) {
	store := pinnedLog(t)
	// Derive keeps no figures, or only some, between its steps: the same
	// content as with room for all.
	for _, room := range []int{0, 3} {
		t.Run(fmt.Sprintf("derive memo room %d", room), func(t *testing.T) {
			defer func(was int) { deriveMemoRoom = was }(deriveMemoRoom)
			deriveMemoRoom = room
			path := filepath.Join(t.TempDir(), "pinned.db")
			if err := Rebuild(ctxT(t), store, path, RebuildOptions{Now: fixedNow}); err != nil {
				t.Fatal(err)
			}
			if h, err := ContentHash(ctxT(t), openDB(t, path)); err != nil || h != pinnedContentHash {
				t.Errorf("content hash %s (%v), pinned %s", h, err, pinnedContentHash)
			}
		})
	}
	for _, size := range []int{0, 2, -1} {
		opts := RebuildOptions{Now: fixedNow, BatchSize: size}
		var flushed int
		if size < 0 {
			opts.MemoryBudget, opts.flushed = 4<<10, &flushed
		}
		path := filepath.Join(t.TempDir(), "pinned.db")
		if err := Rebuild(ctxT(t), store, path, opts); err != nil {
			t.Fatal(err)
		}
		if size < 0 && flushed < 3 {
			t.Errorf("a budget of 4 KiB wrote the folded state early %d times", flushed)
		}
		db := openDB(t, path)
		h, err := ContentHash(ctxT(t), db)
		if err != nil {
			t.Fatal(err)
		}
		if h != pinnedContentHash {
			t.Errorf("batch size %d: content hash %s, pinned %s", size, h, pinnedContentHash)
		}
		if n, _ := db.DeadLetterCount(ctxT(t)); n != 3 {
			t.Errorf("batch size %d: %d dead letters, want 3", size, n)
		}
		incremental := tempDB(t)
		catchUp(t, incremental, store, RunnerOptions{BatchSize: 3})
		sameContent(t, db, incremental)
	}
}
