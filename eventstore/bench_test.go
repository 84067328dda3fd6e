package eventstore_test

// What durability costs per path, on the embedded server with a sync before
// every acknowledgement (kpitrail's default):
//
//	go test ./eventstore -run '^$' -bench . -benchtime 3s
//
// Aggregates are kept to 50 events each, a realistic length, so the write
// model's per-append copy of the aggregate does not swamp the figures.

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

const eventsPerAggregate = 50

func benchStore(b *testing.B) *eventstore.JetStream {
	b.Helper()
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{StoreDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(emb.Shutdown)
	nc, err := emb.Connect("bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	s, err := eventstore.OpenJetStream(context.Background(), nc, eventstore.Config{})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// slot names the aggregate and expected version of a writer's n-th append.
func slot(writer string, n int) (domain.AggregateRef, uint64) {
	ref := domain.AggregateRef{Type: domain.AggregateTask, ID: fmt.Sprintf("%s-%d", writer, n/eventsPerAggregate)}
	return ref, uint64(n % eventsPerAggregate)
}

func reportEvents(b *testing.B, events int) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRawPublishSync is the floor: a kpitrail-sized message published
// with a subject check and awaited, one writer, nothing else.
func BenchmarkRawPublishSync(b *testing.B) {
	s := benchStore(b)
	mem := eventstore.NewMemory(nil)
	ref, _ := slot("raw", 0)
	envs, err := mem.Append(context.Background(), ref, 0, metaFor("c"), pendingOf(b, narrativeEvent("进展情况"))...)
	if err != nil {
		b.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{"format": 1, "events": envs})
	if err != nil {
		b.Fatal(err)
	}
	js, ctx := s.JetStreamContext(), context.Background()
	last := map[string]uint64{}
	n := 0
	for b.Loop() {
		ref, _ := slot("raw", n)
		subj := eventstore.Subject(s.Config().SubjectPrefix, domain.DefaultUnitID, ref)
		ack, err := js.Publish(ctx, subj, body, jetstream.WithExpectLastSequencePerSubject(last[subj]))
		if err != nil {
			b.Fatal(err)
		}
		last[subj] = ack.Sequence
		n++
	}
	reportEvents(b, n)
}

// BenchmarkAppendSingle is JetStream.Append from one writer: one sync each.
func BenchmarkAppendSingle(b *testing.B) {
	s := benchStore(b)
	ev, ctx := pendingOf(b, narrativeEvent("进展情况")), context.Background()
	n := 0
	for b.Loop() {
		ref, expected := slot("single", n)
		if _, err := s.Append(ctx, ref, expected, metaFor(fmt.Sprintf("c%d", n)), ev...); err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportEvents(b, n)
}

// BenchmarkAppendMany100 is AppendMany with 100 requests per call, each to
// its own aggregate: one atomic batch, one sync, per call.
func BenchmarkAppendMany100(b *testing.B) { benchAppendMany(b, 100) }

// BenchmarkAppendMany1000 fills the server's largest atomic batch.
func BenchmarkAppendMany1000(b *testing.B) { benchAppendMany(b, 1000) }

func benchAppendMany(b *testing.B, per int) {
	s := benchStore(b)
	ev, ctx := pendingOf(b, narrativeEvent("进展情况")), context.Background()
	reqs := make([]eventstore.AppendRequest, per)
	calls := 0
	for b.Loop() {
		for k := range reqs {
			ref, expected := slot(fmt.Sprintf("many%d", k), calls)
			reqs[k] = eventstore.AppendRequest{Ref: ref, Expected: expected, Meta: metaFor(fmt.Sprintf("c%d", calls)), Events: ev}
		}
		for _, r := range s.AppendMany(ctx, reqs) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
		calls++
	}
	reportEvents(b, calls*per)
}

// BenchmarkAppendConcurrent64 is the baseline for group commit: 64 writers
// calling JetStream.Append directly, one sync per append.
func BenchmarkAppendConcurrent64(b *testing.B) {
	s := benchStore(b)
	runWriters(b, 64, s)
}

// BenchmarkGroupCommit64 is 64 concurrent writers, each appending to its own
// aggregates through one GroupCommitter: by default with no artificial wait,
// and with a short MaxWait that lets the writers released by one batch
// rejoin the next.
func BenchmarkGroupCommit64(b *testing.B) {
	for _, wait := range []time.Duration{0, 2 * time.Millisecond} {
		b.Run("wait="+wait.String(), func(b *testing.B) { benchGroupCommit(b, 64, wait) })
	}
}

func benchGroupCommit(b *testing.B, writers int, wait time.Duration) {
	s := benchStore(b)
	g, err := eventstore.NewGroupCommitter(s, eventstore.GroupCommitConfig{MaxWait: wait})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(g.Close)
	runWriters(b, writers, g)
	if st := g.Stats(); st.Batches > 0 {
		b.ReportMetric(float64(st.Appends)/float64(st.Batches), "appends/sync")
	}
}

// runWriters appends from the given number of goroutines, each to its own
// aggregates.
func runWriters(b *testing.B, writers int, s eventstore.Store) {
	ev := pendingOf(b, narrativeEvent("进展情况"))
	var ids, total atomic.Int64
	b.SetParallelism((writers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		writer, ctx := fmt.Sprintf("g%d", ids.Add(1)), context.Background()
		n := 0
		for pb.Next() {
			ref, expected := slot(writer, n)
			if _, err := s.Append(ctx, ref, expected, metaFor(fmt.Sprintf("c%d", n)), ev...); err != nil {
				b.Error(err)
				return
			}
			n++
		}
		total.Add(int64(n))
	})
	reportEvents(b, int(total.Load()))
}

// BenchmarkRawAtomicBatch100 is the server's own price of one ADR-50 batch
// of 100 kpitrail-sized messages, without checks or any kpitrail code: the
// floor under AppendMany100.
func BenchmarkRawAtomicBatch100(b *testing.B) {
	const per = 100
	s := benchStore(b)
	nc, ctx := s.JetStreamContext().Conn(), context.Background()
	body := make([]byte, 700)
	calls := 0
	for b.Loop() {
		id := fmt.Sprintf("bench-%d", calls)
		for k := range per {
			m := nats.NewMsg(fmt.Sprintf("%s.huairou.task.raw%d", s.Config().SubjectPrefix, k))
			m.Data = body
			m.Header.Set("Nats-Batch-Id", id)
			m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(k+1))
			if k < per-1 {
				if err := nc.PublishMsg(m); err != nil {
					b.Fatal(err)
				}
				continue
			}
			m.Header.Set("Nats-Batch-Commit", "1")
			resp, err := nc.RequestMsgWithContext(ctx, m)
			if err != nil {
				b.Fatal(err)
			}
			var ack struct {
				Error *jetstream.APIError `json:"error"`
			}
			if err := json.Unmarshal(resp.Data, &ack); err != nil || ack.Error != nil {
				b.Fatalf("commit: %v %v", err, ack.Error)
			}
		}
		calls++
	}
	reportEvents(b, calls*per)
}
