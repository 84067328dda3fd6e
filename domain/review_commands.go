package domain

// Review commands on an indicator's figures. Who may issue which is the
// authorization matrix's (a reporter submits for its departments, the
// office approves, returns and reopens, and never approves its own
// submission); what each does is StepReview's.

type SubmitFigure struct {
	IndicatorID string `json:"indicator_id"`
	Figure      string `json:"figure"`
	Reason      string `json:"reason,omitempty"`
}

type ApproveFigure struct {
	IndicatorID string `json:"indicator_id"`
	Figure      string `json:"figure"`
	Reason      string `json:"reason,omitempty"`
}

type ReturnFigure struct {
	IndicatorID string `json:"indicator_id"`
	Figure      string `json:"figure"`
	Reason      string `json:"reason"`
}

type ReopenFigure struct {
	IndicatorID string `json:"indicator_id"`
	Figure      string `json:"figure"`
	Reason      string `json:"reason"`
}

func (c SubmitFigure) Target() AggregateRef      { return indicatorRef(c.IndicatorID) }
func (c ApproveFigure) Target() AggregateRef     { return indicatorRef(c.IndicatorID) }
func (c ReturnFigure) Target() AggregateRef      { return indicatorRef(c.IndicatorID) }
func (c ReopenFigure) Target() AggregateRef      { return indicatorRef(c.IndicatorID) }
func (c SubmitFigure) Requires() []AggregateRef  { return nil }
func (c ApproveFigure) Requires() []AggregateRef { return nil }
func (c ReturnFigure) Requires() []AggregateRef  { return nil }
func (c ReopenFigure) Requires() []AggregateRef  { return nil }
func (c SubmitFigure) CommandName() string       { return "indicator.submit_figure" }
func (c ApproveFigure) CommandName() string      { return "indicator.approve_figure" }
func (c ReturnFigure) CommandName() string       { return "indicator.return_figure" }
func (c ReopenFigure) CommandName() string       { return "indicator.reopen_figure" }

func (c SubmitFigure) scopedYear(t Aggregate, _ []Aggregate) int  { return indicatorYear(t) }
func (c ApproveFigure) scopedYear(t Aggregate, _ []Aggregate) int { return indicatorYear(t) }
func (c ReturnFigure) scopedYear(t Aggregate, _ []Aggregate) int  { return indicatorYear(t) }
func (c ReopenFigure) scopedYear(t Aggregate, _ []Aggregate) int  { return indicatorYear(t) }

func (c SubmitFigure) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*Indicator).review(c.Figure, c.Reason, false, func(f Figure) Event {
		return &FigureSubmitted{Figure: f.EventID, Window: f.Window.Normalize(), Value: f.Value, Reason: c.Reason}
	})
}

func (c ApproveFigure) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*Indicator).review(c.Figure, c.Reason, false, func(f Figure) Event {
		return &FigureApproved{Figure: f.EventID, Window: f.Window.Normalize(), Value: f.Value, SubmittedBy: f.SubmittedBy, Reason: c.Reason}
	})
}

func (c ReturnFigure) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*Indicator).review(c.Figure, c.Reason, true, func(f Figure) Event {
		return &FigureReturned{Figure: f.EventID, Window: f.Window.Normalize(), Reason: c.Reason}
	})
}

func (c ReopenFigure) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*Indicator).review(c.Figure, c.Reason, true, func(f Figure) Event {
		return &FigureReopened{Figure: f.EventID, Window: f.Window.Normalize(), Reason: c.Reason}
	})
}

// review decides a review step on the named figure, as StepReview says.
func (in *Indicator) review(figure, reason string, reasonRequired bool, build func(Figure) Event) ([]Event, error) {
	if err := in.mustBeDefined(); err != nil {
		return nil, err
	}
	if err := CheckText("reason", reason, reasonRequired, MaxLongText); err != nil {
		return nil, err
	}
	if err := ValidateID("figure", figure); err != nil && figure == "" {
		return nil, Invalid("figure", "required", "name the event id of the figure")
	}
	f, ok := in.figures[figure]
	if !ok {
		return nil, NotFound("figure %s is not recorded on indicator %s", figure, in.id)
	}
	ev := build(*f)
	if _, err := StepReview(indicatorBook{in}, "", ev); err != nil {
		return nil, err
	}
	return []Event{ev}, nil
}

// SubmittedBy is the actor who submitted a figure last ("" if never).
func (in *Indicator) SubmittedBy(figure string) string {
	if f, ok := in.figures[figure]; ok {
		return f.SubmittedBy
	}
	return ""
}
