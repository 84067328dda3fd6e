package projections

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestReadGateAdmitsInArrivalOrder(t *testing.T) {
	g := newReadGate(1)
	_, leave := g.enter(context.Background())
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, leave := g.enter(context.Background())
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			leave()
		}()
		// Each waiter is queued before the next arrives: a goroutine
		// reaches the channel within microseconds; 30 ms is slack for a
		// loaded machine under -race.
		time.Sleep(30 * time.Millisecond)
	}
	leave()
	wg.Wait()
	for i, got := range order {
		if got != i {
			t.Fatalf("admitted in order %v, want 0..5 as they arrived", order)
		}
	}
}

func TestReadGateBoundsConcurrencyAndNests(t *testing.T) {
	g := newReadGate(2)
	var running, most atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, leave := g.enter(context.Background())
			defer leave()
			// A read inside a read passes without a second slot; were it
			// to queue, two holders doing so would wait on each other.
			_, inner := g.enter(ctx)
			n := running.Add(1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(2 * time.Millisecond)
			running.Add(-1)
			inner()
		}()
	}
	wg.Wait()
	if got := most.Load(); got != 2 {
		t.Fatalf("at most %d reads ran at once, want 2 (the gate's slots)", got)
	}
	if len(g.slots) != 0 {
		t.Fatalf("%d slots still taken after every read left", len(g.slots))
	}
}

func TestReadGateLetsACancelledWaiterGo(t *testing.T) {
	g := newReadGate(1)
	_, leave := g.enter(context.Background())
	defer leave()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	got, done := g.enter(ctx)
	done()
	if !errors.Is(got.Err(), context.DeadlineExceeded) {
		t.Fatalf("a waiter whose context ended came back with %v, want its deadline", got.Err())
	}
	if len(g.slots) != 1 {
		t.Fatalf("the cancelled waiter changed the slots taken to %d", len(g.slots))
	}
}
