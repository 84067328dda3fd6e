package bench

// The inner loops under the measurements, for `go test -bench`:
//
//	go test ./bench -run '^$' -bench . -benchmem

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"kpitrail/app"
	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/projections"
)

func BenchmarkDecimalParse(b *testing.B) {
	for b.Loop() {
		if _, err := domain.ParseDecimal("191.8075"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompletion(b *testing.B) {
	in := domain.CompletionInput{Direction: domain.HigherIsBetter, Actual: domain.MustDecimal("607"), Target: domain.MustDecimal("719")}
	for b.Loop() {
		c, err := domain.ComputeCompletion(in)
		if err != nil || c.Ratio == nil {
			b.Fatal(err)
		}
		domain.FormatPercent(c.Ratio, 1, domain.HalfUp)
	}
}

// sealedEvent is one stored figure report, as the store seals it.
func sealedEvent(b *testing.B) domain.Envelope {
	mem := eventstore.NewMemory(nil)
	svc := app.NewService(mem)
	ids, err := appendSetup(context.Background(), svc, "inner", 1)
	if err != nil {
		b.Fatal(err)
	}
	r, err := svc.Execute(context.Background(), figureMeta("inner", 0), figureCommand(ids[0], 0), app.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return r.Events[0]
}

// BenchmarkHashChain seals one event on its predecessor: what every append
// and every check of the chain computes.
func BenchmarkHashChain(b *testing.B) {
	e := sealedEvent(b)
	prev := e.PrevHash
	for b.Loop() {
		if err := e.Seal(prev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChainVerify checks one message of one event against its head.
func BenchmarkChainVerify(b *testing.B) {
	e := sealedEvent(b)
	v := domain.NewChainVerifier()
	for b.Loop() {
		v.Seed(e.Ref(), e.AggregateVersion-1, e.PrevHash)
		if brk := v.Inspect([]domain.Envelope{e}); brk != nil {
			b.Fatal(brk)
		}
	}
}

// BenchmarkProjectBatch rebuilds read models from an in-memory log of
// about 2,000 events (one year of a small workload): the projector's
// apply and derive, without NATS. Reported per event.
func BenchmarkProjectBatch(b *testing.B) {
	benchRebuild(b, Workload{FirstYear: 2016, Years: 1, Tasks: 9, IndicatorsPerTask: 5})
}

// BenchmarkRebuildYear rebuilds the read models of one year of 130 tasks
// (about 29,000 events) from an in-memory log: the projector's whole build
// (apply, indexes, derive) without NATS, at a size where per-batch costs,
// not the file's fixed ones, dominate. With -cpuprofile it shows where a
// rebuild's CPU goes:
//
//	go test ./bench -run '^$' -bench RebuildYear -cpuprofile cpu.out
func BenchmarkRebuildYear(b *testing.B) {
	benchRebuild(b, Workload{FirstYear: 2016, Years: 1, Tasks: 130, IndicatorsPerTask: 5})
}

// benchRebuild generates w into an in-memory log once and rebuilds a
// fresh file from it on every iteration.
func benchRebuild(b *testing.B, w Workload) {
	clock := &simClock{}
	mem := eventstore.NewMemory(clock.now)
	events, err := generate(context.Background(), app.NewService(mem), clock, w, nil)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	n := 0
	for b.Loop() {
		path := filepath.Join(dir, fmt.Sprintf("rm-%d.db", n))
		if err := projections.Rebuild(context.Background(), mem, path, projections.RebuildOptions{}); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n*events)/b.Elapsed().Seconds(), "events/s")
}
