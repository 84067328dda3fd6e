package console

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"kpitrail/projections"
)

// BenchmarkRenderBoard renders a board of a large district's year (448
// tasks, the bench workload's) without reading anything: what the
// template itself costs.
func BenchmarkRenderBoard(b *testing.B) {
	c := New(Config{})
	r := httptest.NewRequest("GET", "/console/board", nil)
	v := &view{c: c, r: r, Path: "/console/board"}
	p := boardPage{Year: 2025, Statuses: taskStatuses}
	var tasks []projections.Task
	for i := range 448 {
		tasks = append(tasks, projections.Task{ID: fmt.Sprintf("t2025-%04d", i), Year: 2025, Dimension: "高质量 发展",
			Title: fmt.Sprintf("专项任务 2025-%d：推进重点工作落实", i), LeadDepartment: "区委办局07", CoDepartments: []string{"区发改委", "区财政局"},
			Deadline: "2025-12-31", Status: "at_risk", DeadlineStatus: "not_due", IndicatorsTotal: 5, IndicatorsMet: 2,
			IndicatorsBehind: 1, IndicatorsNotMet: 1, IndicatorsPending: 1, OpenProblems: 1})
	}
	problems := map[string]projections.ProblemTotal{}
	for _, t := range tasks {
		problems[t.ID] = projections.ProblemTotal{Problems: 1, Total: 20, Rectified: 15}
	}
	p.Rows = boardRows(tasks, problems, "")
	if err := p.paginate(""); err != nil {
		b.Fatal(err)
	}
	p.Lines = boardLines(v, p.Rows, p.First)
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		if err := c.render(w, v, 200, "board", "任务看板", p); err != nil {
			b.Fatal(err)
		}
	}
}
