package domain

// Proposals: a department does not restate a base or revise a target
// itself. It proposes one, with a reason, and the office approves it (which
// records the base or sets the target, in the same message, decided as the
// office's own command would be) or rejects it with a reason. The office's
// own record_base and set_target take effect directly.

// ProposalState says where a proposal stands.
type ProposalState string

const (
	ProposalPending       ProposalState = "pending"
	ProposalStateApproved ProposalState = "approved"
	ProposalStateRejected ProposalState = "rejected"
)

// Proposal kinds.
const (
	ProposalBase   = "base"
	ProposalTarget = "target"
)

const (
	EvBaseProposed     = "indicator.base_proposed"
	EvTargetProposed   = "indicator.target_proposed"
	EvProposalApproved = "indicator.proposal_approved"
	EvProposalRejected = "indicator.proposal_rejected"
)

// BaseProposed proposes a comparison base (or its restatement).
type BaseProposed struct {
	Window  Window  `json:"window"`
	Value   Decimal `json:"value"`
	Quality Quality `json:"quality"`
	Source  *Source `json:"source,omitempty"`
	Reason  string  `json:"reason"`
}

// TargetProposed proposes a target (or its revision).
type TargetProposed struct {
	Value     *Decimal `json:"value,omitempty"`
	Low       *Decimal `json:"low,omitempty"`
	High      *Decimal `json:"high,omitempty"`
	Milestone string   `json:"milestone,omitempty"`
	Source    *Source  `json:"source,omitempty"`
	Reason    string   `json:"reason"`
}

// ProposalApproved approves a proposal; the base_recorded or target_set it
// takes effect by follows in the same message.
type ProposalApproved struct {
	Proposal   string `json:"proposal"`
	Kind       string `json:"kind"`
	ProposedBy string `json:"proposed_by"`
	Reason     string `json:"reason,omitempty"`
}

// ProposalRejected rejects a proposal.
type ProposalRejected struct {
	Proposal   string `json:"proposal"`
	Kind       string `json:"kind"`
	ProposedBy string `json:"proposed_by"`
	Reason     string `json:"reason"`
}

func (BaseProposed) EventName() string     { return EvBaseProposed }
func (TargetProposed) EventName() string   { return EvTargetProposed }
func (ProposalApproved) EventName() string { return EvProposalApproved }
func (ProposalRejected) EventName() string { return EvProposalRejected }

func init() {
	register(AggregateIndicator, 1, func() Event { return &BaseProposed{} }, nil)
	register(AggregateIndicator, 1, func() Event { return &TargetProposed{} }, nil)
	register(AggregateIndicator, 1, func() Event { return &ProposalApproved{} }, nil)
	register(AggregateIndicator, 1, func() Event { return &ProposalRejected{} }, nil)
}

// Proposal is a pending or decided proposal, known by the id of the event
// that made it.
type Proposal struct {
	EventID    string
	Kind       string
	State      ProposalState
	ProposedBy string
	Base       *BaseProposed
	Target     *TargetProposed
}

// Proposal returns one proposal by its event id.
func (in *Indicator) Proposal(id string) (Proposal, bool) {
	p, ok := in.proposals[id]
	if !ok {
		return Proposal{}, false
	}
	return *p, true
}

// DecideProposal is the proposal state machine, written once: only a
// pending proposal is approved or rejected, and by an event of its own
// kind. The aggregate and the read models both ask it.
func DecideProposal(state ProposalState, kind string, e Event) (ProposalState, error) {
	var to ProposalState
	var evKind string
	switch e := e.(type) {
	case *ProposalApproved:
		to, evKind = ProposalStateApproved, e.Kind
	case *ProposalRejected:
		to, evKind = ProposalStateRejected, e.Kind
	default:
		return "", RuleViolation("name", "not_a_decision", "%s does not decide a proposal", e.EventName())
	}
	if evKind != kind {
		return "", RuleViolation("proposal", "kind", "the proposal is a %s proposal, not %s", kind, evKind)
	}
	if state != ProposalPending {
		return "", RuleViolation("proposal", "not_pending", "the proposal is %s already", state)
	}
	return to, nil
}

func (in *Indicator) applyProposal(r Recorded) {
	switch e := r.Data.(type) {
	case *BaseProposed:
		in.proposals[r.ID] = &Proposal{EventID: r.ID, Kind: ProposalBase, State: ProposalPending, ProposedBy: r.Actor, Base: e}
	case *TargetProposed:
		in.proposals[r.ID] = &Proposal{EventID: r.ID, Kind: ProposalTarget, State: ProposalPending, ProposedBy: r.Actor, Target: e}
	case *ProposalApproved:
		in.decideProposal(e.Proposal, r.Data)
	case *ProposalRejected:
		in.decideProposal(e.Proposal, r.Data)
	}
}

func (in *Indicator) decideProposal(id string, e Event) {
	p, ok := in.proposals[id]
	if !ok {
		return
	}
	if to, err := DecideProposal(p.State, p.Kind, e); err == nil {
		p.State = to
	}
}

// ProposeBase is a department's proposed base: decided as RecordBase
// would be, and recorded only when the office approves it.
type ProposeBase struct {
	IndicatorID string   `json:"indicator_id"`
	Window      Window   `json:"window"`
	Value       *Decimal `json:"value"`
	Quality     Quality  `json:"quality"`
	Source      *Source  `json:"source,omitempty"`
	Reason      string   `json:"reason"`
}

func (c ProposeBase) Target() AggregateRef                        { return indicatorRef(c.IndicatorID) }
func (c ProposeBase) Requires() []AggregateRef                    { return nil }
func (c ProposeBase) CommandName() string                         { return "indicator.propose_base" }
func (c ProposeBase) scopedYear(t Aggregate, _ []Aggregate) int   { return indicatorYear(t) }
func (c ProposeTarget) scopedYear(t Aggregate, _ []Aggregate) int { return indicatorYear(t) }

func (c ProposeBase) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	in := a.(*Indicator)
	if err := CheckText("reason", c.Reason, true, MaxLongText); err != nil {
		return nil, err
	}
	// What the office's approval would record must be recordable now.
	if _, err := in.RecordBase(RecordBase{IndicatorID: c.IndicatorID, Window: c.Window, Value: c.Value, Quality: c.Quality,
		Source: c.Source, Reason: c.Reason}); err != nil {
		return nil, err
	}
	return []Event{&BaseProposed{Window: c.Window.Normalize(), Value: *c.Value, Quality: c.Quality, Source: c.Source, Reason: c.Reason}}, nil
}

// ProposeTarget is a department's proposed target or revision.
type ProposeTarget struct {
	IndicatorID string   `json:"indicator_id"`
	Value       *Decimal `json:"value,omitempty"`
	Low         *Decimal `json:"low,omitempty"`
	High        *Decimal `json:"high,omitempty"`
	Milestone   string   `json:"milestone,omitempty"`
	Source      *Source  `json:"source,omitempty"`
	Reason      string   `json:"reason"`
}

func (c ProposeTarget) Target() AggregateRef     { return indicatorRef(c.IndicatorID) }
func (c ProposeTarget) Requires() []AggregateRef { return nil }
func (c ProposeTarget) CommandName() string      { return "indicator.propose_target" }

func (c ProposeTarget) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	in := a.(*Indicator)
	if err := CheckText("reason", c.Reason, true, MaxLongText); err != nil {
		return nil, err
	}
	if _, err := in.SetTarget(SetTarget{IndicatorID: c.IndicatorID, Value: c.Value, Low: c.Low, High: c.High, Milestone: c.Milestone,
		Reason: c.Reason, Source: c.Source}); err != nil {
		return nil, err
	}
	return []Event{&TargetProposed{Value: c.Value, Low: c.Low, High: c.High, Milestone: c.Milestone, Source: c.Source, Reason: c.Reason}}, nil
}

// ApproveProposal is the office's approval of a proposal: the base is
// recorded, or the target set, as the office's own command would decide it
// now, in the same message as the approval.
type ApproveProposal struct {
	IndicatorID string `json:"indicator_id"`
	Proposal    string `json:"proposal"`
	Reason      string `json:"reason,omitempty"`
}

// RejectProposal is the office's refusal of a proposal, with a reason.
type RejectProposal struct {
	IndicatorID string `json:"indicator_id"`
	Proposal    string `json:"proposal"`
	Reason      string `json:"reason"`
}

func (c ApproveProposal) Target() AggregateRef                      { return indicatorRef(c.IndicatorID) }
func (c RejectProposal) Target() AggregateRef                       { return indicatorRef(c.IndicatorID) }
func (c ApproveProposal) Requires() []AggregateRef                  { return nil }
func (c RejectProposal) Requires() []AggregateRef                   { return nil }
func (c ApproveProposal) CommandName() string                       { return "indicator.approve_proposal" }
func (c RejectProposal) CommandName() string                        { return "indicator.reject_proposal" }
func (c ApproveProposal) scopedYear(t Aggregate, _ []Aggregate) int { return indicatorYear(t) }
func (c RejectProposal) scopedYear(t Aggregate, _ []Aggregate) int  { return indicatorYear(t) }

func (c RejectProposal) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	in := a.(*Indicator)
	p, err := in.pendingProposal(c.Proposal, c.Reason, true)
	if err != nil {
		return nil, err
	}
	ev := &ProposalRejected{Proposal: p.EventID, Kind: p.Kind, ProposedBy: p.ProposedBy, Reason: c.Reason}
	if _, err := DecideProposal(p.State, p.Kind, ev); err != nil {
		return nil, err
	}
	return []Event{ev}, nil
}

func (c ApproveProposal) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	in := a.(*Indicator)
	p, err := in.pendingProposal(c.Proposal, c.Reason, false)
	if err != nil {
		return nil, err
	}
	ev := &ProposalApproved{Proposal: p.EventID, Kind: p.Kind, ProposedBy: p.ProposedBy, Reason: c.Reason}
	if _, err := DecideProposal(p.State, p.Kind, ev); err != nil {
		return nil, err
	}
	var effect []Event
	switch p.Kind {
	case ProposalBase:
		b := p.Base
		effect, err = in.RecordBase(RecordBase{IndicatorID: in.id, Window: b.Window, Value: &b.Value, Quality: b.Quality, Source: b.Source, Reason: b.Reason})
	case ProposalTarget:
		t := p.Target
		effect, err = in.SetTarget(SetTarget{IndicatorID: in.id, Value: t.Value, Low: t.Low, High: t.High, Milestone: t.Milestone, Source: t.Source, Reason: t.Reason})
	}
	if err != nil {
		return nil, err
	}
	return append([]Event{ev}, effect...), nil
}

func (in *Indicator) pendingProposal(id, reason string, reasonRequired bool) (*Proposal, error) {
	if err := in.mustBeDefined(); err != nil {
		return nil, err
	}
	if err := CheckText("reason", reason, reasonRequired, MaxLongText); err != nil {
		return nil, err
	}
	if id == "" {
		return nil, Invalid("proposal", "required", "name the event id of the proposal")
	}
	p, ok := in.proposals[id]
	if !ok {
		return nil, NotFound("proposal %s is not recorded on indicator %s", id, in.id)
	}
	return p, nil
}

// ProposedBy is the actor who made a proposal ("" if there is none).
func (in *Indicator) ProposedBy(proposal string) string {
	if p, ok := in.proposals[proposal]; ok {
		return p.ProposedBy
	}
	return ""
}
