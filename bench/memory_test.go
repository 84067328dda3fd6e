package bench

import (
	"context"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"kpitrail/app"
	"kpitrail/eventstore"
	"kpitrail/internal/natstest"
	"kpitrail/projections"
)

// TestRebuildStaysWithinItsMemoryBudget rebuilds a generated log from a
// nats-server in a process of its own, so the test's heap is the
// rebuild's alone, with a small memory budget and a soft memory limit of
// the heap before it plus that budget (as `kpitrail rebuild` sets one).
// The live heap, sampled every millisecond, must stay under the limit, and
// the file must hold what a rebuild with a budget too large to bind builds.
func TestRebuildStaysWithinItsMemoryBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a log of about 3,500 events on a nats-server process")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	proc := natstest.RunProcess(t)
	clock := &simClock{}
	store, err := eventstore.OpenJetStream(ctx, proc.Connect(t), eventstore.Config{Clock: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	events, err := generate(ctx, app.NewService(store), clock, Workload{FirstYear: 2016, Years: 1, Tasks: 16, IndicatorsPerTask: 5}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	unbounded, bounded := filepath.Join(dir, "unbounded.db"), filepath.Join(dir, "bounded.db")
	const budget = 12 << 20
	// The same soft limit for both builds: the unbounded one shows the
	// budget is what keeps the heap down, not the limit.
	peakOf := func(path string, opts projections.RebuildOptions) (base, peak int64) {
		t.Helper()
		runtime.GC()
		base = liveHeap()
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(base + budget))
		stop := watchHeap(time.Millisecond)
		if err := projections.Rebuild(ctx, store, path, opts); err != nil {
			t.Fatal(err)
		}
		return base, stop()
	}
	uBase, uPeak := peakOf(unbounded, projections.RebuildOptions{MemoryBudget: 1 << 40})
	base, peak := peakOf(bounded, projections.RebuildOptions{MemoryBudget: budget})
	t.Logf("%d events: heap before %s, peak %s with a budget of %s; without a binding budget %s before, peak %s",
		events, mib(base), mib(peak), mib(budget), mib(uBase), mib(uPeak))
	if peak > base+budget {
		t.Errorf("the rebuild's heap peaked at %s, over the %s before it plus its budget of %s", mib(peak), mib(base), mib(budget))
	}
	if uPeak <= uBase+budget {
		t.Errorf("without a binding budget the heap peaked at %s, within %s + %s: the log is too small to test the budget",
			mib(uPeak), mib(uBase), mib(budget))
	}
	if err := sameReadModels(ctx, unbounded, bounded); err != nil {
		t.Fatal(err)
	}
}

// liveHeap is the heap the last collection found live: garbage not yet
// collected is not the build's state, however long it waits.
func liveHeap() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// watchHeap samples the heap's objects every interval until the returned
// function is called, which returns the largest sample.
func watchHeap(interval time.Duration) func() int64 {
	stop, done := make(chan struct{}), make(chan int64)
	go func() {
		var peak int64
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			peak = max(peak, liveHeap())
			select {
			case <-stop:
				done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 { close(stop); return <-done }
}
