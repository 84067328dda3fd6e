package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"kpitrail/app"
	"kpitrail/domain"
)

// Workload is a synthetic but domain-valid history: per year, tasks with
// indicators; per month, every indicator's year-to-date figure reported as
// an estimate, then provisional, then final; a quarter of the indicators
// get last month's final figure corrected; every task records a narrative
// and, each quarter, rectification progress. Indicator keys repeat across
// years, so every year after the first is compared with the one before.
//
// A year of Tasks=450, IndicatorsPerTask=5 is about 100,000 events.
type Workload struct {
	FirstYear         int
	Years             int
	Tasks             int // per year
	IndicatorsPerTask int
}

// eventsPerYear estimates the events one year produces.
func (w Workload) eventsPerYear() int {
	perIndicator := 2 + 12*3 + 3 // define, target, 36 reports, ~3 corrections
	perTask := 1 + 1 + 12 + 4
	return w.Tasks * (perTask + w.IndicatorsPerTask*perIndicator)
}

// workloadFor sizes a workload to about events events per year.
func workloadFor(years, eventsPerYear int) Workload {
	w := Workload{FirstYear: 2016, Years: years, IndicatorsPerTask: 5}
	w.Tasks = max(1, eventsPerYear/Workload{Tasks: 1, IndicatorsPerTask: 5}.eventsPerYear())
	return w
}

// simClock is the record time of a generated history: a step sets the day,
// and every call moves on by a millisecond so record times are distinct and
// ordered.
type simClock struct{ ns atomic.Int64 }

func (c *simClock) set(t time.Time) { c.ns.Store(t.UnixNano()) }
func (c *simClock) now() time.Time  { return time.Unix(0, c.ns.Add(int64(time.Millisecond))).UTC() }

// step is one day of the history: the commands recorded that day.
type step struct {
	day  time.Time
	reqs []app.Request
	// finals collects, per indicator, the position in reqs of the final
	// report, so the next month can correct it.
	finals map[string]int
}

// generator walks the workload step by step; it needs the results of a
// step to write the next (a correction names the event it corrects).
type generator struct {
	w      Workload
	seq    int
	finals map[string]string // indicator id -> event id of last month's final figure
}

func newGenerator(w Workload) *generator {
	return &generator{w: w, finals: map[string]string{}}
}

func (g *generator) req(cmd domain.Command) app.Request {
	g.seq++
	return app.Request{Command: cmd, Meta: domain.Meta{Actor: "bench:loader", CommandID: fmt.Sprintf("gen-%d", g.seq),
		Source: "bench"}}
}

func taskID(year, t int) string         { return fmt.Sprintf("t%d-%04d", year, t) }
func indicatorID(year, t, j int) string { return fmt.Sprintf("i%d-%04d-%d", year, t, j) }

var dimensions = []string{"高效率 落实", "高标准 推进", "高质量 发展", "高水平 保障"}

// days returns the steps of one year: day 0 sets the year up, then one day
// per month reports it (early in the next month).
func (g *generator) steps(year int) []time.Time {
	out := []time.Time{time.Date(year, 1, 5, 2, 0, 0, 0, time.UTC)}
	for m := 1; m <= 12; m++ {
		out = append(out, time.Date(year, time.Month(m)+1, 6, 2, 0, 0, 0, time.UTC))
	}
	return out
}

// build returns the commands of step s (0 = set-up, 1..12 = month) of year.
func (g *generator) build(year, s int, day time.Time) step {
	st := step{day: day, finals: map[string]int{}}
	w := g.w
	if s == 0 {
		for t := range w.Tasks {
			tid := taskID(year, t)
			st.reqs = append(st.reqs, g.req(domain.RegisterTask{TaskID: tid, Year: year, Dimension: dimensions[t%len(dimensions)],
				Title: fmt.Sprintf("专项任务 %d-%d：推进重点工作落实", year, t), LeadDepartment: fmt.Sprintf("区委办局%02d", t%40),
				CoDepartments: []string{"区发改委", "区财政局"}, Deadline: domain.Date(fmt.Sprintf("%d-12-31", year))}))
			st.reqs = append(st.reqs, g.req(domain.RecordProblem{TaskID: tid, ProblemID: "p1",
				Description: "部分项目涉及历史遗留问题，协调难度大", TotalItems: 20}))
			for j := range w.IndicatorsPerTask {
				iid := indicatorID(year, t, j)
				def := domain.DefineIndicator{IndicatorID: iid, TaskID: tid, Key: fmt.Sprintf("k%04d-%d", t, j),
					Name: fmt.Sprintf("指标 %d-%d", t, j), Unit: "家", Direction: domain.HigherIsBetter, Additive: j%2 == 0}
				if j == 3 {
					def.Direction, def.Formula, def.Unit = domain.LowerIsBetter, domain.FormulaCap, "起"
				}
				st.reqs = append(st.reqs, g.req(def))
				st.reqs = append(st.reqs, g.req(domain.SetTarget{IndicatorID: iid, Value: decimal(fmt.Sprintf("%d", 100+t%50+j))}))
			}
		}
		return st
	}
	m := s
	for t := range w.Tasks {
		tid := taskID(year, t)
		for j := range w.IndicatorsPerTask {
			iid := indicatorID(year, t, j)
			win := domain.Window{Year: year, FromMonth: 1, ToMonth: m}
			base := (100 + t%50 + j) * m / 12
			for k, q := range []domain.Quality{domain.QualityEstimate, domain.QualityProvisional, domain.QualityFinal} {
				v := decimal(fmt.Sprintf("%d", base+2-k))
				src := domain.Source{Kind: domain.SourceSelfReported, Name: "区委办局"}
				if q == domain.QualityFinal {
					src = domain.Source{Kind: domain.SourceStatistics, Name: "区统计局"}
				}
				if q == domain.QualityFinal {
					st.finals[iid] = len(st.reqs)
				}
				st.reqs = append(st.reqs, g.req(domain.ReportFigure{IndicatorID: iid, Window: win, Value: v, Quality: q, Source: src}))
			}
			if prev, ok := g.finals[iid]; ok && (t+j)%4 == 0 {
				st.reqs = append(st.reqs, g.req(domain.CorrectFigure{IndicatorID: iid, Corrects: prev,
					Value: decimal(fmt.Sprintf("%d", base+1)), Reason: "统计局复核修订"}))
			}
		}
		st.reqs = append(st.reqs, g.req(domain.RecordNarrative{TaskID: tid, Items: []string{
			fmt.Sprintf("%d月：按计划推进，已完成阶段性目标，落实“两区”建设政策。", m)}, AsOf: domain.Date(day.Format(time.DateOnly))}))
		if m%3 == 0 {
			st.reqs = append(st.reqs, g.req(domain.ProgressRectification{TaskID: tid, ProblemID: "p1", Rectified: 5 * m / 3,
				Note: fmt.Sprintf("已整改到位%d宗", 5*m/3)}))
		}
	}
	return st
}

// record remembers what the next step needs from this one's outcomes.
func (g *generator) record(st step, out []app.Outcome) error {
	g.finals = map[string]string{}
	for i, o := range out {
		if o.Err != nil {
			return fmt.Errorf("generate: %s: %w", st.reqs[i].Command.CommandName(), o.Err)
		}
	}
	for iid, i := range st.finals {
		g.finals[iid] = out[i].Result.EventIDs[0]
	}
	return nil
}

func decimal(s string) *domain.Decimal { d := domain.MustDecimal(s); return &d }

// generate writes the workload through svc.ExecuteMany (decided in memory,
// appended in atomic batches of up to 1000), setting the store's record
// clock day by day. progress, when set, is told the events written so far.
func generate(ctx context.Context, svc *app.Service, clock *simClock, w Workload, progress func(events int)) (int, error) {
	g := newGenerator(w)
	events := 0
	for y := w.FirstYear; y < w.FirstYear+w.Years; y++ {
		for s, day := range g.steps(y) {
			st := g.build(y, s, day)
			clock.set(st.day)
			out := svc.ExecuteMany(ctx, st.reqs)
			if err := g.record(st, out); err != nil {
				return events, err
			}
			for _, o := range out {
				events += len(o.Result.EventIDs)
			}
			if progress != nil {
				progress(events)
			}
		}
	}
	return events, nil
}
