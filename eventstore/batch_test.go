package eventstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/eventstore/storetest"
	"kpitrail/internal/natstest"
)

func TestMemoryBatchConformance(t *testing.T) {
	storetest.RunBatch(t, func(t *testing.T) storetest.BatchStore { return eventstore.NewMemory(nil) })
}

func TestEmbeddedBatchConformance(t *testing.T) {
	storetest.RunBatch(t, func(t *testing.T) storetest.BatchStore {
		_, s := embeddedStore(t)
		return s
	})
}

// TestClusterBatchConformance runs the batch suite on a 3-node cluster with
// replicated streams, where the server proposes a batch as one raft entry
// group and a check against an in-flight subject fails with 10164.
func TestClusterBatchConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	cluster := natstest.RunCluster(t, 3)
	nc, err := eventstore.ConnectRemote(eventstore.RemoteConfig{URLs: cluster.URL(), Name: "batch-cluster-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	var n atomic.Int64
	storetest.RunBatch(t, func(t *testing.T) storetest.BatchStore {
		// One cluster for the suite; each test gets its own stream.
		i := n.Add(1)
		return openStore(t, nc, eventstore.Config{Stream: fmt.Sprintf("BATCH%d", i), SubjectPrefix: fmt.Sprintf("batch%d.events", i), Replicas: 3})
	})
}

// TestGroupCommitConformance holds the group committer to every promise of
// a store, and of AppendMany.
func TestGroupCommitConformance(t *testing.T) {
	t.Run("Store", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) eventstore.Store { return groupCommitter(t) })
	})
	t.Run("Batch", func(t *testing.T) {
		storetest.RunBatch(t, func(t *testing.T) storetest.BatchStore { return groupCommitter(t) })
	})
}

// TestGroupCommitConcurrent sends 64 writers through one committer: every
// append lands exactly once, and they share syncs.
func TestGroupCommitConcurrent(t *testing.T) {
	g := groupCommitter(t)
	const writers, each = 64, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ref := domain.AggregateRef{Type: domain.AggregateTask, ID: fmt.Sprintf("w%d", w)}
			for i := range each {
				envs, err := g.Append(ctxFor(t), ref, uint64(i), metaFor(fmt.Sprintf("w%d-%d", w, i)), pendingOf(t, narrativeEvent("写入"))...)
				if err != nil {
					errs <- fmt.Errorf("writer %d append %d: %w", w, i, err)
					return
				}
				if envs[0].AggregateVersion != uint64(i+1) {
					errs <- fmt.Errorf("writer %d append %d got version %d", w, i, envs[0].AggregateVersion)
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
	seen := map[string]int{}
	if err := g.Read(ctxFor(t), 0, eventstore.ReadOptions{}, func(m eventstore.Message) error {
		if m.Err != nil {
			return m.Err
		}
		for _, e := range m.Events {
			seen[e.CommandID]++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != writers*each {
		t.Fatalf("%d commands stored, want %d", len(seen), writers*each)
	}
	for cmd, n := range seen {
		if n != 1 {
			t.Fatalf("command %s stored %d times", cmd, n)
		}
	}
	st := g.Stats()
	if st.Appends != writers*each || st.Batches >= st.Appends {
		t.Fatalf("stats %+v: appends were not grouped", st)
	}
	t.Logf("%d appends in %d batches (%.1f per sync)", st.Appends, st.Batches, float64(st.Appends)/float64(st.Batches))
}

// TestAppendManyServerRefusal makes the server, not the write model, find
// the conflict: another store on the same stream writes behind this one's
// cache, so the batch is refused and must be sorted out message by message.
func TestAppendManyServerRefusal(t *testing.T) {
	emb, a := embeddedStore(t)
	nc := connect(t, emb)
	b := openStore(t, nc, eventstore.Config{Signer: a.Signer(), Trust: a.Keyring()}) // another process of the same instance
	ref := func(id string) domain.AggregateRef { return domain.AggregateRef{Type: domain.AggregateTask, ID: id} }
	one := func(r domain.AggregateRef, expected uint64, cmd string) eventstore.AppendRequest {
		return eventstore.AppendRequest{Ref: r, Expected: expected, Meta: metaFor(cmd), Events: pendingOf(t, narrativeEvent(cmd))}
	}
	for _, id := range []string{"x", "y", "z"} {
		if _, err := a.Append(ctxFor(t), ref(id), 0, metaFor(id+"-0"), pendingOf(t, narrativeEvent("0"))...); err != nil {
			t.Fatal(err)
		}
	}
	// b moves x on, and stores y's next command, behind a's cache.
	if _, err := b.Append(ctxFor(t), ref("x"), 1, metaFor("x-by-b"), pendingOf(t, narrativeEvent("b"))...); err != nil {
		t.Fatal(err)
	}
	yByB, err := b.Append(ctxFor(t), ref("y"), 1, metaFor("y-1"), pendingOf(t, narrativeEvent("y-1"))...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Append(ctxFor(t), ref("z"), 1, metaFor("z-1"), pendingOf(t, narrativeEvent("z-1"))...); err != nil {
		t.Fatal(err)
	}
	before := lastPos(t, a)
	res := a.AppendMany(ctxFor(t), []eventstore.AppendRequest{
		one(ref("new1"), 0, "n1"),
		one(ref("x"), 1, "x-by-a"), // stale in a's cache: the server refuses
		one(ref("x"), 2, "x-next"), // chained on the refused one: judged again after
		one(ref("y"), 1, "y-1"),    // a retry of what b stored: the original comes back
		one(ref("z"), 2, "z-2"),    // ahead of a's cache: a re-reads z first
		one(ref("new2"), 0, "n2"),
	})
	if e, ok := domain.AsError(res[1].Err); !ok || e.Code != domain.ECONFLICT || e.Version != 2 {
		t.Fatalf("stale request: want a conflict at version 2, got %v", res[1].Err)
	}
	if res[2].Err != nil || res[2].Envelopes[0].AggregateVersion != 3 {
		t.Fatalf("request at x's real version: %+v %v", res[2].Envelopes, res[2].Err)
	}
	if res[3].Err != nil || res[3].Envelopes[0].ID != yByB[0].ID {
		t.Fatalf("retried command: got %+v %v, want the original %s", res[3].Envelopes, res[3].Err, yByB[0].ID)
	}
	if res[4].Err != nil || res[4].Envelopes[0].AggregateVersion != 3 {
		t.Fatalf("request ahead of the cache: %+v %v", res[4].Envelopes, res[4].Err)
	}
	for _, i := range []int{0, 5} {
		if res[i].Err != nil {
			t.Fatalf("request %d failed with the offender: %v", i, res[i].Err)
		}
	}
	if got := lastPos(t, a) - before; got != 4 {
		t.Fatalf("stored %d messages, want 4 (n1, x-next, z-2, n2)", got)
	}
	if got := len(mustLoadStore(t, a, ref("x"))); got != 3 {
		t.Fatalf("x holds %d events, want 3", got)
	}
}

// TestAppendManyLoneRetry: a request alone goes as a plain publish; a retry
// of a command another store wrote within the dedupe window comes back as
// a duplicate ack, and must still return the original.
func TestAppendManyLoneRetry(t *testing.T) {
	emb, a := embeddedStore(t)
	b := openStore(t, connect(t, emb), eventstore.Config{Signer: a.Signer(), Trust: a.Keyring()})
	ref := domain.AggregateRef{Type: domain.AggregateTask, ID: "y"}
	if _, err := a.Append(ctxFor(t), ref, 0, metaFor("y-0"), pendingOf(t, narrativeEvent("0"))...); err != nil {
		t.Fatal(err)
	}
	orig, err := b.Append(ctxFor(t), ref, 1, metaFor("y-1"), pendingOf(t, narrativeEvent("1"))...)
	if err != nil {
		t.Fatal(err)
	}
	res := a.AppendMany(ctxFor(t), []eventstore.AppendRequest{{Ref: ref, Expected: 1, Meta: metaFor("y-1"), Events: pendingOf(t, narrativeEvent("1"))}})
	if res[0].Err != nil || res[0].Envelopes[0].ID != orig[0].ID {
		t.Fatalf("lone retry: got %+v %v, want the original %s", res[0].Envelopes, res[0].Err, orig[0].ID)
	}
	if last := lastPos(t, a); last != 2 {
		t.Fatalf("last position %d, want 2", last)
	}
}

// TestAppendManyOversizedFailsAlone: a message the server could never take
// must not hold back the batch it would have been in.
func TestAppendManyOversizedFailsAlone(t *testing.T) {
	_, s := embeddedStore(t)
	huge := strings.Repeat("大", 400_000) // 1.2 MB of UTF-8, over the 1 MiB max payload
	res := s.AppendMany(ctxFor(t), []eventstore.AppendRequest{
		{Ref: domain.AggregateRef{Type: domain.AggregateTask, ID: "a"}, Meta: metaFor("a"), Events: pendingOf(t, narrativeEvent("a"))},
		{Ref: domain.AggregateRef{Type: domain.AggregateTask, ID: "huge"}, Meta: metaFor("h"), Events: pendingOf(t, narrativeEvent(huge))},
		{Ref: domain.AggregateRef{Type: domain.AggregateTask, ID: "b"}, Meta: metaFor("b"), Events: pendingOf(t, narrativeEvent("b"))},
	})
	if !errors.Is(res[1].Err, nats.ErrMaxPayload) {
		t.Fatalf("oversized request: want max payload, got %v", res[1].Err)
	}
	if res[0].Err != nil || res[2].Err != nil {
		t.Fatalf("neighbours of an oversized request failed: %v, %v", res[0].Err, res[2].Err)
	}
	if last := lastPos(t, s); last != 2 {
		t.Fatalf("last position %d, want 2", last)
	}
}

// TestAppendManyStreamRefusal: a refusal about the stream, not one message,
// fails the batch's requests with the server's error and stores nothing.
func TestAppendManyStreamRefusal(t *testing.T) {
	_, s := embeddedStore(t)
	cfg := s.Config().StreamConfig()
	cfg.AllowAtomicPublish = false
	if _, err := s.JetStreamContext().UpdateStream(ctxFor(t), cfg); err != nil {
		t.Fatal(err)
	}
	res := s.AppendMany(ctxFor(t), []eventstore.AppendRequest{
		{Ref: domain.AggregateRef{Type: domain.AggregateTask, ID: "a"}, Meta: metaFor("a"), Events: pendingOf(t, narrativeEvent("a"))},
		{Ref: domain.AggregateRef{Type: domain.AggregateTask, ID: "b"}, Meta: metaFor("b"), Events: pendingOf(t, narrativeEvent("b"))},
	})
	for i, r := range res {
		var apiErr *jetstream.APIError
		if !errors.As(r.Err, &apiErr) || apiErr.ErrorCode != 10174 {
			t.Fatalf("request %d: want atomic publish disabled (10174), got %v", i, r.Err)
		}
	}
	if last := lastPos(t, s); last != 0 {
		t.Fatalf("refused batch stored up to %d", last)
	}
}

// TestGroupCommitMaxWait holds batches open, and drops an append whose
// caller gave up before it was sent.
func TestGroupCommitMaxWait(t *testing.T) {
	_, s := embeddedStore(t)
	g, err := eventstore.NewGroupCommitter(s, eventstore.GroupCommitConfig{MaxBatch: 8, MaxWait: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := g.Append(ctx, domain.AggregateRef{Type: domain.AggregateTask, ID: "gone"}, 0, metaFor("gone"), pendingOf(t, narrativeEvent("x"))...); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("abandoned append: %v", err)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := g.Append(ctxFor(t), domain.AggregateRef{Type: domain.AggregateTask, ID: fmt.Sprintf("t%d", i)}, 0, metaFor("c"), pendingOf(t, narrativeEvent("x"))...); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	g.Close()
	if _, err := g.Append(ctxFor(t), domain.AggregateRef{Type: domain.AggregateTask, ID: "late"}, 0, metaFor("c"), pendingOf(t, narrativeEvent("x"))...); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
	if envs, _ := s.Load(ctxFor(t), domain.AggregateRef{Type: domain.AggregateTask, ID: "gone"}); len(envs) != 0 {
		t.Fatal("an append abandoned before it was sent was stored")
	}
	if st := g.Stats(); st.Appends != 16 || st.Batches > 4 {
		t.Fatalf("stats %+v: want 16 appends in at most 4 batches of 8", st)
	}
	if _, err := eventstore.NewGroupCommitter(s, eventstore.GroupCommitConfig{MaxBatch: -1, MaxWait: -time.Second}); err == nil {
		t.Fatal("a negative config was accepted")
	}
}

// TestAppendManyWireMatchesAppend checks that AppendMany stores the message
// a single Append would: same body shape and kpitrail headers, whether it
// goes alone (a plain publish) or in a batch, which adds only its own
// headers.
func TestAppendManyWireMatchesAppend(t *testing.T) {
	_, s := embeddedStore(t)
	task := func(id string) domain.AggregateRef { return domain.AggregateRef{Type: domain.AggregateTask, ID: id} }
	one := func(id string) eventstore.AppendRequest {
		return eventstore.AppendRequest{Ref: task(id), Meta: metaFor("c1"), Events: pendingOf(t, narrativeEvent("一"))}
	}
	single, err := s.Append(ctxFor(t), task("single"), 0, metaFor("c1"), pendingOf(t, narrativeEvent("一"))...)
	if err != nil {
		t.Fatal(err)
	}
	var positions []uint64
	for _, reqs := range [][]eventstore.AppendRequest{{one("alone")}, {one("first"), one("last")}} {
		for _, r := range s.AppendMany(ctxFor(t), reqs) {
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			positions = append(positions, r.Envelopes[0].Position)
		}
	}
	raw := func(pos uint64) *jetstream.RawStreamMsg {
		m, err := s.Stream().GetMsg(ctxFor(t), pos)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	want := raw(single[0].Position)
	// Same header names, bar the batch's own; same values where they do not
	// name the message itself.
	keys := func(h nats.Header) string {
		var out []string
		for k := range h {
			if !strings.HasPrefix(k, "Nats-Batch-") {
				out = append(out, k)
			}
		}
		slices.Sort(out)
		return strings.Join(out, ",")
	}
	for i, id := range []string{"alone", "first", "last"} {
		got := raw(positions[i])
		if k1, k2 := keys(want.Header), keys(got.Header); k1 != k2 {
			t.Fatalf("%s: headers differ:\nAppend     %s\nAppendMany %s", id, k1, k2)
		}
		for _, k := range []string{"Kpitrail-Command-Id", "Kpitrail-Version", "Nats-Expected-Last-Subject-Sequence", "Nats-Expected-Stream"} {
			if want.Header.Get(k) != got.Header.Get(k) {
				t.Fatalf("%s: header %s: Append %q, AppendMany %q", id, k, want.Header.Get(k), got.Header.Get(k))
			}
		}
		if msgID := got.Header.Get("Nats-Msg-Id"); msgID != "task/"+id+"/c1" {
			t.Fatalf("%s: message id %q", id, msgID)
		}
		if k1, k2 := jsonShape(t, want.Data), jsonShape(t, got.Data); k1 != k2 {
			t.Fatalf("%s: bodies differ in shape:\n%s\n%s", id, k1, k2)
		}
	}
	batch := map[string][3]string{
		"alone": {"", "", ""},
		"first": {"x", "1", ""},
		"last":  {"x", "2", "1"},
	}
	for i, id := range []string{"alone", "first", "last"} {
		h, w := raw(positions[i]).Header, batch[id]
		if (h.Get("Nats-Batch-Id") != "") != (w[0] != "") || h.Get("Nats-Batch-Sequence") != w[1] || h.Get("Nats-Batch-Commit") != w[2] {
			t.Fatalf("%s: batch headers %v", id, h)
		}
	}
}

// jsonShape lists the keys of a stored body and of its first event.
func jsonShape(t *testing.T, data []byte) string {
	t.Helper()
	var body map[string]json.RawMessage
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatal(err)
	}
	var events []map[string]json.RawMessage
	if err := json.Unmarshal(body["events"], &events); err != nil || len(events) == 0 {
		t.Fatalf("events %s: %v", body["events"], err)
	}
	return strings.Join(slices.Sorted(maps.Keys(body)), ",") + " / " + strings.Join(slices.Sorted(maps.Keys(events[0])), ",")
}

// TestAppendManyLargerThanOneBatch spans the server's limit of 1000
// messages per atomic batch.
func TestAppendManyLargerThanOneBatch(t *testing.T) {
	_, s := embeddedStore(t)
	checkBigBatch(t, s, 2500)
}

// TestAppendManyServerBatchLimit runs against a server configured with a
// lower batch limit: the store learns it from the refusal and splits.
func TestAppendManyServerBatchLimit(t *testing.T) {
	srv, err := server.NewServer(&server.Options{
		JetStream: true, StoreDir: t.TempDir(), DontListen: true, NoSigs: true,
		JetStreamLimits: server.JSLimitOpts{MaxBatchSize: 64},
	})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	t.Cleanup(srv.Shutdown)
	nc, err := nats.Connect("", nats.InProcessServer(srv))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	checkBigBatch(t, openStore(t, nc, eventstore.Config{}), 300)
}

func checkBigBatch(t *testing.T, s *eventstore.JetStream, n int) {
	t.Helper()
	reqs := make([]eventstore.AppendRequest, n)
	for i := range reqs {
		reqs[i] = eventstore.AppendRequest{Ref: domain.AggregateRef{Type: domain.AggregateTask, ID: fmt.Sprintf("a%d", i)}, Meta: metaFor("c"), Events: pendingOf(t, narrativeEvent("批量"))}
	}
	res := s.AppendMany(ctxFor(t), reqs)
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("request %d: %v", i, r.Err)
		}
		if r.Envelopes[0].Position != uint64(i+1) {
			t.Fatalf("request %d at position %d", i, r.Envelopes[0].Position)
		}
	}
	if last := lastPos(t, s); last != uint64(n) {
		t.Fatalf("last position %d, want %d", last, n)
	}
}

func embeddedStore(t *testing.T) (*eventstore.Embedded, *eventstore.JetStream) {
	t.Helper()
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Shutdown)
	return emb, openStore(t, connect(t, emb), eventstore.Config{})
}

func connect(t *testing.T, emb *eventstore.Embedded) *nats.Conn {
	t.Helper()
	nc, err := emb.Connect(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func groupCommitter(t *testing.T) *eventstore.GroupCommitter {
	t.Helper()
	_, s := embeddedStore(t)
	g, err := eventstore.NewGroupCommitter(s, eventstore.GroupCommitConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close) // runs before the server's shutdown, registered earlier
	return g
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func metaFor(cmd string) domain.Meta {
	return domain.Meta{Actor: "office:test", CommandID: cmd, Source: "test"}
}

func narrativeEvent(text string) domain.Event {
	return &domain.TaskNarrativeRecorded{Items: []string{text}}
}

func pendingOf(t testing.TB, events ...domain.Event) []domain.Pending {
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

func lastPos(t *testing.T, s eventstore.Store) uint64 {
	t.Helper()
	last, err := s.LastPosition(ctxFor(t))
	if err != nil {
		t.Fatal(err)
	}
	return last
}

func mustLoadStore(t *testing.T, s eventstore.Store, ref domain.AggregateRef) []domain.Envelope {
	t.Helper()
	envs, err := s.Load(ctxFor(t), ref)
	if err != nil {
		t.Fatal(err)
	}
	return envs
}
