package domain

// Target is what the year requires of an indicator: a value (a flow to reach,
// a floor or a cap, by the indicator's direction), a range, or a milestone.
type Target struct {
	Value     *Decimal `json:"value,omitempty"`
	Low       *Decimal `json:"low,omitempty"`
	High      *Decimal `json:"high,omitempty"`
	Milestone string   `json:"milestone,omitempty"`
}

// FigureState says where a reported figure stands.
type FigureState string

const (
	FigureStateCurrent    FigureState = "current"
	FigureStateSuperseded FigureState = "superseded" // by a later report of a more settled quality
	FigureStateCorrected  FigureState = "corrected"
	FigureStateRetracted  FigureState = "retracted"
)

// Figure is one reported or corrected value, known by the id of the event
// that recorded it.
type Figure struct {
	EventID  string
	Window   Window
	Value    Decimal
	Quality  Quality
	Source   Source
	State    FigureState
	fallback string // figure restored if this one is retracted
}

// Indicator is a measurable figure within a task (指标).
type Indicator struct {
	id            string
	version       uint64
	defined       bool
	withdrawn     bool
	taskID        string
	year          int
	key           string
	name          string
	unit          string
	direction     Direction
	formula       Formula
	additive      bool
	isRate        bool
	allowNegative bool
	baseline      *Decimal
	target        *Target
	figures       map[string]*Figure
	current       map[string]string // window key -> event id
	bases         map[string]Decimal
}

func NewIndicator(id string) *Indicator {
	return &Indicator{id: id, figures: map[string]*Figure{}, current: map[string]string{}, bases: map[string]Decimal{}}
}

func (in *Indicator) Ref() AggregateRef    { return AggregateRef{Type: AggregateIndicator, ID: in.id} }
func (in *Indicator) Version() uint64      { return in.version }
func (in *Indicator) Exists() bool         { return in.defined }
func (in *Indicator) TaskID() string       { return in.taskID }
func (in *Indicator) Year() int            { return in.year }
func (in *Indicator) Name() string         { return in.name }
func (in *Indicator) Unit() string         { return in.unit }
func (in *Indicator) Direction() Direction { return in.direction }

// Target returns the current target, if any.
func (in *Indicator) Target() (Target, bool) {
	if in.target == nil {
		return Target{}, false
	}
	return *in.target, true
}

// Figure returns one figure by the id of the event that recorded it.
func (in *Indicator) Figure(eventID string) (Figure, bool) {
	f, ok := in.figures[eventID]
	if !ok {
		return Figure{}, false
	}
	return *f, true
}

// Current returns the current figure for a window.
func (in *Indicator) Current(w Window) (Figure, bool) {
	id, ok := in.current[w.Key()]
	if !ok {
		return Figure{}, false
	}
	return *in.figures[id], true
}

func (in *Indicator) Apply(r Recorded) {
	in.version = r.AggregateVersion
	switch e := r.Data.(type) {
	case *IndicatorDefined:
		in.defined = true
		in.taskID, in.year, in.key, in.name, in.unit = e.TaskID, e.Year, e.Key, e.Name, e.Unit
		in.direction, in.formula, in.additive, in.isRate, in.allowNegative = e.Direction, e.Formula, e.Additive, e.IsRate, e.AllowNegative
		in.baseline = e.Baseline
	case *IndicatorTargetSet:
		in.target = &Target{Value: e.Value, Low: e.Low, High: e.High, Milestone: e.Milestone}
	case *IndicatorBaseRecorded:
		in.bases[e.Window.Key()] = e.Value
	case *FigureReported:
		key := e.Window.Key()
		if prev, ok := in.figures[e.Supersedes]; ok && e.Supersedes != "" {
			prev.State = FigureStateSuperseded
		}
		in.figures[r.ID] = &Figure{EventID: r.ID, Window: e.Window, Value: e.Value, Quality: e.Quality, Source: e.Source,
			State: FigureStateCurrent, fallback: e.Supersedes}
		in.current[key] = r.ID
	case *FigureCorrected:
		// Retracting a correction says the correction was wrong: the figure
		// it corrected becomes current again.
		fallback := e.Corrects
		if old, ok := in.figures[e.Corrects]; ok {
			old.State = FigureStateCorrected
		}
		in.figures[r.ID] = &Figure{EventID: r.ID, Window: e.Window, Value: e.NewValue, Quality: e.NewQuality, Source: e.Source,
			State: FigureStateCurrent, fallback: fallback}
		in.current[e.Window.Key()] = r.ID
	case *FigureRetracted:
		key := e.Window.Key()
		f, ok := in.figures[e.Retracts]
		if !ok {
			return
		}
		f.State = FigureStateRetracted
		delete(in.current, key)
		if prev, ok := in.figures[f.fallback]; ok && (prev.State == FigureStateSuperseded || prev.State == FigureStateCorrected) {
			prev.State = FigureStateCurrent
			in.current[key] = prev.EventID
		}
	case *IndicatorWithdrawn:
		in.withdrawn = true
	}
}

func (in *Indicator) mustBeDefined() error {
	if !in.defined {
		return NotFound("indicator %s is not defined", in.id)
	}
	if in.withdrawn {
		return RuleViolation("indicator_id", "indicator_withdrawn", "indicator %s is withdrawn", in.id)
	}
	return nil
}

// checkValue applies the unit's rules to a figure or target value.
func (in *Indicator) checkValue(field string, v Decimal) error {
	if v.Sign() < 0 && !in.allowNegative {
		return Invalid(field, "non_negative", "indicator %s does not allow negative values, got %s", in.id, v)
	}
	if IsCountUnit(in.unit) && !v.IsInteger() {
		return Invalid(field, "integer_count", "a count in %s must be a whole number, got %s", in.unit, v)
	}
	return nil
}
