package projections

import (
	"context"
	"database/sql"
	"errors"
	"math/big"

	"kpitrail/domain"
)

// unitSubtreeSQL keeps the tasks in a unit's subtree; its argument is
// "/<unit>/" (instr, not LIKE: ids may hold '_').
const unitSubtreeSQL = `EXISTS (SELECT 1 FROM units su WHERE su.id = tasks.unit_id AND instr(su.path, ?) > 0)`

func subtreeArg(unit string) string { return "/" + unit + "/" }

// Unit is one assessed unit of the read models.
type Unit struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Level      string   `json:"level"`
	Parent     string   `json:"parent,omitempty"`
	Path       []string `json:"path"`
	Registered bool     `json:"registered"`
	// Tasks are the tasks of the unit itself (not of its subtree).
	Tasks int `json:"tasks"`
}

func (u Unit) unitPath() domain.UnitPath { return domain.UnitPath(u.Path) }

// UnitNotFound is the answer for a unit the read models do not hold, and
// for one outside the caller's reach.
func UnitNotFound(id string) error { return domain.NotFound("unit %s is not in the read models", id) }

// Units lists the units, ordered by path (a unit before its subtree).
func (db *DB) Units(ctx context.Context) ([]Unit, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	rows, err := db.reader.QueryContext(ctx, `SELECT u.id, u.name, u.level, COALESCE(u.parent_id, ''), u.path, u.registered,
		(SELECT COUNT(*) FROM tasks t WHERE t.unit_id = u.id) FROM units u ORDER BY u.path`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Unit{}
	for rows.Next() {
		var u Unit
		var path string
		if err := rows.Scan(&u.ID, &u.Name, &u.Level, &u.Parent, &path, &u.Registered, &u.Tasks); err != nil {
			return nil, err
		}
		u.Path = parseUnitPath(path)
		out = append(out, u)
	}
	return out, rows.Err()
}

// GetUnit returns one unit.
func (db *DB) GetUnit(ctx context.Context, id string) (Unit, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	var u Unit
	var path string
	err := db.reader.QueryRowContext(ctx, `SELECT u.id, u.name, u.level, COALESCE(u.parent_id, ''), u.path, u.registered,
		(SELECT COUNT(*) FROM tasks t WHERE t.unit_id = u.id) FROM units u WHERE u.id = ?`, id).
		Scan(&u.ID, &u.Name, &u.Level, &u.Parent, &path, &u.Registered, &u.Tasks)
	if errors.Is(err, sql.ErrNoRows) {
		return Unit{}, UnitNotFound(id)
	}
	u.Path = parseUnitPath(path)
	return u, err
}

// TaskReach returns what the read scope asks of a task: the path of its
// unit, and its lead department followed by its co-departments. Neither
// changes once the task is registered (a unit never moves; the default
// unit, placed once, keeps its tasks in its subtree).
func (db *DB) TaskReach(ctx context.Context, taskID string) (domain.UnitPath, []string, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	var lead, co, path string
	err := db.reader.QueryRowContext(ctx, `SELECT lead_department, co_departments,
		COALESCE((SELECT path FROM units WHERE units.id = tasks.unit_id), '/' || unit_id || '/') FROM tasks WHERE id = ?`, taskID).
		Scan(&lead, &co, &path)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, TaskNotFound(taskID)
	}
	if err != nil {
		return nil, nil, err
	}
	var cos []string
	if err := unmarshalText(co, &cos); err != nil {
		return nil, nil, err
	}
	return parseUnitPath(path), append([]string{lead}, cos...), nil
}

// RollupCounts are a unit's (or its subtree's) figures for a roll-up.
type RollupCounts struct {
	Tasks          int            `json:"tasks"`
	TasksCompleted int            `json:"tasks_completed"`
	TaskStatus     map[string]int `json:"task_status"`
	Indicators     int            `json:"indicators"`
	IndicatorsMet  int            `json:"indicators_met"`
	OnTrack        int            `json:"indicators_on_track"`
	Behind         int            `json:"indicators_behind"`
	NotMet         int            `json:"indicators_not_met"`
	Pending        int            `json:"indicators_pending"`
	// CompletionPct is met indicators over indicators, in percent, one
	// place, rounded half up for display ("" without indicators).
	CompletionPct string `json:"completion_pct"`
	// Reports are the reporting periods due by the roll-up's day: reported
	// on time, late, and overdue (due and still missing).
	ReportsDue      int `json:"reports_due"`
	ReportsOnTime   int `json:"reports_on_time"`
	ReportsLate     int `json:"reports_late"`
	ReportsOverdue  int `json:"reports_overdue"`
	Problems        int `json:"problems"`
	ProblemsOpen    int `json:"problems_open"`
	ProblemItems    int `json:"problem_items"`
	ProblemRectTo   int `json:"problem_items_rectified"`
	ProblemItemLeft int `json:"problem_items_remaining"`
}

// UnitRollup is a unit's roll-up: its whole subtree, and one line per
// child unit (and the unit's own level) for the drill-down.
type UnitRollup struct {
	Unit     Unit          `json:"unit"`
	Year     int           `json:"year,omitempty"`
	On       string        `json:"on"`
	Total    RollupCounts  `json:"total"`
	Own      RollupCounts  `json:"own"`
	Children []ChildRollup `json:"children"`
}

// ChildRollup is one child unit's subtree in a roll-up.
type ChildRollup struct {
	Unit Unit `json:"unit"`
	RollupCounts
}

// RollupFilter selects the year and the day reports are judged on; Sees,
// when set, says which tasks the caller may read (others are left out of
// every count).
type RollupFilter struct {
	Year int
	On   domain.Date
	Sees func(taskID string) (bool, error)
}

type rollupTask struct {
	id, unit, lifecycle, status       string
	path                              domain.UnitPath
	total, met, onTrack, behind, nMet int
	pending                           int
}

// Rollup rolls up the subtree of a unit.
func (db *DB) Rollup(ctx context.Context, unitID string, f RollupFilter) (UnitRollup, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	u, err := db.GetUnit(ctx, unitID)
	if err != nil {
		return UnitRollup{}, err
	}
	out := UnitRollup{Unit: u, Year: f.Year, On: string(f.On), Children: []ChildRollup{}}
	where, args := unitSubtreeSQL, []any{subtreeArg(unitID)}
	if f.Year != 0 {
		where, args = where+" AND year = ?", append(args, f.Year)
	}
	rows, err := db.reader.QueryContext(ctx, `SELECT id, unit_id, lifecycle, status, indicators_total, indicators_met,
		indicators_on_track, indicators_behind, indicators_not_met, indicators_pending,
		COALESCE((SELECT path FROM units WHERE units.id = tasks.unit_id), '/' || unit_id || '/') FROM tasks WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return out, err
	}
	var tasks []rollupTask
	for rows.Next() {
		var t rollupTask
		var path string
		if err := rows.Scan(&t.id, &t.unit, &t.lifecycle, &t.status, &t.total, &t.met, &t.onTrack, &t.behind, &t.nMet, &t.pending, &path); err != nil {
			rows.Close()
			return out, err
		}
		t.path = parseUnitPath(path)
		tasks = append(tasks, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, err
	}
	if tasks, err = seenOnly(tasks, f.Sees, func(t rollupTask) string { return t.id }); err != nil {
		return out, err
	}
	// Each task counts in the total, and in the line of the child of the
	// unit its path passes through (or the unit's own line).
	lines := map[string]*RollupCounts{}
	lineOf := map[string]*RollupCounts{}
	own := &out.Own
	for _, t := range tasks {
		line := own
		depth := len(u.Path)
		if len(t.path) > depth {
			child := t.path[depth]
			if lines[child] == nil {
				lines[child] = &RollupCounts{}
			}
			line = lines[child]
		}
		lineOf[t.id] = line
		for _, c := range []*RollupCounts{&out.Total, line} {
			c.addTask(t)
		}
	}
	if err := db.rollupReports(ctx, unitID, f, lineOf, &out.Total); err != nil {
		return out, err
	}
	if err := db.rollupProblems(ctx, unitID, lineOf, &out.Total); err != nil {
		return out, err
	}
	children, err := db.childUnits(ctx, unitID)
	if err != nil {
		return out, err
	}
	for _, c := range children {
		line := lines[c.ID]
		if line == nil {
			line = &RollupCounts{}
		}
		line.finish()
		out.Children = append(out.Children, ChildRollup{Unit: c, RollupCounts: *line})
	}
	out.Total.finish()
	out.Own.finish()
	return out, nil
}

func (c *RollupCounts) addTask(t rollupTask) {
	if c.TaskStatus == nil {
		c.TaskStatus = map[string]int{}
	}
	c.Tasks++
	if t.lifecycle == string(domain.TaskStatusCompleted) {
		c.TasksCompleted++
	}
	c.TaskStatus[t.status]++
	c.Indicators += t.total
	c.IndicatorsMet += t.met
	c.OnTrack += t.onTrack
	c.Behind += t.behind
	c.NotMet += t.nMet
	c.Pending += t.pending
}

func (c *RollupCounts) finish() {
	if c.TaskStatus == nil {
		c.TaskStatus = map[string]int{}
	}
	if c.Indicators > 0 {
		pct := new(big.Rat).SetFrac64(int64(c.IndicatorsMet)*100, int64(c.Indicators))
		c.CompletionPct = domain.RoundRat(pct, 1, domain.HalfUp).String()
	}
}

func (db *DB) rollupReports(ctx context.Context, unitID string, f RollupFilter, lineOf map[string]*RollupCounts, total *RollupCounts) error {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	where, args := unitSubtreeSQL, []any{subtreeArg(unitID)}
	if f.Year != 0 {
		where, args = where+" AND p.year = ?", append(args, f.Year)
	}
	rows, err := db.reader.QueryContext(ctx, `SELECT p.task_id, p.due_date, COALESCE(p.reported_on, '')
		FROM reporting_periods p JOIN indicators i ON i.id = p.indicator_id JOIN tasks ON tasks.id = p.task_id
		WHERE i.lifecycle = 'active' AND `+where, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var task, due, on string
		if err := rows.Scan(&task, &due, &on); err != nil {
			return err
		}
		line, seen := lineOf[task]
		if !seen {
			continue // a task the caller may not read, or of another year
		}
		for _, c := range []*RollupCounts{total, line} {
			switch domain.ClassifyPeriod(domain.Date(due), domain.Date(on), f.On) {
			case domain.PeriodReported:
				c.ReportsDue++
				c.ReportsOnTime++
			case domain.PeriodLate:
				c.ReportsDue++
				c.ReportsLate++
			case domain.PeriodMissing:
				c.ReportsDue++
				c.ReportsOverdue++
			}
		}
	}
	return rows.Err()
}

func (db *DB) rollupProblems(ctx context.Context, unitID string, lineOf map[string]*RollupCounts, total *RollupCounts) error {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	rows, err := db.reader.QueryContext(ctx, `SELECT p.task_id, p.state, p.total, p.rectified, p.remaining
		FROM problems p JOIN tasks ON tasks.id = p.task_id WHERE `+unitSubtreeSQL, subtreeArg(unitID))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var task, state string
		var items, rectified, remaining int
		if err := rows.Scan(&task, &state, &items, &rectified, &remaining); err != nil {
			return err
		}
		line, seen := lineOf[task]
		if !seen {
			continue
		}
		for _, c := range []*RollupCounts{total, line} {
			c.Problems++
			if !domain.RectState(state).Terminal() {
				c.ProblemsOpen++
			}
			c.ProblemItems += items
			c.ProblemRectTo += rectified
			c.ProblemItemLeft += remaining
		}
	}
	return rows.Err()
}

func (db *DB) childUnits(ctx context.Context, parent string) ([]Unit, error) {
	all, err := db.Units(ctx)
	if err != nil {
		return nil, err
	}
	var out []Unit
	for _, u := range all {
		if u.Parent == parent {
			out = append(out, u)
		}
	}
	return out, nil
}

// RankingLine is one unit's standing on an indicator key in a year.
type RankingLine struct {
	Rank          int    `json:"rank"`
	UnitID        string `json:"unit_id"`
	UnitName      string `json:"unit_name"`
	IndicatorID   string `json:"indicator_id"`
	TaskID        string `json:"task_id"`
	Direction     string `json:"direction"`
	Value         string `json:"value,omitempty"`
	Quality       string `json:"quality,omitempty"`
	Target        string `json:"target,omitempty"`
	CompletionPct string `json:"completion_pct,omitempty"`
	Status        string `json:"status"`
}

// Ranking is the units ranked on one indicator key and year.
type Ranking struct {
	Key   string        `json:"key"`
	Year  int           `json:"year"`
	Units []RankingLine `json:"units"`
}

// RankingFilter bounds a ranking to a unit's subtree ("" for all) and the
// tasks the caller may read (Sees, nil for all).
type RankingFilter struct {
	Key  string
	Year int
	Unit string
	Sees func(taskID string) (bool, error)
}

// Rank ranks the units on an indicator key and year by the domain's rule
// (domain.RankUnits). A unit with two active indicators of the key in the
// year is ranked on the first defined.
func (db *DB) Rank(ctx context.Context, f RankingFilter) (Ranking, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	out := Ranking{Key: f.Key, Year: f.Year, Units: []RankingLine{}}
	if f.Key == "" {
		return out, domain.Invalid("key", "required", "name the indicator key to rank on")
	}
	if f.Year == 0 {
		return out, domain.Invalid("year", "required", "name the year to rank on")
	}
	where, args := "i.key = ? AND i.year = ? AND i.lifecycle = 'active'", []any{f.Key, f.Year}
	if f.Unit != "" {
		where, args = where+" AND "+unitSubtreeSQL, append(args, subtreeArg(f.Unit))
	}
	rows, err := db.reader.QueryContext(ctx, `SELECT tasks.unit_id, COALESCE((SELECT name FROM units WHERE units.id = tasks.unit_id), tasks.unit_id),
		i.id, i.task_id, i.direction, COALESCE(i.value, ''), COALESCE(i.quality, ''), COALESCE(`+targetTextSQL+`, ''),
		COALESCE(i.completion_ratio, ''), COALESCE(i.completion_pct_display, ''), i.status
		FROM indicators i JOIN tasks ON tasks.id = i.task_id WHERE `+where+`
		ORDER BY tasks.unit_id, (SELECT position FROM events_log WHERE event_id = i.defined_event_id), i.id`, args...)
	if err != nil {
		return out, err
	}
	var lines []RankingLine
	ratios := map[string]string{}
	for rows.Next() {
		var l RankingLine
		var ratio string
		if err := rows.Scan(&l.UnitID, &l.UnitName, &l.IndicatorID, &l.TaskID, &l.Direction, &l.Value, &l.Quality, &l.Target,
			&ratio, &l.CompletionPct, &l.Status); err != nil {
			rows.Close()
			return out, err
		}
		if len(lines) > 0 && lines[len(lines)-1].UnitID == l.UnitID {
			continue // the unit's first defined indicator of the key
		}
		ratios[l.UnitID] = ratio
		lines = append(lines, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, err
	}
	if lines, err = seenOnly(lines, f.Sees, func(l RankingLine) string { return l.TaskID }); err != nil {
		return out, err
	}
	entries := make([]domain.RankEntry, len(lines))
	byUnit := map[string]RankingLine{}
	for i, l := range lines {
		e := domain.RankEntry{Unit: l.UnitID, Direction: domain.Direction(l.Direction)}
		if d, err := domain.ParseDecimal(ratios[l.UnitID]); err == nil {
			e.Ratio = &d
		}
		if d, err := domain.ParseDecimal(l.Value); err == nil {
			e.Value = &d
		}
		entries[i] = e
		byUnit[l.UnitID] = l
	}
	for _, e := range domain.RankUnits(entries) {
		l := byUnit[e.Unit]
		l.Rank = e.Rank
		out.Units = append(out.Units, l)
	}
	return out, nil
}
