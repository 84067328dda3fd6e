package domain

// EvWarningExplained records why a warning is not an error: a reporter for
// its departments' indicators, or the office, explains it with a reason.
// It changes no figure, so a frozen year takes it too.
const EvWarningExplained = "indicator.warning_explained"

type WarningExplained struct {
	Rule   string `json:"rule"`
	Figure string `json:"figure,omitempty"` // "" for a warning about the indicator itself
	Reason string `json:"reason"`
}

func (WarningExplained) EventName() string { return EvWarningExplained }

func init() {
	register(AggregateIndicator, 1, func() Event { return &WarningExplained{} }, nil)
}

// ExplainWarning explains the warning of a rule on a figure (or, without a
// figure, on the indicator).
type ExplainWarning struct {
	IndicatorID string `json:"indicator_id"`
	Rule        string `json:"rule"`
	Figure      string `json:"figure,omitempty"`
	Reason      string `json:"reason"`
}

func (c ExplainWarning) Target() AggregateRef     { return indicatorRef(c.IndicatorID) }
func (c ExplainWarning) Requires() []AggregateRef { return nil }
func (c ExplainWarning) CommandName() string      { return "indicator.explain_warning" }

func (c ExplainWarning) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	in := a.(*Indicator)
	if err := in.mustBeDefined(); err != nil {
		return nil, err
	}
	if _, ok := WarningRuleByID(c.Rule); !ok {
		ids := make([]string, len(WarningRules))
		for i, r := range WarningRules {
			ids[i] = r.ID
		}
		return nil, Invalid("rule", "enum", "must be one of %v, got %q", ids, c.Rule)
	}
	if c.Figure != "" {
		if _, ok := in.figures[c.Figure]; !ok {
			return nil, NotFound("figure %s is not recorded on indicator %s", c.Figure, in.id)
		}
	}
	if err := CheckText("reason", c.Reason, true, MaxLongText); err != nil {
		return nil, err
	}
	return []Event{&WarningExplained{Rule: c.Rule, Figure: c.Figure, Reason: c.Reason}}, nil
}
