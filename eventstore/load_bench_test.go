package eventstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// The write model loads aggregates by direct get on their subject. These
// benchmarks compare that with the alternative of a consumer per load, on
// the same stream: aggregates of 10 messages among 1,000.
//
//	go test ./eventstore -run '^$' -bench 'Load' -benchtime 2s

func loadFixture(b *testing.B) (*eventstore.JetStream, []domain.AggregateRef) {
	b.Helper()
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{StoreDir: b.TempDir(), NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(emb.Shutdown)
	nc, err := emb.Connect("bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	// A one-entry cache makes every load below a miss that reads the server.
	store, err := eventstore.OpenJetStream(context.Background(), nc, eventstore.Config{CacheAggregates: 1})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var refs []domain.AggregateRef
	for i := 0; i < 100; i++ {
		refs = append(refs, domain.AggregateRef{Type: domain.AggregateTask, ID: fmt.Sprintf("t%d", i)})
	}
	var reqs []eventstore.AppendRequest
	for v := 0; v < 10; v++ {
		reqs = reqs[:0]
		for i := 0; i < 1000; i++ {
			ref := domain.AggregateRef{Type: domain.AggregateTask, ID: fmt.Sprintf("t%d", i)}
			var ev domain.Event = &domain.TaskNarrativeRecorded{Items: []string{"年度任务完成情况"}}
			if v == 0 {
				ev = &domain.TaskRegistered{Year: 2022, Title: "安全生产", LeadDepartment: "区应急局"}
			}
			p, _ := domain.NewPending(ev)
			reqs = append(reqs, eventstore.AppendRequest{Ref: ref, Expected: uint64(v), Events: []domain.Pending{p},
				Meta: domain.Meta{Actor: "office:bench", CommandID: fmt.Sprintf("c%d-%d", i, v), Source: "bench"}})
		}
		for _, r := range store.AppendMany(ctx, reqs) {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
	return store, refs
}

func BenchmarkLoadDirectGet(b *testing.B) {
	store, refs := loadFixture(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		envs, err := store.Load(ctx, refs[i%len(refs)])
		if err != nil || len(envs) != 10 {
			b.Fatalf("%d events, %v", len(envs), err)
		}
	}
}

func BenchmarkLoadConsumerPerLoad(b *testing.B) {
	store, refs := loadFixture(b)
	ctx := context.Background()
	js := store.JetStreamContext()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		subject := eventstore.Subject(eventstore.DefaultSubjectPrefix, domain.DefaultUnitID, refs[i%len(refs)])
		cons, err := js.CreateConsumer(ctx, store.Config().Stream, jetstream.ConsumerConfig{FilterSubject: subject,
			AckPolicy: jetstream.AckNonePolicy, DeliverPolicy: jetstream.DeliverAllPolicy, MemoryStorage: true})
		if err != nil {
			b.Fatal(err)
		}
		batch, err := cons.Fetch(10)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for range batch.Messages() {
			n++
		}
		if n != 10 {
			b.Fatalf("%d messages", n)
		}
		if err := js.DeleteConsumer(ctx, store.Config().Stream, cons.CachedInfo().Name); err != nil {
			b.Fatal(err)
		}
	}
}
