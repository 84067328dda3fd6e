package console

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"time"

	"kpitrail/domain"
	"kpitrail/projections"
)

// Work queues: what needs someone's hand, grouped by the department that
// leads it. Each queue is a queueSource over the read models: the figure
// lifecycle's (what awaits my review, warnings to explain, reports late
// or missing by period; queues_lifecycle.go) first, then the tasks'.

type queuesPage struct {
	Year     int
	Years    []int
	Sections []queueSection
}

type queueSection struct {
	ID     string
	Title  string
	Note   string
	Groups []queueGroup
	Count  int
}

type queueGroup struct {
	Department string
	Items      []queueItem
}

type queueItem struct {
	Title  string
	Link   string
	Detail string
	Tone   string
	// Actions are the forms the principal may post about the item (the
	// matrix decides which; an as-of page has none).
	Actions []queueAction
}

// queueInput is what every source reads from: the year's tasks (by id),
// indicators and problems, read once per page.
type queueInput struct {
	ctx        context.Context
	v          *view
	today      string
	tasks      map[string]projections.Task
	board      []projections.Task
	indicators []projections.Indicator
	problems   []projections.Problem
	lifecycle
}

type queueSource func(in queueInput) queueSection

// queueSources are the queues, in the order the page shows them.
var queueSources = []queueSource{reviewQueue, openWarnings, lateReports, overdueTasks, missingFigures, awaitingFinal, openProblems}

func (c *Console) queues(w http.ResponseWriter, r *http.Request, v *view) error {
	var p queuesPage
	in := queueInput{ctx: r.Context(), v: v, tasks: map[string]projections.Task{}}
	now := time.Now()
	if v.AsOf != nil {
		now = *v.AsOf
	}
	in.today = now.In(c.cfg.Location).Format(time.DateOnly)
	err := v.read(func(ctx context.Context, db *projections.DB) error {
		all, err := db.TaskBoard(ctx, projections.TaskFilter{})
		if err != nil {
			return err
		}
		var b boardPage
		b.facets(v.visible(all))
		p.Years = b.Years
		if p.Year, err = boardYear(r.URL.Query().Get("year"), p.Years); err != nil {
			return err
		}
		// A reporter's queues are its departments' work alone (the API's
		// read scope), as its board is.
		if in.board, err = db.TaskBoard(ctx, projections.TaskFilter{Year: p.Year}); err != nil {
			return err
		}
		in.board = v.visible(in.board)
		for _, t := range in.board {
			in.tasks[t.ID] = t
		}
		vis := v.visibility()
		indicators, err := db.ListIndicators(ctx, projections.IndicatorFilter{Year: p.Year})
		if err != nil {
			return err
		}
		for _, x := range indicators {
			if ok, err := vis.Task(ctx, db, x.TaskID); err != nil {
				return err
			} else if ok {
				in.indicators = append(in.indicators, x)
			}
		}
		problems, err := db.ListProblems(ctx, projections.ProblemFilter{Year: p.Year})
		if err != nil {
			return err
		}
		for _, x := range problems {
			if ok, err := vis.Task(ctx, db, x.TaskID); err != nil {
				return err
			} else if ok {
				in.problems = append(in.problems, x)
			}
		}
		in.lifecycle, err = readLifecycle(ctx, db, v, p.Year, in.today)
		return err
	})
	if err != nil {
		return err
	}
	for _, src := range queueSources {
		s := src(in)
		for _, g := range s.Groups {
			s.Count += len(g.Items)
		}
		p.Sections = append(p.Sections, s)
	}
	v.Notice = notice(r)
	return c.render(w, v, http.StatusOK, "queues", "工作队列", p)
}

// grouped collects items under their task's lead department.
type grouped map[string][]queueItem

func (g grouped) add(dep string, it queueItem) { g[dep] = append(g[dep], it) }

func (g grouped) groups() []queueGroup {
	var out []queueGroup
	for dep, items := range g {
		out = append(out, queueGroup{Department: dep, Items: items})
	}
	slices.SortFunc(out, func(a, b queueGroup) int { return cmp.Compare(a.Department, b.Department) })
	return out
}

func overdueTasks(in queueInput) queueSection {
	g := grouped{}
	for _, t := range in.board {
		if t.Status != projections.TaskOverdue && t.Status != projections.TaskDueSoon {
			continue
		}
		g.add(t.LeadDepartment, queueItem{Title: t.Title, Link: in.v.Link("/console/tasks/" + t.ID),
			Detail: "截止 " + t.Deadline + "，" + taskStatusLabel(t.Status), Tone: statusTone(t.Status)})
	}
	return queueSection{ID: "overdue", Title: "逾期和即将到期的任务", Note: "按牵头单位；截止日期的判断日为 " + in.today + "。", Groups: g.groups()}
}

func missingFigures(in queueInput) queueSection {
	g := grouped{}
	for _, x := range in.indicators {
		if x.Lifecycle != "active" || x.Status != string(domain.StatusPending) || x.Direction == string(domain.Qualitative) {
			continue
		}
		t := in.tasks[x.TaskID]
		g.add(t.LeadDepartment, queueItem{Title: x.Name, Link: in.v.Link("/console/indicators/" + x.ID),
			Detail: t.Title + "：尚无数据", Tone: "warn"})
	}
	return queueSection{ID: "missing", Title: "待报数的指标", Note: "已设指标、尚未报送任何数据。", Groups: g.groups()}
}

func awaitingFinal(in queueInput) queueSection {
	g := grouped{}
	for _, x := range in.indicators {
		if x.Lifecycle != "active" || x.Quality == "" || domain.Quality(x.Quality).Rank() >= domain.QualityFinal.Rank() {
			continue
		}
		t := in.tasks[x.TaskID]
		detail := windowLabel(x.ValueWindow) + " " + x.Value + x.Unit + "（" + qualityLabel(x.Quality) + "）"
		tone := "warn"
		switch {
		case x.FinalDue != "" && x.FinalDue < in.today:
			detail += "，最终数据应于 " + x.FinalDue + " 前提供，已逾期"
			tone = "bad"
		case x.FinalDue != "":
			detail += "，最终数据预计 " + x.FinalDue
		default:
			if x.SourceName != "" {
				detail += "，待" + x.SourceName + "提供最终数据"
			}
		}
		g.add(t.LeadDepartment, queueItem{Title: x.Name, Link: in.v.Link("/console/indicators/" + x.ID), Detail: detail, Tone: tone})
	}
	return queueSection{ID: "final", Title: "待最终数据的指标", Note: "现行数值为预计、约数或初步数据。", Groups: g.groups()}
}

func openProblems(in queueInput) queueSection {
	g := grouped{}
	for _, p := range in.problems {
		if domain.RectState(p.State).Terminal() {
			continue
		}
		t := in.tasks[p.TaskID]
		detail := rectLabel(p.State)
		if p.Total > 0 {
			detail += "，已整改 " + itoa(p.Rectified) + "/" + itoa(p.Total) + "，剩余 " + itoa(p.Remaining)
		}
		g.add(t.LeadDepartment, queueItem{Title: p.Description, Link: in.v.Link("/console/tasks/"+p.TaskID) + "#problems",
			Detail: t.Title + "：" + detail, Tone: statusTone(p.State)})
	}
	return queueSection{ID: "problems", Title: "未销号的问题", Note: "存在问题及原因中尚未整改到位或尚未销号的。", Groups: g.groups()}
}
