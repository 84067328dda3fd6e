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
	EventID string
	Window  Window
	Value   Decimal
	Quality Quality
	Source  Source
	State   FigureState
	// Review is where the figure stands in review; SubmittedBy is the actor
	// who submitted it last.
	Review      ReviewState
	SubmittedBy string
	fallback    string // figure restored if this one is retracted
}

// FallbackID is the figure that becomes current again if this one is
// retracted (see StepFigure).
func (f Figure) FallbackID() string { return f.fallback }

// Indicator is a measurable figure within a task (指标).
type Indicator struct {
	id            string
	version       uint64
	defined       bool
	withdrawn     bool
	taskID        string
	assessedUnit  string
	year          int
	key           string
	name          string
	unit          string
	direction     Direction
	formula       Formula
	additive      bool
	isRate        bool
	allowNegative bool
	rounding      RoundingMode
	partOf        string
	baseline      *Decimal
	target        *Target
	figures       map[string]*Figure
	current       map[string]string // window key -> event id
	bases         map[string]Decimal
	proposals     map[string]*Proposal // by the id of the event that made it
}

func NewIndicator(id string) *Indicator {
	return &Indicator{id: id, figures: map[string]*Figure{}, current: map[string]string{}, bases: map[string]Decimal{},
		proposals: map[string]*Proposal{}}
}

func (in *Indicator) Ref() AggregateRef { return AggregateRef{Type: AggregateIndicator, ID: in.id} }
func (in *Indicator) Version() uint64   { return in.version }
func (in *Indicator) Exists() bool      { return in.defined }
func (in *Indicator) TaskID() string    { return in.taskID }

// AssessedUnit is the unit of the indicator's task (DefaultUnitID when it
// was defined without one).
func (in *Indicator) AssessedUnit() string { return unitOf(in.assessedUnit) }
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

// Base returns the comparison base recorded for a window of an earlier
// year, if any.
func (in *Indicator) Base(w Window) (Decimal, bool) {
	d, ok := in.bases[w.Key()]
	return d, ok
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
		in.assessedUnit = e.UnitID
		in.direction, in.formula, in.additive, in.isRate, in.allowNegative = e.Direction, e.Formula, e.Additive, e.IsRate, e.AllowNegative
		in.baseline, in.partOf = e.Baseline, e.PartOf
		in.rounding = HalfUp
		if m, err := RoundingModeFromString(e.Rounding); err == nil && e.Rounding != "" {
			in.rounding = m
		}
	case *IndicatorTargetSet:
		in.target = &Target{Value: e.Value, Low: e.Low, High: e.High, Milestone: e.Milestone}
	case *IndicatorBaseRecorded:
		in.bases[e.Window.Key()] = e.Value
	case *FigureReported, *FigureCorrected, *FigureRetracted:
		in.applyFigure(r)
	case *FigureSubmitted, *FigureApproved, *FigureReturned, *FigureReopened:
		if m, err := StepReview(indicatorBook{in}, r.Actor, r.Data); err == nil {
			f := in.figures[m.Figure]
			f.Review, f.SubmittedBy = m.To, m.SubmittedBy
		}
	case *BaseProposed, *TargetProposed, *ProposalApproved, *ProposalRejected:
		in.applyProposal(r)
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

// Figures returns every figure ever recorded, in no particular order.
func (in *Indicator) Figures() []Figure {
	out := make([]Figure, 0, len(in.figures))
	for _, f := range in.figures {
		out = append(out, *f)
	}
	return out
}

// applyFigure moves the figures as StepFigure says. A figure event the
// state machine refuses changes nothing here; the read models dead-letter
// it, so both sides still agree.
func (in *Indicator) applyFigure(r Recorded) {
	step, err := StepFigure(indicatorBook{in}, in.year, r.ID, r.Data)
	if err != nil {
		return
	}
	for _, m := range step.Moves {
		f := in.figures[m.EventID]
		f.State = m.To
		if m.To == FigureStateCurrent {
			in.current[f.Window.Key()] = f.EventID
		} else if in.current[step.Window] == f.EventID {
			delete(in.current, step.Window)
		}
	}
	if step.Added == nil {
		return
	}
	f := &Figure{EventID: r.ID, State: FigureStateCurrent, Review: step.Added.Review, fallback: step.Added.Fallback}
	switch e := r.Data.(type) {
	case *FigureReported:
		f.Window, f.Value, f.Quality, f.Source = e.Window.Normalize(), e.Value, e.Quality, e.Source
	case *FigureCorrected:
		f.Window, f.Value, f.Quality, f.Source = e.Window.Normalize(), e.NewValue, e.NewQuality, e.Source
	}
	in.figures[r.ID] = f
	in.current[step.Window] = r.ID
}

// indicatorBook shows the aggregate's figures to the state machine.
type indicatorBook struct{ in *Indicator }

func (b indicatorBook) FigureNode(id string) (FigureNode, bool, error) {
	f, ok := b.in.figures[id]
	if !ok {
		return FigureNode{}, false, nil
	}
	return FigureNode{EventID: f.EventID, Window: f.Window.Key(), State: f.State, Fallback: f.fallback, Review: f.Review,
		SubmittedBy: f.SubmittedBy}, true, nil
}

func (b indicatorBook) CurrentFigure(key string) (FigureNode, bool, error) {
	id, ok := b.in.current[key]
	if !ok {
		return FigureNode{}, false, nil
	}
	return b.FigureNode(id)
}
