package projections

import (
	"context"
	"errors"
	"slices"
	"sync"
)

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// answers keeps the latest answers of the hottest queries, the task board
// (with its problem totals) and an indicator's audit trail, until the file
// changes: on a quiet
// log every request after the first is a copy instead of a query. Only a
// DB whose runner writes the file in this process caches (NewRunner turns
// it on), because only then does it see every change: each commit moves
// the generation, and an answer read under an older generation is never
// served. Another process writing the same file breaks the rule of one
// Runner per file anyway.
type answers struct {
	mu     sync.Mutex
	gen    uint64
	on     bool
	tasks  map[TaskFilter][]Task
	trail  map[string][]FigureChange
	totals map[int]map[string]ProblemTotal
	// running collapses identical queries in flight: clients that ask for
	// the board a commit just invalidated wait for one query instead of
	// running eight.
	running map[any]*flight
}

type flight struct {
	done chan struct{}
	gen  uint64
	val  any
	err  error
}

// once runs q for key, or waits for the same query already running under
// the current generation, and returns its answer (shared: the caller
// copies it).
func (a *answers) once(ctx context.Context, key any, gen uint64, q func() (any, error)) (any, error) {
	a.mu.Lock()
	if f, ok := a.running[key]; ok && f.gen == gen {
		a.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if f.err == nil || ctx.Err() != nil || !isContextErr(f.err) {
			return f.val, f.err
		}
		// The query ran on its first asker's context, which ended; this
		// caller's has not.
		return q()
	}
	f := &flight{done: make(chan struct{}), gen: gen}
	if a.running == nil {
		a.running = map[any]*flight{}
	}
	a.running[key] = f
	a.mu.Unlock()
	f.val, f.err = q()
	a.mu.Lock()
	if a.running[key] == f {
		delete(a.running, key)
	}
	a.mu.Unlock()
	close(f.done)
	return f.val, f.err
}

// maxAnswers bounds each map; past it the map starts over.
const maxAnswers = 256

func (a *answers) enable() {
	a.mu.Lock()
	a.on = true
	a.mu.Unlock()
}

// changed records a commit to the file: every answer is stale.
func (a *answers) changed() {
	a.mu.Lock()
	a.gen++
	a.tasks, a.trail, a.totals = nil, nil, nil
	a.mu.Unlock()
}

// generation is read before a query; the answer is kept only if no commit
// happened since.
func (a *answers) generation() (uint64, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.gen, a.on
}

func (a *answers) board(f TaskFilter) ([]Task, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ts, ok := a.tasks[f]
	return ts, ok
}

func (a *answers) keepBoard(gen uint64, f TaskFilter, ts []Task) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.on || gen != a.gen {
		return
	}
	if a.tasks == nil || len(a.tasks) >= maxAnswers {
		a.tasks = map[TaskFilter][]Task{}
	}
	a.tasks[f] = ts
}

func (a *answers) auditTrail(id string) ([]FigureChange, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	cs, ok := a.trail[id]
	if !ok {
		return nil, false
	}
	return slices.Clone(cs), true
}

func (a *answers) keepAuditTrail(gen uint64, id string, cs []FigureChange) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.on || gen != a.gen {
		return
	}
	if a.trail == nil || len(a.trail) >= maxAnswers {
		a.trail = map[string][]FigureChange{}
	}
	a.trail[id] = slices.Clone(cs)
}

// cloneTasks copies a shared board for ListTasks: the tasks are copied,
// their slices (co-departments, narrative, milestones) shared, clipped to
// their length when the board was read (clipTasks), so a caller appending
// to one gets a new array. A deep copy of a board of every year was 13,000
// allocations per request.
func cloneTasks(ts []Task) []Task { return slices.Clone(ts) }

// clipTasks clips every slice of ts in place.
func clipTasks(ts []Task) {
	for i := range ts {
		ts[i].CoDepartments = slices.Clip(ts[i].CoDepartments)
		ts[i].Narrative = slices.Clip(ts[i].Narrative)
		ts[i].Milestones = slices.Clip(ts[i].Milestones)
	}
}

// problemTotals returns the kept totals of a year; the map is shared and
// read only.
func (a *answers) problemTotals(year int) (map[string]ProblemTotal, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.totals[year]
	return t, ok
}

func (a *answers) keepProblemTotals(gen uint64, year int, t map[string]ProblemTotal) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.on || gen != a.gen {
		return
	}
	if a.totals == nil || len(a.totals) >= maxAnswers {
		a.totals = map[int]map[string]ProblemTotal{}
	}
	a.totals[year] = t
}
