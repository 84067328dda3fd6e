// Package storetest is the conformance suite every event store must pass,
// and the embedded server store tests open their stores on (Conn).
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/signing"
)

// Factory returns a fresh, empty store for one test.
type Factory func(t *testing.T) eventstore.Store

// Run runs the whole suite against stores made by newStore.
func Run(t *testing.T, newStore Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, eventstore.Store)
	}{
		{"AppendAndLoad", testAppendAndLoad},
		{"StaleVersionConflicts", testStaleVersionConflicts},
		{"ConcurrentWritersOneWinnerPerVersion", testConcurrentWriters},
		{"IdempotentRetry", testIdempotentRetry},
		{"AtomicMultiEventAppend", testAtomicMultiEvent},
		{"ReadFromPosition", testReadFromPosition},
		{"FollowDeliversNewAppends", testFollow},
		{"ContextCancellation", testContextCancellation},
		{"BadInputAppendsNothing", testBadInput},
		{"HashChainVerifies", testHashChain},
		{"AppendsAreSigned", testSigned},
		{"ChineseTextRoundTrip", testChineseText},
		{"SubjectsCarryUnit", testSubjectsCarryUnit},
		{"SameIDInTwoUnitsConflicts", testSameIDInTwoUnitsConflicts},
		{"ReservedUnitRefused", testReservedUnitRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func task(id string) domain.AggregateRef {
	return domain.AggregateRef{Type: domain.AggregateTask, ID: id}
}

func meta(cmd string) domain.Meta {
	return domain.Meta{Actor: "office:test", ActorTokenID: "tok-test", CommandID: cmd, Source: "test"}
}

func pending(t testing.TB, events ...domain.Event) []domain.Pending {
	t.Helper()
	out := make([]domain.Pending, len(events))
	for i, e := range events {
		p, err := domain.NewPending(e)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = p
	}
	return out
}

func narrative(text string) domain.Event {
	return &domain.TaskNarrativeRecorded{Items: []string{text}}
}

func registered(title string) domain.Event {
	return &domain.TaskRegistered{Year: 2022, Dimension: "高效率 落实", Title: title, LeadDepartment: "区发改委"}
}

func mustAppend(t *testing.T, s eventstore.Store, ref domain.AggregateRef, expected uint64, cmd string, events ...domain.Event) []domain.Envelope {
	t.Helper()
	envs, err := s.Append(ctxT(t), ref, expected, meta(cmd), pending(t, events...)...)
	if err != nil {
		t.Fatalf("append %s at %d: %v", ref, expected, err)
	}
	return envs
}

func mustLoad(t *testing.T, s eventstore.Store, ref domain.AggregateRef) []domain.Envelope {
	t.Helper()
	envs, err := s.Load(ctxT(t), ref)
	if err != nil {
		t.Fatalf("load %s: %v", ref, err)
	}
	return envs
}

func readAll(t *testing.T, s eventstore.Store, after uint64) []eventstore.Message {
	t.Helper()
	var out []eventstore.Message
	if err := s.Read(ctxT(t), after, eventstore.ReadOptions{}, func(m eventstore.Message) error {
		out = append(out, m)
		return nil
	}); err != nil {
		t.Fatalf("read after %d: %v", after, err)
	}
	return out
}

func testAppendAndLoad(t *testing.T, s eventstore.Store) {
	ref := task("t1")
	first := mustAppend(t, s, ref, 0, "c1", registered("落实党中央国务院决策部署"))
	if len(first) != 1 || first[0].AggregateVersion != 1 || first[0].Position == 0 || first[0].ID == "" {
		t.Fatalf("first append: %+v", first)
	}
	second := mustAppend(t, s, ref, 1, "c2", narrative("圆满完成党的二十大服务保障任务。"))
	if second[0].AggregateVersion != 2 || second[0].Position <= first[0].Position {
		t.Fatalf("second append: version %d position %d after %d", second[0].AggregateVersion, second[0].Position, first[0].Position)
	}
	got := mustLoad(t, s, ref)
	if len(got) != 2 || got[0].ID != first[0].ID || got[1].ID != second[0].ID {
		t.Fatalf("load: %+v", got)
	}
	for _, e := range got {
		if e.Actor != "office:test" || e.ActorTokenID != "tok-test" || e.Source != "test" || e.RecordedAt.IsZero() || e.AggregateType != "task" || e.AggregateID != "t1" {
			t.Fatalf("envelope not stamped: %+v", e)
		}
	}
	if other := mustLoad(t, s, task("t2")); len(other) != 0 {
		t.Fatalf("unknown aggregate loaded %d events", len(other))
	}
}

func testStaleVersionConflicts(t *testing.T, s eventstore.Store) {
	ref := task("t1")
	mustAppend(t, s, ref, 0, "c1", registered("城市更新行动"))
	mustAppend(t, s, ref, 1, "c2", narrative("a"))
	for _, stale := range []uint64{0, 1, 3} {
		_, err := s.Append(ctxT(t), ref, stale, meta(fmt.Sprintf("stale-%d", stale)), pending(t, narrative("b"))...)
		e, ok := domain.AsError(err)
		if !ok || e.Code != domain.ECONFLICT {
			t.Fatalf("expected %d: want conflict, got %v", stale, err)
		}
		if e.Version != 2 {
			t.Fatalf("conflict carries version %d, want 2", e.Version)
		}
	}
	if n := len(mustLoad(t, s, ref)); n != 2 {
		t.Fatalf("stale appends stored something: %d events", n)
	}
}

// testConcurrentWriters races 20 writers on one aggregate. Each loads,
// appends at the loaded version, and retries on conflict until its event is
// in. Every version must have exactly one winner and no write may be lost.
func testConcurrentWriters(t *testing.T, s eventstore.Store) {
	ref := task("hot")
	mustAppend(t, s, ref, 0, "init", registered("安全生产"))
	const writers, each = 20, 3
	var wg sync.WaitGroup
	var conflicts sync.Map
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				cmd := fmt.Sprintf("w%d-%d", w, i)
				for attempt := 0; ; attempt++ {
					if attempt > 500 {
						errs <- fmt.Errorf("%s: no progress after 500 attempts", cmd)
						return
					}
					envs, err := s.Load(ctxT(t), ref)
					if err != nil {
						errs <- err
						return
					}
					v := envs[len(envs)-1].AggregateVersion
					_, err = s.Append(ctxT(t), ref, v, meta(cmd), pending(t, narrative(cmd))...)
					if err == nil {
						break
					}
					if domain.ErrorCode(err) != domain.ECONFLICT {
						errs <- fmt.Errorf("%s: %w", cmd, err)
						return
					}
					conflicts.Store(cmd, true)
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := mustLoad(t, s, ref)
	if len(got) != 1+writers*each {
		t.Fatalf("%d events stored, want %d", len(got), 1+writers*each)
	}
	seen := map[string]bool{}
	for i, e := range got {
		if e.AggregateVersion != uint64(i+1) {
			t.Fatalf("event %d has version %d", i, e.AggregateVersion)
		}
		if seen[e.CommandID] {
			t.Fatalf("command %s stored twice", e.CommandID)
		}
		seen[e.CommandID] = true
	}
	n := 0
	conflicts.Range(func(_, _ any) bool { n++; return true })
	t.Logf("%d writers × %d appends: %d commands met at least one conflict", writers, each, n)
}

func testIdempotentRetry(t *testing.T, s eventstore.Store) {
	ref := task("t1")
	orig := mustAppend(t, s, ref, 0, "register-1", registered("智慧城市建设"))
	// An immediate retry with the same command id.
	again := mustAppend(t, s, ref, 0, "register-1", registered("智慧城市建设"))
	if again[0].ID != orig[0].ID || again[0].Position != orig[0].Position {
		t.Fatalf("retry returned %+v, want the original %+v", again[0], orig[0])
	}
	mustAppend(t, s, ref, 1, "n-1", narrative("x"))
	mustAppend(t, s, ref, 2, "n-2", narrative("y"))
	// A late retry: the aggregate moved on; the original result still comes back.
	late, err := s.Append(ctxT(t), ref, 1, meta("n-1"), pending(t, narrative("x"))...)
	if err != nil {
		t.Fatalf("late retry: %v", err)
	}
	if late[0].AggregateVersion != 2 {
		t.Fatalf("late retry returned version %d, want the original 2", late[0].AggregateVersion)
	}
	if n := len(mustLoad(t, s, ref)); n != 3 {
		t.Fatalf("retries stored events: %d, want 3", n)
	}
	// Concurrent retries of one command: stored once.
	ref2 := task("t2")
	var wg sync.WaitGroup
	ids := make([]string, 10)
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			envs, err := s.Append(ctxT(t), ref2, 0, meta("same"), pending(t, registered("并发"))...)
			if err == nil {
				ids[i] = envs[0].ID
			}
		}(i)
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] || id == "" {
			t.Fatalf("concurrent retries returned different results: %v", ids)
		}
	}
	if n := len(mustLoad(t, s, ref2)); n != 1 {
		t.Fatalf("concurrent retries stored %d events", n)
	}
}

func testAtomicMultiEvent(t *testing.T, s eventstore.Store) {
	ref := task("t1")
	envs := mustAppend(t, s, ref, 0, "c1", registered("乡村振兴战略"), narrative("1"), narrative("2"))
	if len(envs) != 3 {
		t.Fatalf("%d envelopes", len(envs))
	}
	for i, e := range envs {
		if e.AggregateVersion != uint64(i+1) || e.Position != envs[0].Position || e.CommandID != "c1" {
			t.Fatalf("event %d: version %d position %d", i, e.AggregateVersion, e.Position)
		}
	}
	// A refused multi-event append leaves nothing behind.
	_, err := s.Append(ctxT(t), ref, 1, meta("c2"), pending(t, narrative("3"), narrative("4"))...)
	if domain.ErrorCode(err) != domain.ECONFLICT {
		t.Fatalf("want conflict, got %v", err)
	}
	if n := len(mustLoad(t, s, ref)); n != 3 {
		t.Fatalf("refused append left %d events, want 3", n)
	}
	msgs := readAll(t, s, 0)
	if len(msgs) != 1 || len(msgs[0].Events) != 3 {
		t.Fatalf("log holds %d messages, want one message of 3 events", len(msgs))
	}
}

func testReadFromPosition(t *testing.T, s eventstore.Store) {
	var positions []uint64
	for i := 0; i < 10; i++ {
		envs := mustAppend(t, s, task(fmt.Sprintf("t%d", i)), 0, "c", registered(fmt.Sprintf("任务%d", i)))
		positions = append(positions, envs[0].Position)
	}
	last, err := s.LastPosition(ctxT(t))
	if err != nil || last != positions[9] {
		t.Fatalf("last position %d (%v), want %d", last, err, positions[9])
	}
	all := readAll(t, s, 0)
	if len(all) != 10 {
		t.Fatalf("read %d messages, want 10", len(all))
	}
	for i, m := range all {
		if m.Err != nil || m.Position != positions[i] || m.Events[0].AggregateID != fmt.Sprintf("t%d", i) {
			t.Fatalf("message %d: %+v", i, m)
		}
	}
	tail := readAll(t, s, positions[6])
	if len(tail) != 3 || tail[0].Position != positions[7] {
		t.Fatalf("read after %d: %d messages", positions[6], len(tail))
	}
	if none := readAll(t, s, last); len(none) != 0 {
		t.Fatalf("read after the end returned %d messages", len(none))
	}
	var limited int
	if err := s.Read(ctxT(t), 0, eventstore.ReadOptions{Limit: 4}, func(eventstore.Message) error { limited++; return nil }); err != nil || limited != 4 {
		t.Fatalf("limit 4: read %d (%v)", limited, err)
	}
	stop := errors.New("stop")
	if err := s.Read(ctxT(t), 0, eventstore.ReadOptions{}, func(eventstore.Message) error { return stop }); !errors.Is(err, stop) {
		t.Fatalf("handler error not returned: %v", err)
	}
}

func testFollow(t *testing.T, s eventstore.Store) {
	mustAppend(t, s, task("a"), 0, "c", registered("a"))
	ctx, cancel := context.WithCancel(ctxT(t))
	got := make(chan eventstore.Message, 10)
	done := make(chan error, 1)
	go func() {
		done <- s.Read(ctx, 0, eventstore.ReadOptions{Follow: true}, func(m eventstore.Message) error {
			got <- m
			return nil
		})
	}()
	first := <-got
	if first.Events[0].AggregateID != "a" {
		t.Fatalf("first message %+v", first)
	}
	mustAppend(t, s, task("b"), 0, "c", registered("b"))
	select {
	case m := <-got:
		if m.Events[0].AggregateID != "b" {
			t.Fatalf("followed message %+v", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("follow did not deliver a new append")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("follow ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("follow did not stop on cancel")
	}
}

func testContextCancellation(t *testing.T, s eventstore.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Append(ctx, task("t1"), 0, meta("c1"), pending(t, registered("x"))...); err == nil {
		t.Fatal("append with a cancelled context succeeded")
	}
	if n := len(mustLoad(t, s, task("t1"))); n != 0 {
		t.Fatalf("cancelled append stored %d events", n)
	}
	mustAppend(t, s, task("t1"), 0, "c1", registered("x"))
	if err := s.Read(ctx, 0, eventstore.ReadOptions{}, func(eventstore.Message) error { return nil }); err == nil {
		t.Fatal("read with a cancelled context succeeded")
	}
}

func testBadInput(t *testing.T, s eventstore.Store) {
	ref := task("t1")
	cases := []struct {
		name  string
		ref   domain.AggregateRef
		meta  domain.Meta
		evs   []domain.Pending
		field string
	}{
		{"no actor", ref, domain.Meta{CommandID: "c", Source: "test"}, pending(t, registered("x")), "actor"},
		{"no command id", ref, domain.Meta{Actor: "a", Source: "test"}, pending(t, registered("x")), "command_id"},
		{"no events", ref, meta("c"), nil, "events"},
		{"unknown event", ref, meta("c"), []domain.Pending{{Name: "task.exploded", SchemaVersion: 1, Payload: []byte(`{}`)}}, "events[0].name"},
		{"subject-unsafe id", task("a.b"), meta("c"), pending(t, registered("x")), "task_id"},
		{"wildcard id", task(">"), meta("c"), pending(t, registered("x")), "task_id"},
	}
	for _, tc := range cases {
		_, err := s.Append(ctxT(t), tc.ref, 0, tc.meta, tc.evs...)
		e, ok := domain.AsError(err)
		if !ok || e.Code != domain.EINVALID || e.Field != tc.field {
			t.Fatalf("%s: want invalid %s, got %v", tc.name, tc.field, err)
		}
	}
	if last, _ := s.LastPosition(ctxT(t)); last != 0 {
		t.Fatalf("bad input appended: last position %d", last)
	}
}

func testHashChain(t *testing.T, s eventstore.Store) {
	ref := task("t1")
	mustAppend(t, s, ref, 0, "c1", registered("x"), narrative("1"))
	mustAppend(t, s, ref, 2, "c2", narrative("2"))
	mustAppend(t, s, task("t2"), 0, "c3", registered("y"))
	v := domain.NewChainVerifier()
	for _, m := range readAll(t, s, 0) {
		for _, e := range m.Events {
			if brk := v.Check(e); brk != nil {
				t.Fatalf("chain break on a clean log: %+v", brk)
			}
		}
	}
	got := mustLoad(t, s, ref)
	if got[0].PrevHash != "" || got[1].PrevHash != got[0].Hash || got[2].PrevHash != got[1].Hash {
		t.Fatal("events are not chained")
	}
	// Any change to a stored field must break the hash.
	tampered := got[1]
	tampered.Actor = "someone else"
	if h, _ := tampered.ComputeHash(); h == tampered.Hash {
		t.Fatal("hash does not cover the actor")
	}
}

// keyed is a store that says which keys it signs with.
type keyed interface {
	Keyring() *signing.Keyring
}

// testSigned: every appended message carries a signature that
// eventstore.Authentic accepts under the store's keyring, Read stamps that
// verdict, and the signature stops holding once an event's hash changes.
func testSigned(t *testing.T, s eventstore.Store) {
	k, ok := s.(keyed)
	if !ok {
		t.Fatalf("%T does not say which keys it signs with", s)
	}
	mustAppend(t, s, task("t1"), 0, "c1", registered("x"), narrative("1"))
	mustAppend(t, s, task("t2"), 0, "c2", registered("y"))
	msgs := readAll(t, s, 0)
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	for _, m := range msgs {
		if m.KeyID == "" || m.Foreign != nil {
			t.Fatalf("message %d: key %q, verdict %v", m.Position, m.KeyID, m.Foreign)
		}
		if err := eventstore.Authentic(k.Keyring(), m); err != nil {
			t.Fatalf("message %d: %v", m.Position, err)
		}
	}
	rehashed := msgs[0]
	rehashed.Events = append([]domain.Envelope(nil), rehashed.Events...)
	rehashed.Events[1].Payload = []byte(`{"items":["改过的"]}`)
	if err := rehashed.Events[1].Seal(rehashed.Events[0].Hash); err != nil {
		t.Fatal(err)
	}
	if err := eventstore.Authentic(k.Keyring(), rehashed); !errors.Is(err, eventstore.ErrForeign) {
		t.Fatalf("a re-hashed event kept its message's signature valid: %v", err)
	}
	other, err := signing.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if err := eventstore.Authentic(signing.Trusting(other), msgs[1]); !errors.Is(err, eventstore.ErrForeign) {
		t.Fatalf("a keyring without the store's key accepted its message: %v", err)
	}
}

func testChineseText(t *testing.T, s eventstore.Store) {
	text := "“两区”建设：两区入库项目169个，超额完成年度71个项目的年度指标任务（全市复制推广）。"
	mustAppend(t, s, task("t1"), 0, "c1", registered(text))
	got := mustLoad(t, s, task("t1"))
	ev, err := domain.Decode(got[0])
	if err != nil {
		t.Fatal(err)
	}
	if title := ev.(*domain.TaskRegistered).Title; title != text {
		t.Fatalf("title changed in the store:\n got %q\nwant %q", title, text)
	}
}
