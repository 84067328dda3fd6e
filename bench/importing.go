package bench

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"time"

	"kpitrail/app"
	"kpitrail/domain"
	"kpitrail/importer"
)

// figureSheet writes a CSV figure sheet of about figures rows, grouped by
// indicator as a unit keeps it: per indicator, the year-to-date windows
// and the single months, each reported as an estimate and then final.
// Tasks are referred to, not created: the caller registers them.
func figureSheet(prefix string, figures int) (sheet []byte, tasks []string) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"indicator_id", "task_id", "name", "unit", "direction", "target", "window_year", "from_month",
		"to_month", "value", "quality", "source_kind", "source_name", "note"})
	const perIndicator = 40
	indicators := max(1, figures/perIndicator)
	for i := range indicators {
		tid := fmt.Sprintf("%s-t%d", prefix, i/5)
		if i%5 == 0 {
			tasks = append(tasks, tid)
		}
		id := fmt.Sprintf("%s-i%d", prefix, i)
		first := true
		row := func(from, to int, q domain.Quality, v int) {
			rec := []string{id, "", "", "", "", "", "2024", strconv.Itoa(from), strconv.Itoa(to), strconv.Itoa(v), string(q), "", "", ""}
			if first {
				rec[1], rec[2], rec[3], rec[4], rec[5] = tid, fmt.Sprintf("高新技术企业保有量 %d", i), "家", "higher", "719"
				first = false
			}
			if q == domain.QualityFinal {
				rec[11], rec[12] = "statistics_bureau", "区统计局"
			} else {
				rec[13] = "月度预计数"
			}
			w.Write(rec)
		}
		for m := 1; m <= 12; m++ {
			row(1, m, domain.QualityEstimate, 50*m+1)
			row(1, m, domain.QualityFinal, 50*m)
		}
		for m := 2; m <= 9; m++ { // 1..1 is the first year-to-date window
			row(m, m, domain.QualityEstimate, 51)
			row(m, m, domain.QualityFinal, 50)
		}
	}
	w.Flush()
	return b.Bytes(), tasks
}

func registerTasks(ctx context.Context, svc *app.Service, tasks []string) error {
	reqs := make([]app.Request, len(tasks))
	for i, id := range tasks {
		reqs[i] = app.Request{Command: domain.RegisterTask{TaskID: id, Year: 2024, Dimension: "高效率 落实", Title: "填报任务",
			LeadDepartment: "区科委"}, Meta: domain.Meta{Actor: "bench:setup", CommandID: "reg-" + id, Source: "bench"}}
	}
	for i, o := range svc.ExecuteMany(ctx, reqs) {
		if o.Err != nil {
			return fmt.Errorf("register %s: %w", tasks[i], o.Err)
		}
	}
	return nil
}

// oneByOne hides ExecuteMany, so importer.Apply runs the plan one command
// at a time: the path before bulk imports, kept as a comparison.
type oneByOne struct{ importer.Executor }

func (r *runner) importDurable(ctx context.Context, dir string) ([]Result, error) {
	n, err := startNode(ctx, dir, false, nil)
	if err != nil {
		return nil, err
	}
	defer n.close()
	svc := app.NewService(n.store)
	figures := r.scale(10_000, 100_000)

	// The one-by-one path, on a smaller sheet, for comparison.
	small, smallTasks := figureSheet("one", r.scale(1000, 4000))
	if err := registerTasks(ctx, svc, smallTasks); err != nil {
		return nil, err
	}
	smallPlan, err := importer.PlanFigures(bytes.NewReader(small), importer.CSV)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	rep, err := importer.Apply(ctx, oneByOne{svc}, smallPlan, "bench-one", domain.Attribution{Actor: "bench:importer"})
	if err != nil {
		return nil, err
	}
	oneRate := float64(appliedEvents(rep)) / time.Since(start).Seconds()

	sheet, tasks := figureSheet("bulk", figures)
	if err := registerTasks(ctx, svc, tasks); err != nil {
		return nil, err
	}
	planStart := time.Now()
	plan, err := importer.PlanFigures(bytes.NewReader(sheet), importer.CSV)
	if err != nil {
		return nil, err
	}
	planTime := time.Since(planStart)
	start = time.Now()
	rep, err = importer.Apply(ctx, svc, plan, "bench-bulk", domain.Attribution{Actor: "bench:importer"})
	if err != nil {
		return nil, err
	}
	el := time.Since(start)
	if rep.Applied != len(plan.Commands) {
		return nil, fmt.Errorf("bulk import applied %d of %d commands", rep.Applied, len(plan.Commands))
	}
	events := appliedEvents(rep)
	rate := float64(events) / el.Seconds()

	// The same sheet again: nothing is appended, everything is recognised.
	start = time.Now()
	again, err := importer.Apply(ctx, svc, plan, "bench-bulk-again", domain.Attribution{Actor: "bench:importer"})
	if err != nil {
		return nil, err
	}
	if again.AlreadyPresent != len(plan.Commands) {
		return nil, fmt.Errorf("re-import: %d of %d already present", again.AlreadyPresent, len(plan.Commands))
	}
	againTime := time.Since(start)

	// The floor: the server's own atomic batches of 1000, no checks.
	body, err := sampleMessage(ctx, n)
	if err != nil {
		return nil, err
	}
	batchRate, err := rawAtomicBatches(ctx, n, body, 1000, r.scale(5, 20), 0)
	if err != nil {
		return nil, fmt.Errorf("raw atomic batch: %w", err)
	}
	return []Result{
		{Name: "import-durable", What: fmt.Sprintf("%d figures (%d events in %d commands, an indicator's figures grouped) through importer.Apply (slices over ExecuteMany), sync before ack", plan.Summary.Figures, events, len(plan.Commands)),
			Value: rate, Unit: "events/s", Raw: batchRate, RawWhat: "atomic batches of 1000 messages, no checks",
			Ratio: rate / batchRate, Target: "≥ 30,000 events/s", Met: met(rate >= 30_000),
			Notes: []string{fmt.Sprintf("importer.Apply one command at a time: %s events/s (%d commands), so %.1f× faster", num(oneRate), len(smallPlan.Commands), rate/oneRate),
				fmt.Sprintf("import took %.1f s; planning the sheet %.1f s more", el.Seconds(), planTime.Seconds()),
				fmt.Sprintf("re-import of the same sheet: %.1f s, all already present", againTime.Seconds())}},
	}, nil
}

// appliedEvents counts the events an import stored.
func appliedEvents(rep *importer.ApplyReport) int {
	n := 0
	for _, r := range rep.Results {
		if r.Outcome == importer.OutcomeApplied {
			n += len(r.EventIDs)
		}
	}
	return n
}
