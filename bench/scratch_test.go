package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"kpitrail/projections"
)

func TestScratchQueries(t *testing.T) {
	ctx := context.Background()
	db, err := projections.Open("/tmp/scratchq/rm.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := Workload{FirstYear: 2016, Years: 2, Tasks: 448, IndicatorsPerTask: 5}
	q := query{"board-year", "", func(ctx context.Context, db *projections.DB, rng *rand.Rand) (int, error) {
		ts, err := db.ListTasks(ctx, projections.TaskFilter{Year: w.FirstYear + rng.IntN(w.Years)})
		return len(ts), err
	}}
	a := query{"audit", "", func(ctx context.Context, db *projections.DB, rng *rand.Rand) (int, error) {
		cs, err := db.AuditTrail(ctx, indicatorID(w.FirstYear+rng.IntN(w.Years), rng.IntN(w.Tasks), rng.IntN(w.IndicatorsPerTask)))
		return len(cs), err
	}}
	plain := func(ctx context.Context, fn func(*projections.DB) error) error { return fn(db) }
	for _, n := range []int{8, 2} {
		db.Reader().SetMaxOpenConns(n)
		for _, qq := range []query{q, a} {
			res, err := timeQuery(ctx, qq, plain, 8, 40)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Println("conns", n, qq.name, res.Line())
		}
	}
}
