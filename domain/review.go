package domain

// Review and approval of figures, written once like the figure state
// machine (StepFigure) and asked by the aggregate and the read models alike.
//
// Per indicator and window (a reporting period), the current figure moves
// through
//
//	reported  --submit-->  submitted  --approve-->  approved
//	                       submitted  --return--->  returned   (with a reason)
//	approved  --reopen-->  reopened   (the office, with a reason)
//	returned, reopened  --submit-->  submitted
//
// A department submits its figures (the office may too); the office
// approves or returns them, never approving its own submission (auth
// enforces who). A submitted figure awaits review and an approved one is
// locked: neither is superseded, corrected or retracted until the office
// returns or reopens it. A new figure for the window starts as reported.

// ReviewState says where a figure stands in review.
type ReviewState string

const (
	ReviewReported  ReviewState = "reported"
	ReviewSubmitted ReviewState = "submitted"
	ReviewApproved  ReviewState = "approved"
	ReviewReturned  ReviewState = "returned"
	ReviewReopened  ReviewState = "reopened"
)

// Review events (aggregate "indicator"). Each names the figure by the id of
// the event that recorded it; the actor is the envelope's.
const (
	EvFigureSubmitted = "indicator.figure_submitted"
	EvFigureApproved  = "indicator.figure_approved"
	EvFigureReturned  = "indicator.figure_returned"
	EvFigureReopened  = "indicator.figure_reopened"
)

// FigureSubmitted puts a figure before the office.
type FigureSubmitted struct {
	Figure string  `json:"figure"`
	Window Window  `json:"window"`
	Value  Decimal `json:"value"`
	Reason string  `json:"reason,omitempty"`
}

// FigureApproved approves the submitted figure; it is locked from then on.
type FigureApproved struct {
	Figure      string  `json:"figure"`
	Window      Window  `json:"window"`
	Value       Decimal `json:"value"`
	SubmittedBy string  `json:"submitted_by"`
	Reason      string  `json:"reason,omitempty"`
}

// FigureReturned sends a submitted figure back to its department.
type FigureReturned struct {
	Figure string `json:"figure"`
	Window Window `json:"window"`
	Reason string `json:"reason"`
}

// FigureReopened opens an approved figure for change again.
type FigureReopened struct {
	Figure string `json:"figure"`
	Window Window `json:"window"`
	Reason string `json:"reason"`
}

func (FigureSubmitted) EventName() string { return EvFigureSubmitted }
func (FigureApproved) EventName() string  { return EvFigureApproved }
func (FigureReturned) EventName() string  { return EvFigureReturned }
func (FigureReopened) EventName() string  { return EvFigureReopened }

func init() {
	register(AggregateIndicator, 1, func() Event { return &FigureSubmitted{} }, nil)
	register(AggregateIndicator, 1, func() Event { return &FigureApproved{} }, nil)
	register(AggregateIndicator, 1, func() Event { return &FigureReturned{} }, nil)
	register(AggregateIndicator, 1, func() Event { return &FigureReopened{} }, nil)
}

// IsReviewEvent reports whether e moves a figure in review (StepReview
// applies to it).
func IsReviewEvent(e Event) bool {
	switch e.(type) {
	case *FigureSubmitted, *FigureApproved, *FigureReturned, *FigureReopened:
		return true
	}
	return false
}

// ReviewMove is what one review event does to its figure.
type ReviewMove struct {
	Figure   string
	Window   string
	From, To ReviewState
	// SubmittedBy is the figure's submitter once the move is made.
	SubmittedBy string
}

// reviewFrom lists the states each review event starts from.
var reviewFrom = map[string][]ReviewState{
	EvFigureSubmitted: {ReviewReported, ReviewReturned, ReviewReopened},
	EvFigureApproved:  {ReviewSubmitted},
	EvFigureReturned:  {ReviewSubmitted},
	EvFigureReopened:  {ReviewApproved},
}

// StepReview decides what the review event e, recorded by actor, does to
// the figure it names in book: the figure must be recorded, current, of the
// event's window and in a state the event starts from. Like StepFigure it
// is what the decisions, the aggregate and the read models all ask.
func StepReview(book FigureBook, actor string, e Event) (ReviewMove, error) {
	var id string
	var w Window
	var to ReviewState
	switch e := e.(type) {
	case *FigureSubmitted:
		id, w, to = e.Figure, e.Window, ReviewSubmitted
	case *FigureApproved:
		id, w, to = e.Figure, e.Window, ReviewApproved
	case *FigureReturned:
		id, w, to = e.Figure, e.Window, ReviewReturned
	case *FigureReopened:
		id, w, to = e.Figure, e.Window, ReviewReopened
	default:
		return ReviewMove{}, RuleViolation("name", "not_a_review_event", "%s does not review a figure", e.EventName())
	}
	if id == "" {
		return ReviewMove{}, Invalid("figure", "required", "name the event id of the figure")
	}
	x, ok, err := book.FigureNode(id)
	if err != nil {
		return ReviewMove{}, err
	}
	if !ok {
		return ReviewMove{}, NotFound("figure %s is not recorded on this indicator", id)
	}
	if key := w.Normalize().Key(); x.Window != key {
		return ReviewMove{}, RuleViolation("figure", "window", "figure %s covers %s, not %s", id, x.Window, key)
	}
	if x.State != FigureStateCurrent {
		return ReviewMove{}, RuleViolation("figure", "not_current", "figure %s is %s; only a window's current figure is reviewed", id, x.State)
	}
	from := x.Review
	if from == "" {
		from = ReviewReported
	}
	allowed := false
	for _, s := range reviewFrom[e.EventName()] {
		allowed = allowed || s == from
	}
	if !allowed {
		return ReviewMove{}, RuleViolation("figure", "review_"+string(from), "figure %s is %s; %s takes a figure that is %v", id, from, e.EventName(), reviewFrom[e.EventName()])
	}
	m := ReviewMove{Figure: id, Window: x.Window, From: from, To: to, SubmittedBy: x.SubmittedBy}
	if to == ReviewSubmitted {
		m.SubmittedBy = actor
	}
	return m, nil
}

// figureLocked refuses to replace a figure under review or approved: the
// one place that says a submitted or approved figure does not change.
func figureLocked(field string, x FigureNode) error {
	switch x.Review {
	case ReviewSubmitted:
		return RuleViolation(field, "figure_submitted", "figure %s of window %s awaits the office's review; it changes once returned", x.EventID, x.Window)
	case ReviewApproved:
		return RuleViolation(field, "figure_approved", "figure %s of window %s is approved; the office reopens it (indicator.reopen_figure) with a reason before it changes", x.EventID, x.Window)
	}
	return nil
}
