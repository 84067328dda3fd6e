package domain

import "strconv"

// AggregateYear is one assessment year's lock (aggregate id y<year>, e.g.
// y2022): whether the year is frozen, and its reporting calendar.
const AggregateYear = "year"

// Year events. A year is frozen by a year-end snapshot (kpitrail snapshot
// --year Y records year.frozen, then the snapshot of the frozen year); while
// frozen, no command changes the year's figures, bases or targets. Only the
// office reopens it, with a reason; freezing it again takes a new snapshot.
const (
	EvYearFrozen      = "year.frozen"
	EvYearReopened    = "year.reopened"
	EvYearCalendarSet = "year.calendar_set"
)

type YearFrozen struct {
	Year int    `json:"year"`
	Note string `json:"note,omitempty"`
}

type YearReopened struct {
	Year   int    `json:"year"`
	Reason string `json:"reason"`
}

// YearCalendarSet sets the year's reporting calendar: when the figures of
// each period are due (see ReportingPeriods).
type YearCalendarSet struct {
	Year            int    `json:"year"`
	MonthlyDueDay   int    `json:"monthly_due_day"`
	QuarterlyDueDay int    `json:"quarterly_due_day"`
	YearlyDue       Date   `json:"yearly_due"`
	Reason          string `json:"reason,omitempty"`
}

// Calendar is the calendar the event sets.
func (e YearCalendarSet) Calendar() Calendar {
	return Calendar{MonthlyDueDay: e.MonthlyDueDay, QuarterlyDueDay: e.QuarterlyDueDay, YearlyDue: e.YearlyDue}
}

func (YearFrozen) EventName() string      { return EvYearFrozen }
func (YearReopened) EventName() string    { return EvYearReopened }
func (YearCalendarSet) EventName() string { return EvYearCalendarSet }

func init() {
	register(AggregateYear, 1, func() Event { return &YearFrozen{} }, nil)
	register(AggregateYear, 1, func() Event { return &YearReopened{} }, nil)
	register(AggregateYear, 1, func() Event { return &YearCalendarSet{} }, nil)
}

// YearID is the id of a year's aggregate: y2022.
func YearID(year int) string { return "y" + strconv.Itoa(year) }

func yearRef(year int) AggregateRef { return AggregateRef{Type: AggregateYear, ID: YearID(year)} }

// Year is one assessment year's lock.
type Year struct {
	id       string
	version  uint64
	frozen   bool
	frozenBy string // the event that froze it
	calendar *Calendar
}

func NewYear(id string) *Year           { return &Year{id: id} }
func (y *Year) Ref() AggregateRef       { return AggregateRef{Type: AggregateYear, ID: y.id} }
func (y *Year) Version() uint64         { return y.version }
func (y *Year) Frozen() bool            { return y.frozen }
func (y *Year) FrozenByEventID() string { return y.frozenBy }

func (y *Year) Apply(r Recorded) {
	y.version = r.AggregateVersion
	switch e := r.Data.(type) {
	case *YearFrozen:
		y.frozen, y.frozenBy = true, r.ID
	case *YearReopened:
		y.frozen, y.frozenBy = false, ""
	case *YearCalendarSet:
		c := e.Calendar()
		y.calendar = &c
	}
}

func checkYear(id string, year int) error {
	if year < 1990 || year > 2200 {
		return Invalid("year", "range", "must be between 1990 and 2200, got %d", year)
	}
	if id != YearID(year) {
		return Invalid("year", "aggregate", "year %d is %s, not %s", year, YearID(year), id)
	}
	return nil
}

// FreezeYear is issued by the server when it takes a year's snapshot
// (kpitrail snapshot --year Y): clients ask for a snapshot, which freezes.
type FreezeYear struct {
	Year int    `json:"year"`
	Note string `json:"note,omitempty"`
}

func (c FreezeYear) Target() AggregateRef     { return yearRef(c.Year) }
func (c FreezeYear) Requires() []AggregateRef { return nil }
func (c FreezeYear) CommandName() string      { return "year.freeze" }
func (c FreezeYear) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	y := a.(*Year)
	if err := checkYear(y.id, c.Year); err != nil {
		return nil, err
	}
	if err := CheckText("note", c.Note, false, MaxLongText); err != nil {
		return nil, err
	}
	if y.frozen {
		return nil, RuleViolation("year", "already_frozen", "%d is frozen already (since event %s)", c.Year, y.frozenBy)
	}
	return []Event{&YearFrozen{Year: c.Year, Note: c.Note}}, nil
}

// ReopenYear reopens a frozen year for changes (the office, with a reason).
type ReopenYear struct {
	Year   int    `json:"year"`
	Reason string `json:"reason"`
}

func (c ReopenYear) Target() AggregateRef     { return yearRef(c.Year) }
func (c ReopenYear) Requires() []AggregateRef { return nil }
func (c ReopenYear) CommandName() string      { return "year.reopen" }
func (c ReopenYear) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	y := a.(*Year)
	if err := checkYear(y.id, c.Year); err != nil {
		return nil, err
	}
	if err := CheckText("reason", c.Reason, true, MaxLongText); err != nil {
		return nil, err
	}
	if !y.frozen {
		return nil, RuleViolation("year", "not_frozen", "%d is not frozen", c.Year)
	}
	return []Event{&YearReopened{Year: c.Year, Reason: c.Reason}}, nil
}

// yearScoped is implemented by the commands that change an assessment
// year's figures, bases or targets (or its indicators). Which year is
// known only once the target is loaded (an indicator's year), or the
// command's dependencies (a task's), so its lock is a dependency named
// after loading: see LateRequirements.
type yearScoped interface {
	scopedYear(target Aggregate, deps []Aggregate) int
}

// LateRequirements lists the aggregates deciding c reads beyond
// c.Requires(), named from the loaded target and deps (those of
// c.Requires(), in order): the lock of the year c changes. Every caller of
// Decide passes them after deps.
func LateRequirements(c Command, target Aggregate, deps []Aggregate) []AggregateRef {
	ys, ok := c.(yearScoped)
	if !ok {
		return nil
	}
	if y := ys.scopedYear(target, deps); y != 0 {
		return []AggregateRef{yearRef(y)}
	}
	return nil
}

// CheckYearOpen is checkYearOpen for one loaded year, for a check that
// runs before any command does (an import's dry run): the same refusal the
// commands themselves meet.
func CheckYearOpen(year Aggregate) error { return checkYearOpen([]Aggregate{year}) }

// YearRef names a year's aggregate.
func YearRef(year int) AggregateRef { return yearRef(year) }

// checkYearOpen refuses a year-scoped command while its year is frozen.
func checkYearOpen(locks []Aggregate) error {
	for _, a := range locks {
		if y, ok := a.(*Year); ok && y.frozen {
			year := y.id[1:]
			return RuleViolation("year", "year_frozen", "%s is frozen (snapshot, event %s): its figures, bases and targets change only after the office reopens it (year.reopen) with a reason", year, y.frozenBy)
		}
	}
	return nil
}

// indicatorYear is the year of a loaded indicator, 0 when it is not
// defined (the decision then answers not found).
func indicatorYear(target Aggregate) int {
	if in, ok := target.(*Indicator); ok && in.defined {
		return in.year
	}
	return 0
}

func (c SetTarget) scopedYear(t Aggregate, _ []Aggregate) int         { return indicatorYear(t) }
func (c RecordBase) scopedYear(t Aggregate, _ []Aggregate) int        { return indicatorYear(t) }
func (c ReportFigure) scopedYear(t Aggregate, _ []Aggregate) int      { return indicatorYear(t) }
func (c ReportFigures) scopedYear(t Aggregate, _ []Aggregate) int     { return indicatorYear(t) }
func (c CorrectFigure) scopedYear(t Aggregate, _ []Aggregate) int     { return indicatorYear(t) }
func (c RetractFigure) scopedYear(t Aggregate, _ []Aggregate) int     { return indicatorYear(t) }
func (c WithdrawIndicator) scopedYear(t Aggregate, _ []Aggregate) int { return indicatorYear(t) }
func (c DefineIndicator) scopedYear(_ Aggregate, deps []Aggregate) int {
	if len(deps) > 0 {
		if t, ok := deps[0].(*Task); ok && t.Exists() {
			return t.Year()
		}
	}
	return 0
}

// SetCalendar sets a year's reporting calendar (the office).
type SetCalendar struct {
	Year            int    `json:"year"`
	MonthlyDueDay   int    `json:"monthly_due_day"`
	QuarterlyDueDay int    `json:"quarterly_due_day"`
	YearlyDue       Date   `json:"yearly_due"`
	Reason          string `json:"reason,omitempty"`
}

func (c SetCalendar) Target() AggregateRef     { return yearRef(c.Year) }
func (c SetCalendar) Requires() []AggregateRef { return nil }
func (c SetCalendar) CommandName() string      { return "year.set_calendar" }
func (c SetCalendar) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	y := a.(*Year)
	if err := checkYear(y.id, c.Year); err != nil {
		return nil, err
	}
	cal := Calendar{MonthlyDueDay: c.MonthlyDueDay, QuarterlyDueDay: c.QuarterlyDueDay, YearlyDue: c.YearlyDue}
	if err := cal.Validate(c.Year); err != nil {
		return nil, err
	}
	// A calendar changed once set moves due dates people were held to.
	if err := CheckText("reason", c.Reason, y.calendar != nil, MaxLongText); err != nil {
		return nil, err
	}
	return []Event{&YearCalendarSet{Year: c.Year, MonthlyDueDay: c.MonthlyDueDay, QuarterlyDueDay: c.QuarterlyDueDay,
		YearlyDue: c.YearlyDue, Reason: c.Reason}}, nil
}
