package eventstore_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/audit"
	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/projections"
)

// oldLayoutLog writes unitLog's messages to a stream of their own, then
// copies them, bytes and kpitrail headers, in order, onto subjects of the
// old layout (kpitrail.events.<type>.<id>) of stream KPITRAIL: a log as
// kpitrail wrote it before units were in subjects. It returns the source
// store and the store opened on the old log afterwards.
func oldLayoutLog(t *testing.T) (src, old *eventstore.JetStream) {
	t.Helper()
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Shutdown)
	ctx := ctxFor(t)
	src = openStore(t, connect(t, emb), eventstore.Config{Stream: "SRC", SubjectPrefix: "src.events"})
	unitLog(t, src)
	nc := connect(t, emb)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// The stream as kpitrail creates it (its configuration did not change).
	openStore(t, nc, eventstore.Config{Signer: src.Signer(), Trust: src.Keyring()})
	last := lastPos(t, src)
	for pos := uint64(1); pos <= last; pos++ {
		m, err := src.Stream().GetMsg(ctx, pos)
		if err != nil {
			t.Fatal(err)
		}
		parts := strings.Split(m.Subject, ".") // src.events.<unit>.<type>.<id>
		msg := nats.NewMsg("kpitrail.events." + parts[3] + "." + parts[4])
		msg.Data = m.Data
		for _, h := range []string{"Kpitrail-Version", "Kpitrail-Command-Id", "Kpitrail-Signature"} {
			msg.Header.Set(h, m.Header.Get(h))
		}
		ack, err := js.PublishMsg(ctx, msg)
		if err != nil || ack.Sequence != pos {
			t.Fatalf("copy of %d: %+v, %v", pos, ack, err)
		}
	}
	old = openStore(t, connect(t, emb), eventstore.Config{Signer: src.Signer(), Trust: src.Keyring()})
	return src, old
}

// TestOldLayoutLogReadsAsBefore: a log of the old layout opened by this
// version reads as the same history: every aggregate loads as it was
// written, every message is kpitrail's (the signature covers the events'
// hashes, not the subject), the audit finds nothing, and the read models
// rebuilt from it have the content hash of those rebuilt from the same
// messages in the unit layout.
func TestOldLayoutLogReadsAsBefore(t *testing.T) {
	src, old := oldLayoutLog(t)
	ctx := ctxFor(t)
	refs := []domain.AggregateRef{domain.UnitRef("d1"), taskRef("a"), taskRef("b"), taskRef("c"),
		{Type: domain.AggregateIndicator, ID: "ia"}}
	for _, ref := range refs {
		want, got := mustLoadStore(t, src, ref), mustLoadStore(t, old, ref)
		if len(got) == 0 || len(got) != len(want) {
			t.Fatalf("%s: %d events from the old log, %d written", ref, len(got), len(want))
		}
		for i := range want {
			if got[i].ID != want[i].ID || got[i].Hash != want[i].Hash || got[i].Position != want[i].Position {
				t.Fatalf("%s event %d: %+v, want %+v", ref, i, got[i], want[i])
			}
		}
	}
	if err := old.Read(ctx, 0, eventstore.ReadOptions{}, func(m eventstore.Message) error {
		if m.Err != nil || m.Foreign != nil {
			t.Fatalf("message %d on %s: %v / %v", m.Position, m.Subject, m.Err, m.Foreign)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(ctx, old, audit.Options{Keyring: old.Keyring()})
	if err != nil || len(rep.Findings) != 0 || rep.Aggregates != len(refs) {
		t.Fatalf("audit of the old log: %d aggregates, findings %+v, %v", rep.Aggregates, rep.Findings, err)
	}
	dir := t.TempDir()
	hashes := map[string]string{}
	for name, log := range map[string]eventstore.Store{"unit layout": src, "old layout": old, "empty": eventstore.NewMemory(nil)} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".db")
		if err := projections.Rebuild(ctx, log, path, projections.RebuildOptions{}); err != nil {
			t.Fatal(err)
		}
		db, err := projections.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		if hashes[name], err = projections.ContentHash(ctx, db); err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
	if hashes["unit layout"] != hashes["old layout"] || hashes["old layout"] == hashes["empty"] {
		t.Fatalf("read models differ by layout: %v", hashes)
	}
}

// TestOldLayoutAggregatesAppendInPlace: an aggregate of the old layout
// keeps being appended on its subject, checked there, so its chain and
// the concurrency check hold; a new aggregate goes to its unit's
// subject; and an id of the old log cannot be started again in a unit.
func TestOldLayoutAggregatesAppendInPlace(t *testing.T) {
	_, old := oldLayoutLog(t)
	ctx := ctxFor(t)
	subjectOf := func(pos uint64) (string, nats.Header) {
		m, err := old.Stream().GetMsg(ctx, pos)
		if err != nil {
			t.Fatal(err)
		}
		return m.Subject, m.Header
	}
	if subject, legacy, err := old.Placement(ctx, taskRef("a")); err != nil || !legacy || subject != "kpitrail.events.task.a" {
		t.Fatalf("task a lives on %q (legacy %v, %v)", subject, legacy, err)
	}
	more := appendOK(t, old, taskRef("a"), 2, "a3", narrativeEvent("旧日志里的任务继续追加"))
	if subject, hdr := subjectOf(more[0].Position); subject != "kpitrail.events.task.a" ||
		hdr.Get(jetstream.ExpectedLastSubjSeqHeader) != "6" || hdr.Get(jetstream.ExpectedLastSubjSeqSubjHeader) != "" {
		t.Fatalf("append to an old aggregate went to %s, checked %v", subject, hdr)
	}
	fresh := appendOK(t, old, taskRef("d"), 0, "d1", taskIn("新任务", "d1"))
	if subject, _ := subjectOf(fresh[0].Position); subject != "kpitrail.events.d1.task.d" {
		t.Fatalf("a new task went to %s", subject)
	}
	// A second instance, its write model cold, on the same log.
	other := openStore(t, old.JetStreamContext().Conn(), eventstore.Config{Signer: old.Signer(), Trust: old.Keyring()})
	if _, err := other.Append(ctx, taskRef("b"), 0, metaFor("b-again"), pendingOf(t, taskIn("乙区任务", "d2"))...); domain.ErrorCode(err) != domain.ECONFLICT {
		t.Fatalf("registering task b of the old log again in d2: %v, want a conflict", err)
	}
	// A stale writer of an old aggregate is refused by the subject check.
	if _, err := other.Append(ctx, taskRef("a"), 2, metaFor("a-stale"), pendingOf(t, narrativeEvent("过期视图"))...); domain.ErrorCode(err) != domain.ECONFLICT {
		t.Fatalf("appending to task a at a stale version: %v, want a conflict", err)
	}
	if a := mustLoadStore(t, other, taskRef("a")); len(a) != 3 || a[2].ID != more[0].ID {
		t.Fatalf("task a from another instance: %d events", len(a))
	}
	var msgs int
	if err := old.AggregateMessages(ctx, taskRef("a"), func(m eventstore.Message) error {
		msgs++
		if m.Err != nil {
			t.Fatalf("message %d: %v", m.Position, m.Err)
		}
		return nil
	}); err != nil || msgs != 3 {
		t.Fatalf("task a's messages: %d, %v", msgs, err)
	}
	rep, err := audit.Verify(ctx, old, audit.Options{Keyring: old.Keyring()})
	if err != nil || len(rep.Findings) != 0 {
		t.Fatalf("audit after appends to the old log: findings %+v, %v", rep.Findings, err)
	}
}
