package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/internal/natstest"
)

// TestClusterLeaderKilledUnderLoad runs writers against a 3-node cluster
// with the stream replicated ×3, kills the stream leader mid-load, and
// checks that writes resume, every acknowledged append is stored exactly
// once, and conflicts are still detected (the 10164 path of R3 streams).
func TestClusterLeaderKilledUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-node cluster")
	}
	cluster := natstest.RunCluster(t, 3)
	nc, err := eventstore.ConnectRemote(eventstore.RemoteConfig{URLs: cluster.URL(), Name: "cluster-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	store, err := eventstore.OpenJetStream(ctx, nc, eventstore.Config{Replicas: 3, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 40
	var acked sync.Map // command id -> aggregate
	var done atomic.Int64
	var failures atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			ref := domain.AggregateRef{Type: domain.AggregateTask, ID: fmt.Sprintf("w%d", w)}
			for i := 0; i < each; i++ {
				var ev domain.Event = &domain.TaskNarrativeRecorded{Items: []string{fmt.Sprintf("第%d次报送", i)}}
				if i == 0 {
					ev = &domain.TaskRegistered{Year: 2022, Title: "安全生产", LeadDepartment: "区应急局"}
				}
				p, _ := domain.NewPending(ev)
				cmd := fmt.Sprintf("w%d-%d", w, i)
				meta := domain.Meta{Actor: "office:t", CommandID: cmd, Source: "test"}
				// Retry the same command until it is acknowledged: during the
				// election appends fail or time out with an unknown outcome,
				// and idempotency makes the retry safe.
				deadline := time.Now().Add(60 * time.Second)
				for {
					_, err := store.Append(ctx, ref, uint64(i), meta, p)
					if err == nil {
						acked.Store(cmd, ref)
						done.Add(1)
						break
					}
					if domain.ErrorCode(err) == domain.ECONFLICT || time.Now().After(deadline) {
						failures.Add(1)
						t.Errorf("%s: %v", cmd, err)
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		}(w)
	}
	// Kill the stream leader once a third of the load is in.
	for done.Load() < writers*each/3 {
		time.Sleep(10 * time.Millisecond)
	}
	leader, err := cluster.StreamLeader(ctx, store.JetStreamContext(), store.Config().Stream)
	if err != nil {
		t.Fatal(err)
	}
	killedAt := done.Load()
	cluster.Node(leader).Kill()
	t.Logf("killed stream leader n%d after %d acknowledged appends", leader+1, killedAt)
	wg.Wait()
	if failures.Load() > 0 {
		t.FailNow()
	}
	// Every acknowledged append is present exactly once.
	for w := 0; w < writers; w++ {
		ref := domain.AggregateRef{Type: domain.AggregateTask, ID: fmt.Sprintf("w%d", w)}
		var envs []domain.Envelope
		if err := retry(ctx, func() error { var err error; envs, err = store.Load(ctx, ref); return err }); err != nil {
			t.Fatal(err)
		}
		if len(envs) != each {
			t.Fatalf("%s holds %d events, want %d", ref, len(envs), each)
		}
		seen := map[string]bool{}
		for i, e := range envs {
			if seen[e.CommandID] || e.AggregateVersion != uint64(i+1) {
				t.Fatalf("%s: command %s duplicated or out of order at %d", ref, e.CommandID, i)
			}
			seen[e.CommandID] = true
			if _, ok := acked.Load(e.CommandID); !ok {
				t.Fatalf("%s: stored command %s was never acknowledged", ref, e.CommandID)
			}
		}
	}
	// Conflicts are still detected on the replicated stream.
	p, _ := domain.NewPending(&domain.TaskNarrativeRecorded{Items: []string{"过期版本"}})
	_, err = store.Append(ctx, domain.AggregateRef{Type: domain.AggregateTask, ID: "w0"}, 3,
		domain.Meta{Actor: "office:t", CommandID: "stale", Source: "test"}, p)
	if domain.ErrorCode(err) != domain.ECONFLICT {
		t.Fatalf("stale append after failover: want conflict, got %v", err)
	}
	// And a fresh writer whose cached view is behind hits the server check.
	nc2, _ := eventstore.ConnectRemote(eventstore.RemoteConfig{URLs: cluster.URL(), Name: "second"})
	defer nc2.Close()
	// The killed node may have led the meta group too; stream management
	// waits for its successor.
	var other *eventstore.JetStream
	if err := retry(ctx, func() error {
		var err error
		other, err = eventstore.OpenJetStream(ctx, nc2, eventstore.Config{Replicas: 3, Signer: store.Signer(), Trust: store.Keyring()})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Load(ctx, domain.AggregateRef{Type: domain.AggregateTask, ID: "w1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, domain.AggregateRef{Type: domain.AggregateTask, ID: "w1"}, each, domain.Meta{Actor: "office:t", CommandID: "first", Source: "test"}, p); err != nil {
		t.Fatal(err)
	}
	_, err = other.Append(ctx, domain.AggregateRef{Type: domain.AggregateTask, ID: "w1"}, each, domain.Meta{Actor: "office:t", CommandID: "second", Source: "test"}, p)
	if e, ok := domain.AsError(err); !ok || e.Code != domain.ECONFLICT || e.Version != each+1 {
		t.Fatalf("second writer on a stale cache: want conflict at %d, got %v", each+1, err)
	}
}

func retry(ctx context.Context, fn func() error) error {
	var err error
	for i := 0; i < 100; i++ {
		if err = fn(); err == nil || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}
