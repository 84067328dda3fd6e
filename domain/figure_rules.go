package domain

// The figure state machine, written once. A window of an indicator's year
// has at most one current figure; every other figure ever recorded for it
// is superseded (a later report replaced it), corrected (a correction
// replaced it) or retracted. What a report, a correction and a retraction
// do to a window's figures is decided here, by StepFigure, and nowhere
// else: the Indicator aggregate moves its figures with it, and so do the
// read models (projections ask the same function about their rows), so the
// write side and the read side cannot disagree about which figure is
// current.
//
//	report R           the window's current figure C (if any) -> superseded;
//	                   R current, R falls back to C
//	correct X with K   X (current) -> corrected; K current, K falls back to X
//	retract X          X (current) -> retracted; X's fallback, if it is
//	                   superseded or corrected, becomes current again
//
// None of them touches a figure that is submitted or approved (see
// StepReview): the office returns or reopens it first.
//
// Falling back is a stack: retracting a correction brings back the figure it
// corrected (the correction was wrong), and retracting that figure in turn
// brings back what it had superseded.

// FigureNode is what the state machine knows of one figure.
type FigureNode struct {
	EventID  string
	Window   string // the window's key
	State    FigureState
	Fallback string // the figure made current again if this one is retracted
	// Review and SubmittedBy are where the figure stands in review (see
	// StepReview); a submitted or approved figure is not replaced.
	Review      ReviewState
	SubmittedBy string
}

// FigureBook gives the state machine the figures it asks about. Errors are
// the book's own (a read-model query failing); a figure that is not there
// is (FigureNode{}, false, nil).
type FigureBook interface {
	FigureNode(eventID string) (FigureNode, bool, error)
	CurrentFigure(windowKey string) (FigureNode, bool, error)
}

// FigureMove is one figure changing state.
type FigureMove struct {
	EventID  string
	From, To FigureState
	// ReplacedBy is the event that moved it; "" when it becomes current again.
	ReplacedBy string
}

// FigureStep is what one figure event does to its window.
type FigureStep struct {
	Window string
	// Added is the figure the event records (a report or a correction),
	// current; nil for a retraction.
	Added *FigureNode
	// Replaced is the figure the event superseded, corrected or retracted,
	// as it was before; nil for a first report.
	Replaced *FigureNode
	// Restored is the figure a retraction made current again, if any.
	Restored *FigureNode
	Moves    []FigureMove
}

// IsFigureEvent reports whether e moves figures (StepFigure applies to it).
func IsFigureEvent(e Event) bool {
	switch e.(type) {
	case *FigureReported, *FigureCorrected, *FigureRetracted:
		return true
	}
	return false
}

// StepFigure decides what the figure event e, recorded as eventID on an
// indicator of year, does to the figures in book. An event the state
// machine cannot take (it names a figure that is not recorded, not current
// or of another window; its window is not of the indicator's year) is a
// rule violation: the aggregate ignores it and the read models dead-letter
// it. Commands never produce one: they are decided on the same states.
func StepFigure(book FigureBook, year int, eventID string, e Event) (FigureStep, error) {
	switch e := e.(type) {
	case *FigureReported:
		return stepReport(book, year, eventID, e)
	case *FigureCorrected:
		x, err := namedCurrent(book, "corrects", e.Corrects, e.Window)
		if err != nil {
			return FigureStep{}, err
		}
		if err := figureLocked("corrects", x); err != nil {
			return FigureStep{}, err
		}
		return FigureStep{Window: x.Window, Replaced: &x,
			Added: &FigureNode{EventID: eventID, Window: x.Window, State: FigureStateCurrent, Fallback: x.EventID, Review: ReviewReported},
			Moves: []FigureMove{{EventID: x.EventID, From: x.State, To: FigureStateCorrected, ReplacedBy: eventID}}}, nil
	case *FigureRetracted:
		x, err := namedCurrent(book, "retracts", e.Retracts, e.Window)
		if err != nil {
			return FigureStep{}, err
		}
		if err := figureLocked("retracts", x); err != nil {
			return FigureStep{}, err
		}
		step := FigureStep{Window: x.Window, Replaced: &x,
			Moves: []FigureMove{{EventID: x.EventID, From: x.State, To: FigureStateRetracted, ReplacedBy: eventID}}}
		if x.Fallback == "" {
			return step, nil
		}
		fb, ok, err := book.FigureNode(x.Fallback)
		if err != nil {
			return FigureStep{}, err
		}
		if ok && fb.Window == x.Window && (fb.State == FigureStateSuperseded || fb.State == FigureStateCorrected) {
			step.Restored = &fb
			step.Moves = append(step.Moves, FigureMove{EventID: fb.EventID, From: fb.State, To: FigureStateCurrent})
		}
		return step, nil
	}
	return FigureStep{}, RuleViolation("name", "not_a_figure_event", "%s does not move figures", e.EventName())
}

func stepReport(book FigureBook, year int, eventID string, e *FigureReported) (FigureStep, error) {
	w := e.Window.Normalize()
	if err := w.Validate("window"); err != nil {
		return FigureStep{}, err
	}
	if w.Year != year {
		return FigureStep{}, RuleViolation("window.year", "assessment_year", "a figure for %s on an indicator for %d", w.Key(), year)
	}
	key := w.Key()
	var replaced FigureNode
	var found bool
	var err error
	if e.Supersedes != "" {
		// The report names the figure it replaces, which must be the
		// window's current one: the decision was made against it.
		if replaced, err = namedCurrent(book, "supersedes", e.Supersedes, w); err != nil {
			return FigureStep{}, err
		}
		found = true
	} else if replaced, found, err = book.CurrentFigure(key); err != nil {
		// A report that names nothing (version 1 events did not) still
		// replaces whatever is current: a window has one current figure.
		return FigureStep{}, err
	}
	step := FigureStep{Window: key, Added: &FigureNode{EventID: eventID, Window: key, State: FigureStateCurrent, Review: ReviewReported}}
	if found {
		if err := figureLocked("window", replaced); err != nil {
			return FigureStep{}, err
		}
		step.Replaced = &replaced
		step.Added.Fallback = replaced.EventID
		step.Moves = []FigureMove{{EventID: replaced.EventID, From: replaced.State, To: FigureStateSuperseded, ReplacedBy: eventID}}
	}
	return step, nil
}

// namedCurrent returns the figure an event names, which must be recorded,
// current and of the event's window.
func namedCurrent(book FigureBook, field, eventID string, w Window) (FigureNode, error) {
	if eventID == "" {
		return FigureNode{}, RuleViolation(field, "required", "the event names no figure")
	}
	x, ok, err := book.FigureNode(eventID)
	if err != nil {
		return FigureNode{}, err
	}
	if !ok {
		return FigureNode{}, RuleViolation(field, "not_recorded", "figure %s is not recorded on this indicator", eventID)
	}
	if key := w.Normalize().Key(); x.Window != key {
		return FigureNode{}, RuleViolation(field, "window", "figure %s covers %s, not %s", eventID, x.Window, key)
	}
	if x.State != FigureStateCurrent {
		return FigureNode{}, RuleViolation(field, "not_current", "figure %s is %s; only the current figure of a window is replaced", eventID, x.State)
	}
	return x, nil
}
