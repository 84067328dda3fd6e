package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// BatchStore is a store that also appends many commands in one call.
type BatchStore interface {
	eventstore.Store
	AppendMany(ctx context.Context, reqs []eventstore.AppendRequest) []eventstore.AppendResult
}

// BatchFactory returns a fresh, empty batch store for one test.
type BatchFactory func(t *testing.T) BatchStore

// RunBatch runs the AppendMany suite against stores made by newStore.
func RunBatch(t *testing.T, newStore BatchFactory) {
	tests := []struct {
		name string
		fn   func(*testing.T, BatchStore)
	}{
		{"DistinctAggregatesLandInOrder", testBatchDistinct},
		{"ConflictFailsAlone", testBatchConflictAlone},
		{"IdempotentBatchRetry", testBatchIdempotent},
		{"ValidationPerRequest", testBatchValidation},
		{"SameAggregateInRequestOrder", testBatchSameAggregate},
		{"ChineseTextRoundTrip", testBatchChineseText},
		{"CancelledContextStoresNothing", testBatchCancelled},
		{"ConcurrentCallers", testBatchConcurrent},
		{"BatchedAppendsAreSigned", testBatchSigned},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func req(t testing.TB, ref domain.AggregateRef, expected uint64, cmd string, events ...domain.Event) eventstore.AppendRequest {
	t.Helper()
	return eventstore.AppendRequest{Ref: ref, Expected: expected, Meta: meta(cmd), Events: pending(t, events...)}
}

func mustAppendMany(t *testing.T, s BatchStore, reqs []eventstore.AppendRequest) []eventstore.AppendResult {
	t.Helper()
	res := s.AppendMany(ctxT(t), reqs)
	if len(res) != len(reqs) {
		t.Fatalf("%d results for %d requests", len(res), len(reqs))
	}
	return res
}

func lastPosition(t *testing.T, s eventstore.Store) uint64 {
	t.Helper()
	last, err := s.LastPosition(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return last
}

func testBatchDistinct(t *testing.T, s BatchStore) {
	if res := s.AppendMany(ctxT(t), nil); len(res) != 0 {
		t.Fatalf("empty call returned %d results", len(res))
	}
	const n = 200
	reqs := make([]eventstore.AppendRequest, n)
	for i := range reqs {
		reqs[i] = req(t, task(fmt.Sprintf("b%03d", i)), 0, fmt.Sprintf("c%d", i), registered(fmt.Sprintf("任务%d", i)))
	}
	res := mustAppendMany(t, s, reqs)
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("request %d: %v", i, r.Err)
		}
		e := r.Envelopes
		if len(e) != 1 || e[0].AggregateID != reqs[i].Ref.ID || e[0].AggregateVersion != 1 || e[0].CommandID != reqs[i].Meta.CommandID {
			t.Fatalf("request %d returned %+v", i, e)
		}
		if want := res[0].Envelopes[0].Position + uint64(i); e[0].Position != want {
			t.Fatalf("request %d at position %d, want %d: positions must be consecutive in request order", i, e[0].Position, want)
		}
	}
	if last := lastPosition(t, s); last != res[n-1].Envelopes[0].Position {
		t.Fatalf("last position %d, want %d", last, res[n-1].Envelopes[0].Position)
	}
	msgs := readAll(t, s, 0)
	if len(msgs) != n {
		t.Fatalf("log holds %d messages, want %d", len(msgs), n)
	}
	for i, m := range msgs {
		if m.Err != nil || m.Position != res[i].Envelopes[0].Position || m.Events[0].ID != res[i].Envelopes[0].ID {
			t.Fatalf("message %d: %+v", i, m)
		}
	}
	for i := range reqs {
		if got := mustLoad(t, s, reqs[i].Ref); len(got) != 1 || got[0].ID != res[i].Envelopes[0].ID {
			t.Fatalf("load %s: %+v", reqs[i].Ref, got)
		}
	}
	// A follow-up batch on top of the first one's versions.
	next := make([]eventstore.AppendRequest, n)
	for i := range next {
		next[i] = req(t, task(fmt.Sprintf("b%03d", i)), 1, fmt.Sprintf("d%d", i), narrative("进展"))
	}
	for i, r := range mustAppendMany(t, s, next) {
		if r.Err != nil || r.Envelopes[0].AggregateVersion != 2 || r.Envelopes[0].PrevHash != res[i].Envelopes[0].Hash {
			t.Fatalf("follow-up %d: %+v %v", i, r.Envelopes, r.Err)
		}
	}
}

func testBatchConflictAlone(t *testing.T, s BatchStore) {
	hot := task("hot")
	mustAppend(t, s, hot, 0, "init", registered("安全生产"))
	before := lastPosition(t, s)
	reqs := []eventstore.AppendRequest{
		req(t, task("a"), 0, "a1", registered("a")),
		req(t, hot, 0, "stale", narrative("stale")),
		req(t, task("b"), 0, "b1", registered("b"), narrative("b")),
		req(t, hot, 7, "future", narrative("future")),
		req(t, task("c"), 0, "c1", registered("c")),
	}
	res := mustAppendMany(t, s, reqs)
	for _, i := range []int{1, 3} {
		e, ok := domain.AsError(res[i].Err)
		if !ok || e.Code != domain.ECONFLICT || e.Version != 1 || res[i].Envelopes != nil {
			t.Fatalf("request %d: want a conflict at version 1, got %+v %v", i, res[i].Envelopes, res[i].Err)
		}
	}
	for _, i := range []int{0, 2, 4} {
		if res[i].Err != nil || len(res[i].Envelopes) != len(reqs[i].Events) {
			t.Fatalf("request %d did not land: %v", i, res[i].Err)
		}
	}
	if n := len(mustLoad(t, s, hot)); n != 1 {
		t.Fatalf("conflicting requests stored %d events on hot, want 1", n)
	}
	if msgs := readAll(t, s, before); len(msgs) != 3 {
		t.Fatalf("batch stored %d messages, want 3", len(msgs))
	}
}

func testBatchIdempotent(t *testing.T, s BatchStore) {
	const n = 20
	reqs := make([]eventstore.AppendRequest, n)
	for i := range reqs {
		reqs[i] = req(t, task(fmt.Sprintf("i%d", i)), 0, fmt.Sprintf("import-%d", i), registered(fmt.Sprintf("指标%d", i)), narrative("说明"))
	}
	orig := mustAppendMany(t, s, reqs)
	last := lastPosition(t, s)
	check := func(when string, again []eventstore.AppendResult) {
		t.Helper()
		for i := range again {
			if again[i].Err != nil {
				t.Fatalf("%s retry %d: %v", when, i, again[i].Err)
			}
			if len(again[i].Envelopes) != 2 || again[i].Envelopes[1].ID != orig[i].Envelopes[1].ID || again[i].Envelopes[0].Position != orig[i].Envelopes[0].Position {
				t.Fatalf("%s retry %d returned %+v, want the original %+v", when, i, again[i].Envelopes, orig[i].Envelopes)
			}
		}
		if now := lastPosition(t, s); now != last {
			t.Fatalf("%s retry stored messages: last position %d, was %d", when, now, last)
		}
	}
	check("immediate", mustAppendMany(t, s, reqs))
	// The aggregates move on; a late retry of the whole batch still gets the
	// original results.
	mustAppend(t, s, reqs[0].Ref, 2, "later", narrative("later"))
	last = lastPosition(t, s)
	check("late", mustAppendMany(t, s, reqs))
	// Retries mixed with new work: only the new work lands.
	mixed := append([]eventstore.AppendRequest{req(t, task("new"), 0, "new", registered("新"))}, reqs...)
	res := mustAppendMany(t, s, mixed)
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	last = res[0].Envelopes[0].Position
	check("mixed", res[1:])
}

func testBatchValidation(t *testing.T, s BatchStore) {
	good := req(t, task("ok"), 0, "ok", registered("x"))
	reqs := []eventstore.AppendRequest{
		{Ref: task("t1"), Meta: domain.Meta{CommandID: "c", Source: "test"}, Events: pending(t, registered("x"))},
		good,
		{Ref: task("t2"), Meta: meta("c")},
		{Ref: task("t3"), Meta: meta("c"), Events: []domain.Pending{{Name: "task.exploded", SchemaVersion: 1, Payload: []byte(`{}`)}}},
		{Ref: task("a.b"), Meta: meta("c"), Events: pending(t, registered("x"))},
		{Ref: domain.AggregateRef{Type: "nope", ID: "x"}, Meta: meta("c"), Events: pending(t, registered("x"))},
	}
	fields := map[int]string{0: "actor", 2: "events", 3: "events[0].name", 4: "task_id", 5: "aggregate_type"}
	res := mustAppendMany(t, s, reqs)
	for i, field := range fields {
		e, ok := domain.AsError(res[i].Err)
		if !ok || e.Code != domain.EINVALID || e.Field != field {
			t.Fatalf("request %d: want invalid %s, got %v", i, field, res[i].Err)
		}
	}
	if res[1].Err != nil {
		t.Fatalf("the valid request failed with its neighbours: %v", res[1].Err)
	}
	if msgs := readAll(t, s, 0); len(msgs) != 1 || msgs[0].Events[0].AggregateID != "ok" {
		t.Fatalf("log holds %d messages, want only the valid one", len(msgs))
	}
}

func testBatchSameAggregate(t *testing.T, s BatchStore) {
	ref := task("t1")
	reqs := []eventstore.AppendRequest{
		req(t, ref, 0, "c1", registered("城市更新"), narrative("1")),
		req(t, task("other"), 0, "o1", registered("other")),
		req(t, ref, 2, "c2", narrative("2")),
		req(t, ref, 0, "c3", narrative("stale")),
		req(t, ref, 3, "c4", narrative("4")),
		req(t, ref, 4, "c4", narrative("4")), // the same command again: its first result
	}
	res := mustAppendMany(t, s, reqs)
	for _, i := range []int{0, 1, 2, 4, 5} {
		if res[i].Err != nil {
			t.Fatalf("request %d: %v", i, res[i].Err)
		}
	}
	if e, ok := domain.AsError(res[3].Err); !ok || e.Code != domain.ECONFLICT || e.Version != 3 {
		t.Fatalf("a stale request after earlier ones: want a conflict at version 3, got %v", res[3].Err)
	}
	if res[5].Envelopes[0].ID != res[4].Envelopes[0].ID {
		t.Fatal("a repeated command in one call was stored twice")
	}
	got := mustLoad(t, s, ref)
	if len(got) != 4 {
		t.Fatalf("t1 holds %d events, want 4", len(got))
	}
	want := []string{res[0].Envelopes[0].ID, res[0].Envelopes[1].ID, res[2].Envelopes[0].ID, res[4].Envelopes[0].ID}
	for i, e := range got {
		if e.ID != want[i] || e.AggregateVersion != uint64(i+1) {
			t.Fatalf("event %d: %s at version %d, want %s at %d", i, e.ID, e.AggregateVersion, want[i], i+1)
		}
	}
	if !(res[0].Envelopes[0].Position < res[2].Envelopes[0].Position && res[2].Envelopes[0].Position < res[4].Envelopes[0].Position) {
		t.Fatal("one aggregate's requests stored out of request order")
	}
	v := domain.NewChainVerifier()
	for _, m := range readAll(t, s, 0) {
		for _, e := range m.Events {
			if brk := v.Check(e); brk != nil {
				t.Fatalf("chain break: %+v", brk)
			}
		}
	}
}

func testBatchChineseText(t *testing.T, s BatchStore) {
	texts := []string{
		"“两区”建设：两区入库项目169个，超额完成年度71个项目的年度指标任务（全市复制推广）。",
		"优化营商环境；“接诉即办”满意率达到95%以上",
		"𠮷野家 — emoji 🚀 and ASCII mixed",
	}
	reqs := make([]eventstore.AppendRequest, len(texts))
	for i, text := range texts {
		reqs[i] = req(t, task(fmt.Sprintf("zh%d", i)), 0, fmt.Sprintf("c%d", i), registered(text))
	}
	for i, r := range mustAppendMany(t, s, reqs) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		for _, e := range []domain.Envelope{r.Envelopes[0], mustLoad(t, s, reqs[i].Ref)[0]} {
			ev, err := domain.Decode(e)
			if err != nil {
				t.Fatal(err)
			}
			if title := ev.(*domain.TaskRegistered).Title; title != texts[i] {
				t.Fatalf("title changed in the store:\n got %q\nwant %q", title, texts[i])
			}
		}
	}
}

func testBatchCancelled(t *testing.T, s BatchStore) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := s.AppendMany(ctx, []eventstore.AppendRequest{req(t, task("a"), 0, "a", registered("a")), req(t, task("b"), 0, "b", registered("b"))})
	for i, r := range res {
		if r.Err == nil {
			t.Fatalf("request %d succeeded with a cancelled context", i)
		}
	}
	if last := lastPosition(t, s); last != 0 {
		t.Fatalf("cancelled batch stored up to position %d", last)
	}
}

// testBatchConcurrent races callers whose batches each hold one append to
// the caller's own aggregate and one to a shared aggregate; shared appends
// are retried on conflict. Every command must be stored exactly once.
func testBatchConcurrent(t *testing.T, s BatchStore) {
	hot := task("hot")
	mustAppend(t, s, hot, 0, "init", registered("并发"))
	const callers, rounds = 8, 6
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for w := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := task(fmt.Sprintf("own%d", w))
			ownDone, hotDone := 0, 0
			for attempt := 0; ownDone < rounds || hotDone < rounds; attempt++ {
				if attempt > 50*rounds {
					errs <- fmt.Errorf("caller %d: no progress on the shared aggregate", w)
					return
				}
				var reqs []eventstore.AppendRequest
				if ownDone < rounds {
					reqs = append(reqs, req(t, own, uint64(ownDone), fmt.Sprintf("own-%d-%d", w, ownDone), narrative("own")))
				}
				if hotDone < rounds {
					envs, err := s.Load(ctxT(t), hot)
					if err != nil {
						errs <- err
						return
					}
					reqs = append(reqs, req(t, hot, envs[len(envs)-1].AggregateVersion, fmt.Sprintf("hot-%d-%d", w, hotDone), narrative("hot")))
				}
				res := s.AppendMany(ctxT(t), reqs)
				if ownDone < rounds {
					if res[0].Err != nil {
						errs <- fmt.Errorf("caller %d: own append %d: %w", w, ownDone, res[0].Err)
						return
					}
					ownDone++
					res = res[1:]
				}
				if len(res) == 0 {
					continue
				}
				switch domain.ErrorCode(res[0].Err) {
				case "":
					hotDone++
				case domain.ECONFLICT:
				default:
					errs <- fmt.Errorf("caller %d: shared append: %w", w, res[0].Err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range readAll(t, s, 0) {
		for _, e := range m.Events {
			if seen[e.CommandID+"/"+e.AggregateID] {
				t.Fatalf("command %s stored twice", e.CommandID)
			}
			seen[e.CommandID+"/"+e.AggregateID] = true
		}
	}
	if got, want := len(mustLoad(t, s, hot)), 1+callers*rounds; got != want {
		t.Fatalf("shared aggregate holds %d events, want %d", got, want)
	}
	for w := range callers {
		if got := len(mustLoad(t, s, task(fmt.Sprintf("own%d", w)))); got != rounds {
			t.Fatalf("own%d holds %d events, want %d", w, got, rounds)
		}
	}
}

// testBatchSigned: messages stored by AppendMany, lone or in atomic
// batches, are signed like Append's.
func testBatchSigned(t *testing.T, s BatchStore) {
	k, ok := s.(keyed)
	if !ok {
		t.Fatalf("%T does not say which keys it signs with", s)
	}
	reqs := []eventstore.AppendRequest{req(t, task("a"), 0, "c1", registered("甲")), req(t, task("b"), 0, "c2", registered("乙")),
		req(t, task("a"), 1, "c3", narrative("一"), narrative("二"))}
	for i, r := range mustAppendMany(t, s, reqs) {
		if r.Err != nil {
			t.Fatalf("request %d: %v", i, r.Err)
		}
	}
	mustAppendMany(t, s, reqs[:1]) // a retry stores nothing
	mustAppendMany(t, s, []eventstore.AppendRequest{req(t, task("c"), 0, "c4", registered("丙"))})
	msgs := readAll(t, s, 0)
	if len(msgs) != 4 {
		t.Fatalf("%d messages, want 4", len(msgs))
	}
	for _, m := range msgs {
		if err := eventstore.Authentic(k.Keyring(), m); err != nil || m.Foreign != nil {
			t.Fatalf("message %d: %v (read as %v)", m.Position, err, m.Foreign)
		}
	}
}
