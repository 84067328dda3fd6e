package lease_test

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/internal/natstest"
	"kpitrail/lease"
)

func open(t *testing.T, srv *natstest.Embedded, holder string, ttl time.Duration) *lease.Leases {
	t.Helper()
	js, err := jetstream.New(srv.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	l, err := lease.Open(context.Background(), js, lease.Config{Holder: holder, TTL: ttl, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestOneHolderAtATime: while a holder renews, nobody else gets the lease;
// released, the next one takes it at once.
func TestOneHolderAtATime(t *testing.T) {
	srv := natstest.RunEmbedded(t)
	ctx := context.Background()
	a, b := open(t, srv, "a", time.Second), open(t, srv, "b", time.Second)
	ha, ok, err := a.TryAcquire(ctx, "checkpointer")
	if err != nil || !ok {
		t.Fatalf("a: ok %v err %v", ok, err)
	}
	// Past several TTLs: a's renewals keep it.
	for i := 0; i < 6; i++ {
		time.Sleep(400 * time.Millisecond)
		if _, ok, err := b.TryAcquire(ctx, "checkpointer"); err != nil || ok {
			t.Fatalf("b took a held lease after %d ms (err %v)", (i+1)*400, err)
		}
	}
	if who, _ := b.Holder(ctx, "checkpointer"); who != "a" {
		t.Fatalf("holder %q, want a", who)
	}
	ha.Release()
	select {
	case <-ha.Lost():
	default:
		t.Fatal("a released lease is not reported lost")
	}
	hb, ok, err := b.TryAcquire(ctx, "checkpointer")
	if err != nil || !ok {
		t.Fatalf("b after release: ok %v err %v", ok, err)
	}
	hb.Release()
}

// TestStoppedHolderHandsOver: a holder that shuts down releases the lease
// and a waiting instance takes the job within its retry interval; the job
// runs in one instance at a time throughout. (A holder that dies without
// releasing is TestCrashedHolderExpires.)
func TestStoppedHolderHandsOver(t *testing.T) {
	srv := natstest.RunEmbedded(t)
	const ttl = time.Second
	a, b := open(t, srv, "a", ttl), open(t, srv, "b", ttl)
	var running, most atomic.Int32
	var ranB atomic.Bool
	job := func(mark func()) func(context.Context) {
		return func(ctx context.Context) {
			n := running.Add(1)
			if n > most.Load() {
				most.Store(n)
			}
			mark()
			<-ctx.Done()
			running.Add(-1)
		}
	}
	actx, killA := context.WithCancel(context.Background())
	started := make(chan struct{})
	go a.Run(actx, "feed", 100*time.Millisecond, job(func() { close(started) }))
	<-started
	bctx, stopB := context.WithCancel(context.Background())
	defer stopB()
	go b.Run(bctx, "feed", 100*time.Millisecond, job(func() { ranB.Store(true) }))
	time.Sleep(2 * ttl)
	if ranB.Load() {
		t.Fatal("b ran the job while a held the lease")
	}
	killed := time.Now()
	killA()
	deadline := time.Now().Add(ttl)
	for !ranB.Load() {
		if time.Now().After(deadline) {
			who, err := b.Holder(context.Background(), "feed")
			t.Fatalf("b did not take over within %s (holder %q, %v)", ttl, who, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("taken over %s after the holder stopped", time.Since(killed).Round(10*time.Millisecond))
	if most.Load() != 1 {
		t.Fatalf("%d instances ran the job at once", most.Load())
	}
}

// TestCrashedHolderExpires: a value nobody renews expires after the TTL and
// the key can be taken again.
func TestCrashedHolderExpires(t *testing.T) {
	srv := natstest.RunEmbedded(t)
	ctx := context.Background()
	const ttl = time.Second
	js, err := jetstream.New(srv.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	b := open(t, srv, "b", ttl)
	kv, err := js.KeyValue(ctx, lease.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	// What a crashed holder leaves behind: its value and no renewals.
	if _, err := kv.Create(ctx, "imports", []byte("crashed")); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := b.TryAcquire(ctx, "imports"); ok {
		t.Fatal("took a lease whose holder's value is still live")
	}
	start := time.Now()
	for {
		h, ok, err := b.TryAcquire(ctx, "imports")
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			h.Release()
			break
		}
		if time.Since(start) > 4*ttl {
			t.Fatal("a crashed holder's value never expired")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if took := time.Since(start); took < ttl/2 {
		t.Fatalf("taken after %s, before the TTL", took)
	}
}
