package projections

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/eventstore/storetest"
)

// TestJetStreamEndToEnd follows the real store: an ordered consumer under
// Run, garbage published straight onto the stream, then a rebuild and an
// as-of replay from the same stream.
func TestJetStreamEndToEnd(t *testing.T) {
	nc := storetest.Conn(t, "projections-test")
	ctx := ctxT(t)
	clock := newClock("2022-01-01")
	store, err := eventstore.OpenJetStream(ctx, nc, eventstore.Config{Clock: clock.now})
	if err != nil {
		t.Fatal(err)
	}

	db := tempDB(t)
	r := NewRunner(db, store, RunnerOptions{BatchWait: 5 * time.Millisecond, Now: fixedNow})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()

	buildScenario(t, store, clock)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	garbage := []byte("\xff\xfe 这不是一条事件 {")
	ack, err := js.Publish(ctx, eventstore.DefaultSubjectPrefix+".task.junk", garbage)
	if err != nil {
		t.Fatal(err)
	}
	w := &writer{t: t, store: store}
	envs := w.append(taskRef("after-garbage"), &domain.TaskRegistered{Year: 2022, Dimension: "高效率 落实",
		Title: "乱码之后", LeadDepartment: "区政务服务局"})
	if err := r.Wait(ctx, envs[0].Position); err != nil {
		t.Fatal(err)
	}

	letters, err := db.DeadLetters(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(letters) != 1 || letters[0].Position != ack.Sequence || letters[0].Kind != DeadMalformed ||
		string(letters[0].Raw) != string(garbage) || letters[0].Subject != eventstore.DefaultSubjectPrefix+".task.junk" {
		t.Fatalf("dead letters: %+v", letters)
	}
	if _, err := db.GetTask(ctx, "after-garbage"); err != nil {
		t.Errorf("the runner stopped at the garbage: %v", err)
	}
	if got := queryString(t, db, `SELECT value || ' ' || value_window || ' ' || source_name FROM indicators WHERE id = 'dustfall'`); got != "3.6 2022-01..2022-11 市科委" {
		t.Errorf("version-1 figure, live: %s", got)
	}
	if got := queryString(t, db, `SELECT value FROM indicators WHERE id = 'hitech-firms'`); got != "607" {
		t.Errorf("high-tech firms, live: %s", got)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}

	rebuilt := filepath.Join(t.TempDir(), "rebuilt.db")
	if err := Rebuild(ctx, store, rebuilt, RebuildOptions{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	sameContent(t, db, openDB(t, rebuilt))

	asOf := filepath.Join(t.TempDir(), "asof.db")
	if err := ReplayAsOf(ctx, store, time.Date(2022, 12, 31, 23, 59, 59, 0, DefaultLocation), asOf); err != nil {
		t.Fatal(err)
	}
	old := openDB(t, asOf)
	if got := queryString(t, old, `SELECT value || ' ' || quality_basis || ' ' || completion_pct_display FROM indicators WHERE id = 'hitech-firms'`); got != "610 estimate 84.8" {
		t.Errorf("high-tech firms as of 2022-12-31: %s", got)
	}
	if got := queryString(t, old, `SELECT value_window FROM indicators WHERE id = 'dustfall'`); got != "2022-01..2022-11" {
		t.Errorf("version-1 figure, as of: %s", got)
	}
}

// TestForeignMessageIsNeverProjected publishes, straight onto a task's
// subject, its next event correctly hashed and linked but not signed by the
// store, then lets the store append the genuine next event: the forgery is
// dead-lettered once as foreign, the genuine event applies (no chain break),
// and a rebuild agrees.
func TestForeignMessageIsNeverProjected(t *testing.T) {
	nc := storetest.Conn(t, "projections-test")
	ctx := ctxT(t)
	store, err := eventstore.OpenJetStream(ctx, nc, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	db := tempDB(t)
	r := NewRunner(db, store, RunnerOptions{BatchWait: 5 * time.Millisecond, Now: fixedNow})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.Run(runCtx) }()

	w := &writer{t: t, store: store}
	reg := w.append(taskRef("city"), &domain.TaskRegistered{Year: 2022, Title: "城市更新行动", LeadDepartment: "区住建委"})
	forged := domain.Envelope{ID: "forged-1", Name: domain.EvTaskNarrativeRecorded, SchemaVersion: 1, AggregateType: "task",
		AggregateID: "city", AggregateVersion: 2, RecordedAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), Actor: "office:考评办", CommandID: "x",
		Source: "api", Payload: []byte(`{"items":["伪造的进展"]}`)}
	if err := forged.Seal(reg[0].Hash); err != nil {
		t.Fatal(err)
	}
	ack, err := store.JetStreamContext().Publish(ctx, eventstore.DefaultSubjectPrefix+".task.city",
		mustJSON(t, map[string]any{"format": 1, "events": []domain.Envelope{forged}}))
	if err != nil {
		t.Fatal(err)
	}
	genuine := w.append(taskRef("city"), &domain.TaskNarrativeRecorded{Items: []string{"新开工2个小区5.3万平米"}})
	if genuine[0].AggregateVersion != 2 {
		t.Fatalf("the genuine event is version %d", genuine[0].AggregateVersion)
	}
	if err := r.Wait(ctx, genuine[0].Position); err != nil {
		t.Fatal(err)
	}
	letters, err := db.DeadLetters(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(letters) != 1 || letters[0].Position != ack.Sequence || letters[0].Kind != DeadForeign {
		t.Fatalf("dead letters: %+v", letters)
	}
	task, err := db.GetTask(ctx, "city")
	if err != nil {
		t.Fatal(err)
	}
	if len(task.Narrative) != 1 || task.Narrative[0] != "新开工2个小区5.3万平米" || task.Version != 2 {
		t.Fatalf("task after the forgery: version %d, narrative %v", task.Version, task.Narrative)
	}
	if got := queryString(t, db, `SELECT hash FROM chain_heads WHERE aggregate_type = 'task' AND aggregate_id = 'city'`); got != genuine[0].Hash {
		t.Fatalf("chain head %s, want the genuine event's %s", got, genuine[0].Hash)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	rebuilt := filepath.Join(t.TempDir(), "rebuilt.db")
	if err := Rebuild(ctx, store, rebuilt, RebuildOptions{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	sameContent(t, db, openDB(t, rebuilt))
	// The forgery's record time (2030) decides nothing in an as-of replay
	// either: the genuine event after it is there.
	asOf := filepath.Join(t.TempDir(), "asof.db")
	if err := ReplayAsOf(ctx, store, time.Now().Add(time.Hour), asOf); err != nil {
		t.Fatal(err)
	}
	if task, err := openDB(t, asOf).GetTask(ctx, "city"); err != nil || len(task.Narrative) != 1 {
		t.Fatalf("as-of replay after a forgery dated 2030: %+v %v", task, err)
	}
}
