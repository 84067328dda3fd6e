package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"kpitrail/projections"
)

const queryClients = 8

type query struct {
	name, what string
	run        func(ctx context.Context, db *projections.DB, rng *rand.Rand) (int, error)
}

// queries times the task board and an indicator's audit trail on the read
// models of the whole loaded log: as serve answers them (a Live read model
// with its runner following the log, 8 concurrent clients), and, for what
// a query itself costs, on a file without a runner (nothing kept between
// queries), one client.
func (r *runner) queries(ctx context.Context, dir string) ([]Result, error) {
	lg, err := r.readModels(ctx)
	if err != nil {
		return nil, err
	}
	w := lg.workload
	qs := benchQueries(w)
	var out []Result
	live, err := projections.OpenLive(ctx, lg.readModels, lg.node.store, projections.RunnerOptions{},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	if err := live.WaitReady(ctx); err != nil {
		live.Close()
		return nil, err
	}
	with := func(ctx context.Context, fn func(*projections.DB) error) error { return live.With(ctx, nil, fn) }
	for _, q := range qs {
		res, err := timeQuery(ctx, q, with, queryClients, r.scale(50, 200))
		if err != nil {
			live.Close()
			return out, err
		}
		res.What = fmt.Sprintf("%s at %d events, %d clients, as serve answers it", q.what, lg.events, queryClients)
		res.Target, res.Met = "p50 and p99 ≤ 20 ms", met(res.P99 <= 20)
		out = append(out, res)
	}
	if err := live.Close(); err != nil {
		return out, err
	}

	db, err := projections.Open(lg.readModels)
	if err != nil {
		return out, err
	}
	defer db.Close()
	plain := func(ctx context.Context, fn func(*projections.DB) error) error { return fn(db) }
	for _, q := range qs {
		for _, clients := range []int{1, queryClients} {
			res, err := timeQuery(ctx, q, plain, clients, r.scale(20, 50))
			if err != nil {
				return out, err
			}
			res.What = fmt.Sprintf("%s at %d events, %d client(s), every query run (no runner, nothing kept)", q.what, lg.events, clients)
			out = append(out, res)
		}
	}
	return out, nil
}

func timeQuery(ctx context.Context, q query, with func(context.Context, func(*projections.DB) error) error, clients, perClient int) (Result, error) {
	run := func(rng *rand.Rand) (n int, err error) {
		err = with(ctx, func(db *projections.DB) error {
			n, err = q.run(ctx, db, rng)
			return err
		})
		return n, err
	}
	// Warm the reader pool: its connections open on first use.
	var warm sync.WaitGroup
	for c := range clients {
		warm.Add(1)
		go func() {
			defer warm.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			run(rng)
		}()
	}
	warm.Wait()
	lat := &latencies{}
	var wg sync.WaitGroup
	errs := make([]error, clients)
	rows := make([]int, clients)
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 42))
			for range perClient {
				t := time.Now()
				n, err := run(rng)
				lat.add(time.Since(t))
				if err != nil {
					errs[c] = err
					return
				}
				rows[c] += n
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	for _, err := range errs {
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", q.name, err)
		}
	}
	total := 0
	for _, n := range rows {
		total += n
	}
	return Result{Name: "queries", Value: float64(clients*perClient) / el.Seconds(), Unit: "queries/s",
		P50: msf(lat.percentile(50)), P99: msf(lat.percentile(99)),
		Notes: []string{fmt.Sprintf("%.0f rows per query", float64(total)/float64(clients*perClient))}}, nil
}

// benchQueries are the measured queries on workload w.
func benchQueries(w Workload) []query {
	return []query{
		{"board-year", "TaskBoard of one year (ListTasks as the API reads it)", func(ctx context.Context, db *projections.DB, rng *rand.Rand) (int, error) {
			ts, err := db.TaskBoard(ctx, projections.TaskFilter{Year: w.FirstYear + rng.IntN(w.Years)})
			return len(ts), err
		}},
		{"board-all", "TaskBoard with no filter (every year)", func(ctx context.Context, db *projections.DB, rng *rand.Rand) (int, error) {
			ts, err := db.TaskBoard(ctx, projections.TaskFilter{})
			return len(ts), err
		}},
		{"audit", "AuditTrail of one indicator", func(ctx context.Context, db *projections.DB, rng *rand.Rand) (int, error) {
			id := indicatorID(w.FirstYear+rng.IntN(w.Years), rng.IntN(w.Tasks), rng.IntN(w.IndicatorsPerTask))
			cs, err := db.AuditTrail(ctx, id)
			if err == nil && len(cs) == 0 {
				err = fmt.Errorf("indicator %s has no audit trail", id)
			}
			return len(cs), err
		}},
	}
}
