package eventstore_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/audit"
	"kpitrail/domain"
	"kpitrail/eventstore"
)

func taskRef(id string) domain.AggregateRef {
	return domain.AggregateRef{Type: domain.AggregateTask, ID: id}
}

func taskIn(title, unit string) domain.Event {
	return &domain.TaskRegistered{Year: 2022, Dimension: "高效率 落实", Title: title, LeadDepartment: "区发改委", UnitID: unit}
}

func indicatorIn(task, unit string) domain.Event {
	return &domain.IndicatorDefined{TaskID: task, Year: 2022, Key: "gdp", Name: "地区生产总值增速", Unit: "%",
		Direction: domain.HigherIsBetter, UnitID: unit}
}

func appendOK(t *testing.T, s eventstore.Store, ref domain.AggregateRef, expected uint64, cmd string, ev domain.Event) []domain.Envelope {
	t.Helper()
	envs, err := s.Append(ctxFor(t), ref, expected, metaFor(cmd), pendingOf(t, ev)...)
	if err != nil {
		t.Fatalf("append %s at %d: %v", ref, expected, err)
	}
	return envs
}

// TestOneIDOneUnitAcrossInstances: two stores on one stream (two
// instances), the second holding a stale view of task t. When the first
// registers t in unit d1, the second's registration of t in d2, on
// another subject, is refused by the server's check on the aggregate's
// filter over every unit, and nothing is stored.
func TestOneIDOneUnitAcrossInstances(t *testing.T) {
	emb, a := embeddedStore(t)
	b := openStore(t, connect(t, emb), eventstore.Config{Signer: a.Signer(), Trust: a.Keyring()})
	if envs := mustLoadStore(t, b, taskRef("t")); len(envs) != 0 {
		t.Fatalf("t exists before it was registered: %d events", len(envs))
	}
	first := appendOK(t, a, taskRef("t"), 0, "in-d1", taskIn("甲区任务", "d1"))
	_, err := b.Append(ctxFor(t), taskRef("t"), 0, metaFor("in-d2"), pendingOf(t, taskIn("乙区任务", "d2"))...)
	if domain.ErrorCode(err) != domain.ECONFLICT {
		t.Fatalf("registering t in d2 from a stale view: %v, want a conflict", err)
	}
	if last := lastPos(t, a); last != first[0].Position {
		t.Fatalf("the log is at %d after the refused append, want %d", last, first[0].Position)
	}
	subject, legacy, err := b.Placement(ctxFor(t), taskRef("t"))
	if err != nil || legacy || subject != "kpitrail.events.d1.task.t" {
		t.Fatalf("t lives on %q (legacy %v, %v), want unit d1's subject", subject, legacy, err)
	}
	// The same through a batch: the stale request fails alone.
	mustLoadStore(t, b, taskRef("u"))
	appendOK(t, a, taskRef("u"), 0, "u-in-d1", taskIn("甲区任务二", "d1"))
	res := b.AppendMany(ctxFor(t), []eventstore.AppendRequest{
		{Ref: taskRef("u"), Meta: metaFor("u-in-d2"), Events: pendingOf(t, taskIn("乙区任务二", "d2"))},
		{Ref: taskRef("v"), Meta: metaFor("v-in-d2"), Events: pendingOf(t, taskIn("乙区任务三", "d2"))},
	})
	if domain.ErrorCode(res[0].Err) != domain.ECONFLICT || res[1].Err != nil {
		t.Fatalf("batch from a stale view: %v / %v, want a conflict and a landing", res[0].Err, res[1].Err)
	}
	if m, err := a.Stream().GetMsg(ctxFor(t), res[1].Envelopes[0].Position); err != nil || m.Subject != "kpitrail.events.d2.task.v" {
		t.Fatalf("task v landed on %v (%v)", m, err)
	}
	// The loser's view is now the winner's: it appends to t in d1.
	next := appendOK(t, b, taskRef("t"), 1, "more", narrativeEvent("乙实例追加"))
	m, err := a.Stream().GetMsg(ctxFor(t), next[0].Position)
	if err != nil || m.Subject != "kpitrail.events.d1.task.t" {
		t.Fatalf("the second instance's append went to %q (%v)", m.Subject, err)
	}
}

// unitLog appends a small deployment of two units and returns the
// positions of unit d1's messages.
func unitLog(t *testing.T, s eventstore.Store) []uint64 {
	t.Helper()
	var d1 []uint64
	add := func(unit string, envs []domain.Envelope) {
		if unit == "d1" {
			d1 = append(d1, envs[0].Position)
		}
	}
	add("_", appendOK(t, s, domain.UnitRef("d1"), 0, "u1", &domain.UnitRegistered{Name: "甲区", Level: domain.UnitLevelDistrict}))
	add("d1", appendOK(t, s, taskRef("a"), 0, "a1", taskIn("甲区：稳增长", "d1")))
	add("d2", appendOK(t, s, taskRef("b"), 0, "b1", taskIn("乙区：稳增长", "d2")))
	add("d1", appendOK(t, s, domain.AggregateRef{Type: domain.AggregateIndicator, ID: "ia"}, 0, "ia1", indicatorIn("a", "d1")))
	add("d2", appendOK(t, s, taskRef("b"), 1, "b2", narrativeEvent("乙区进展")))
	add("d1", appendOK(t, s, taskRef("a"), 1, "a2", narrativeEvent("甲区进展：完成全年目标的52％")))
	add("huairou", appendOK(t, s, taskRef("c"), 0, "c1", taskIn("默认单位", "")))
	return d1
}

// TestUnitHistoryOnItsOwn: a consumer filtered on one unit's subjects
// reads exactly that unit's messages, and a stream mirroring only them
// holds the same bytes at the same positions, which a store opened on the
// mirror judges authentic and whose chains the audit verifies on their
// own; a stream sourcing them numbers them anew and verifies clean.
func TestUnitHistoryOnItsOwn(t *testing.T) {
	emb, s := embeddedStore(t)
	ctx := ctxFor(t)
	d1 := unitLog(t, s)
	js := s.JetStreamContext()
	filter := eventstore.UnitFilter(eventstore.DefaultSubjectPrefix, "d1")

	cons, err := js.OrderedConsumer(ctx, "KPITRAIL", jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(100, jetstream.FetchMaxWait(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for m := range batch.Messages() {
		md, err := m.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, md.Sequence.Stream)
	}
	if !equalPositions(got, d1) {
		t.Fatalf("a consumer on %s read positions %v, want unit d1's %v", filter, got, d1)
	}

	mirror := jetstream.StreamConfig{Name: "D1", Storage: jetstream.FileStorage, AllowDirect: true,
		Mirror: &jetstream.StreamSource{Name: "KPITRAIL", FilterSubject: filter}}
	if _, err := js.CreateStream(ctx, mirror); err != nil {
		t.Fatal(err)
	}
	ro := openStore(t, connect(t, emb), eventstore.Config{Stream: "D1", Attach: true, Trust: s.Keyring()})
	waitFor(t, func() bool {
		info, err := ro.Stream().Info(ctx)
		return err == nil && info.State.Msgs == uint64(len(d1))
	})
	var copied []eventstore.Message
	if err := ro.Read(ctx, 0, eventstore.ReadOptions{}, func(m eventstore.Message) error {
		copied = append(copied, m)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(copied) != len(d1) {
		t.Fatalf("the mirror holds %d messages, want %d", len(copied), len(d1))
	}
	for i, m := range copied {
		orig, err := s.Stream().GetMsg(ctx, d1[i])
		if err != nil {
			t.Fatal(err)
		}
		if m.Err != nil || m.Foreign != nil || m.Subject != orig.Subject || !bytes.Equal(m.Raw, orig.Data) {
			t.Fatalf("mirrored message %d: %s (err %v, foreign %v), want the bytes of %s", i+1, m.Subject, m.Err, m.Foreign, orig.Subject)
		}
		if !strings.HasPrefix(m.Subject, "kpitrail.events.d1.") {
			t.Fatalf("the mirror of d1 holds %s", m.Subject)
		}
	}
	if a := mustLoadStore(t, ro, taskRef("a")); len(a) != 2 || a[1].AggregateVersion != 2 {
		t.Fatalf("task a loaded from the mirror: %d events", len(a))
	}
	// The mirror keeps the log's positions: the other units' are gaps,
	// which the audit of the whole log reports as missing, and they are
	// all it reports; every chain of d1 verifies.
	rep, err := audit.Verify(ctx, ro, audit.Options{Keyring: s.Keyring()})
	if err != nil || rep.Aggregates != 2 || rep.Last != d1[len(d1)-1] {
		t.Fatalf("audit of unit d1's mirror: %d aggregates to %d, %v", rep.Aggregates, rep.Last, err)
	}
	var gaps []uint64
	for _, f := range rep.Findings {
		if f.Kind != "deleted" {
			t.Fatalf("audit of unit d1's mirror: %+v", f)
		}
		gaps = append(gaps, f.Position)
	}
	if want := []uint64{1, 3, 5}; !equalPositions(gaps, want) || !equalPositions(d1, []uint64{2, 4, 6}) {
		t.Fatalf("the audit reports positions %v missing, want the other units' %v", gaps, want)
	}

	// Sourced into a stream of its own (a province's, say), the unit's
	// messages are numbered anew, without gaps: the audit finds nothing.
	sourced := jetstream.StreamConfig{Name: "D1SOURCED", Storage: jetstream.FileStorage, AllowDirect: true,
		Sources: []*jetstream.StreamSource{{Name: "KPITRAIL", FilterSubject: filter}}}
	if _, err := js.CreateStream(ctx, sourced); err != nil {
		t.Fatal(err)
	}
	src := openStore(t, connect(t, emb), eventstore.Config{Stream: "D1SOURCED", Attach: true, Trust: s.Keyring()})
	waitFor(t, func() bool { last, err := src.LastPosition(ctx); return err == nil && last == uint64(len(d1)) })
	rep, err = audit.Verify(ctx, src, audit.Options{Keyring: s.Keyring()})
	if err != nil || rep.Aggregates != 2 || rep.Messages != len(d1) || len(rep.Findings) != 0 {
		t.Fatalf("audit of unit d1 sourced: %d aggregates, %d messages, findings %+v, %v", rep.Aggregates, rep.Messages, rep.Findings, err)
	}
	if ia := mustLoadStore(t, src, domain.AggregateRef{Type: domain.AggregateIndicator, ID: "ia"}); len(ia) != 1 || ia[0].Position != 2 {
		t.Fatalf("indicator ia loaded from the sourced stream: %+v", ia)
	}
}

func equalPositions(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
