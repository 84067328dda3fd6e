package domain

import "slices"

// ---- indicator commands ----

type DefineIndicator struct {
	IndicatorID   string    `json:"indicator_id"`
	TaskID        string    `json:"task_id"`
	Key           string    `json:"key,omitempty"`
	Name          string    `json:"name"`
	Unit          string    `json:"unit,omitempty"`
	Direction     Direction `json:"direction"`
	Formula       Formula   `json:"formula,omitempty"`
	Additive      bool      `json:"additive,omitempty"`
	IsRate        bool      `json:"is_rate,omitempty"`
	AllowNegative bool      `json:"allow_negative,omitempty"`
	Cadence       string    `json:"cadence,omitempty"`
	Rounding      string    `json:"rounding,omitempty"`
	Baseline      *Decimal  `json:"baseline,omitempty"`
	Description   string    `json:"description,omitempty"`
	// PartOf names the indicator this one is a part of (the parts of a
	// total add up to it, rule parts_sum); SumTolerance, on a total, is how
	// far its parts may miss it. OutlierBand is the ratio to the previous
	// period or year beyond which a figure is flagged (default 10).
	PartOf       string   `json:"part_of,omitempty"`
	SumTolerance *Decimal `json:"sum_tolerance,omitempty"`
	OutlierBand  *Decimal `json:"outlier_band,omitempty"`
	// Conversion declares how values of the key in another unit (earlier
	// years') read in this one's.
	Conversion *UnitConversion `json:"conversion,omitempty"`

	// keyUses are other years' indicators with the key, as the command
	// service found them (WithKeyUses); unset, the key rule is left to the
	// read models' warning.
	keyUses      []KeyUse
	keyUsesKnown bool
}

func (c DefineIndicator) Target() AggregateRef { return indicatorRef(c.IndicatorID) }
func (c DefineIndicator) Requires() []AggregateRef {
	if c.PartOf != "" && ValidateID("part_of", c.PartOf) == nil {
		return []AggregateRef{taskRef(c.TaskID), indicatorRef(c.PartOf)}
	}
	return []AggregateRef{taskRef(c.TaskID)}
}
func (c DefineIndicator) CommandName() string { return "indicator.define" }
func (c DefineIndicator) decide(a Aggregate, deps []Aggregate) ([]Event, error) {
	var total *Indicator
	if len(deps) > 1 {
		total = deps[1].(*Indicator)
	}
	return a.(*Indicator).Define(c, deps[0].(*Task), total)
}

// IndicatorKey is the key the definition measures (the id when none).
func (c DefineIndicator) IndicatorKey() string {
	if c.Key != "" {
		return c.Key
	}
	return c.IndicatorID
}

// WithKeyUses returns the command with the other years' uses of its key,
// for the decision to check them (CheckKeyUse).
func (c DefineIndicator) WithKeyUses(uses []KeyUse) DefineIndicator {
	c.keyUses, c.keyUsesKnown = uses, true
	return c
}

// AttachKeyUses gives a definition (value or pointer) the uses of its key
// that lookup finds; other commands pass through.
func AttachKeyUses(cmd Command, lookup func(key string) ([]KeyUse, error)) (Command, error) {
	switch c := cmd.(type) {
	case DefineIndicator:
		uses, err := lookup(c.IndicatorKey())
		if err != nil {
			return nil, err
		}
		return c.WithKeyUses(uses), nil
	case *DefineIndicator:
		uses, err := lookup(c.IndicatorKey())
		if err != nil {
			return nil, err
		}
		d := c.WithKeyUses(uses)
		return &d, nil
	}
	return cmd, nil
}

// formula fills the direction's default (the first allowed formula).
// Lower-is-better has no default: there is no single formula (DOMAIN.md
// rule 3), so validate insists on an explicit choice.
func (c DefineIndicator) formula() Formula {
	if c.Formula != "" || c.Direction == LowerIsBetter {
		return c.Formula
	}
	if allowed := AllowedFormulas(c.Direction); len(allowed) > 0 {
		return allowed[0]
	}
	return ""
}

func (c DefineIndicator) validate() error {
	if err := ValidateID("task_id", c.TaskID); err != nil {
		return err
	}
	if c.Key != "" {
		if err := CheckText("key", c.Key, true, MaxShortText); err != nil {
			return err
		}
	}
	if err := CheckText("name", c.Name, true, MaxShortText); err != nil {
		return err
	}
	if err := CheckText("unit", c.Unit, false, 32); err != nil {
		return err
	}
	if _, err := ParseDirection(string(c.Direction)); err != nil {
		return Invalid("direction", "enum", "must be one of higher, lower, at_least, at_most, range, qualitative; got %q", string(c.Direction))
	}
	f := c.formula()
	if f != "" {
		if _, err := ParseFormula(string(f)); err != nil {
			return Invalid("formula", "enum", "must be one of ratio, two_minus_ratio, inverse_ratio, reduction, cap; got %q", string(f))
		}
	}
	allowed := AllowedFormulas(c.Direction)
	switch {
	case c.Direction == Qualitative && f != "":
		return Invalid("formula", "direction", "a qualitative indicator has no formula")
	case c.Direction == LowerIsBetter && f == "":
		return Invalid("formula", "required", "lower-is-better has no single formula: choose one of %v", allowed)
	case c.Direction != Qualitative && !slices.Contains(allowed, f):
		return Invalid("formula", "direction", "a %s indicator uses one of %v, got %q", c.Direction, allowed, string(f))
	case f == FormulaReduction && c.Baseline == nil:
		return Invalid("baseline", "required", "the reduction formula needs a baseline")
	}
	switch c.Cadence {
	case "", "monthly", "quarterly", "yearly", "once":
	default:
		return Invalid("cadence", "enum", "must be one of monthly, quarterly, yearly, once; got %q", c.Cadence)
	}
	if c.Rounding != "" {
		if _, err := RoundingModeFromString(c.Rounding); err != nil {
			return Invalid("rounding", "enum", "must be half_up or half_even; got %q", c.Rounding)
		}
	}
	if c.PartOf != "" {
		if err := ValidateID("part_of", c.PartOf); err != nil {
			return err
		}
		if c.PartOf == c.IndicatorID {
			return Invalid("part_of", "self", "an indicator is not a part of itself")
		}
	}
	if c.SumTolerance != nil && c.SumTolerance.Sign() < 0 {
		return Invalid("sum_tolerance", "non_negative", "must be >= 0, got %s", c.SumTolerance)
	}
	if c.OutlierBand != nil && c.OutlierBand.Cmp(MustDecimal("1")) <= 0 {
		return Invalid("outlier_band", "above_one", "a ratio band must be above 1, got %s", c.OutlierBand)
	}
	if c.Conversion != nil {
		if err := c.Conversion.Validate("conversion"); err != nil {
			return err
		}
	}
	return CheckText("description", c.Description, false, MaxLongText)
}

type SetTarget struct {
	IndicatorID string   `json:"indicator_id"`
	Value       *Decimal `json:"value,omitempty"`
	Low         *Decimal `json:"low,omitempty"`
	High        *Decimal `json:"high,omitempty"`
	Milestone   string   `json:"milestone,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	Source      *Source  `json:"source,omitempty"`
}

func (c SetTarget) Target() AggregateRef     { return indicatorRef(c.IndicatorID) }
func (c SetTarget) Requires() []AggregateRef { return nil }
func (c SetTarget) CommandName() string      { return "indicator.set_target" }
func (c SetTarget) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*Indicator).SetTarget(c)
}
func (c SetTarget) validate() error {
	if err := CheckText("milestone", c.Milestone, false, MaxShortText); err != nil {
		return err
	}
	if c.Source != nil {
		if err := c.Source.Validate("source"); err != nil {
			return err
		}
	}
	return CheckText("reason", c.Reason, false, MaxLongText)
}

type RecordBase struct {
	IndicatorID string   `json:"indicator_id"`
	Window      Window   `json:"window"`
	Value       *Decimal `json:"value"`
	Quality     Quality  `json:"quality"`
	Source      *Source  `json:"source,omitempty"`
	Reason      string   `json:"reason,omitempty"`
}

func (c RecordBase) Target() AggregateRef     { return indicatorRef(c.IndicatorID) }
func (c RecordBase) Requires() []AggregateRef { return nil }
func (c RecordBase) CommandName() string      { return "indicator.record_base" }
func (c RecordBase) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*Indicator).RecordBase(c)
}
func (c RecordBase) validate() error {
	if c.Value == nil {
		return Invalid("value", "required", "a comparison base needs a value")
	}
	if err := c.Window.Validate("window"); err != nil {
		return err
	}
	if err := c.Quality.Validate("quality"); err != nil {
		return err
	}
	if c.Source != nil {
		if err := c.Source.Validate("source"); err != nil {
			return err
		}
	}
	return CheckText("reason", c.Reason, false, MaxLongText)
}

type ReportFigure struct {
	IndicatorID string   `json:"indicator_id"`
	Window      Window   `json:"window"`
	Value       *Decimal `json:"value,omitempty"`
	Numerator   *Decimal `json:"numerator,omitempty"`
	Denominator *Decimal `json:"denominator,omitempty"`
	Quality     Quality  `json:"quality"`
	Source      Source   `json:"source"`
	FinalDue    Date     `json:"final_due,omitempty"`
	Note        string   `json:"note,omitempty"`
}

func (c ReportFigure) Target() AggregateRef     { return indicatorRef(c.IndicatorID) }
func (c ReportFigure) Requires() []AggregateRef { return nil }
func (c ReportFigure) CommandName() string      { return "indicator.report_figure" }
func (c ReportFigure) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*Indicator).ReportFigure(c)
}
func (c ReportFigure) validate() error {
	if err := c.Window.Validate("window"); err != nil {
		return err
	}
	if err := c.Quality.Validate("quality"); err != nil {
		return err
	}
	if c.Quality == QualityRevised {
		return Invalid("quality", "revised_is_correction", "a revised figure is recorded by a correction")
	}
	if err := c.Source.Validate("source"); err != nil {
		return err
	}
	if err := c.FinalDue.Validate("final_due"); err != nil {
		return err
	}
	if c.FinalDue != "" && c.Quality == QualityFinal {
		return Invalid("final_due", "not_final", "a final figure has no final figure still due")
	}
	return CheckText("note", c.Note, false, MaxLongText)
}

type CorrectFigure struct {
	IndicatorID string   `json:"indicator_id"`
	Corrects    string   `json:"corrects"`
	Value       *Decimal `json:"value,omitempty"`
	Numerator   *Decimal `json:"numerator,omitempty"`
	Denominator *Decimal `json:"denominator,omitempty"`
	Quality     Quality  `json:"quality,omitempty"`
	Source      *Source  `json:"source,omitempty"`
	Reason      string   `json:"reason"`
}

func (c CorrectFigure) Target() AggregateRef     { return indicatorRef(c.IndicatorID) }
func (c CorrectFigure) Requires() []AggregateRef { return nil }
func (c CorrectFigure) CommandName() string      { return "indicator.correct_figure" }
func (c CorrectFigure) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*Indicator).CorrectFigure(c)
}
func (c CorrectFigure) validate() error {
	if err := CheckText("reason", c.Reason, true, MaxLongText); err != nil {
		return err
	}
	if c.Quality != "" {
		if err := c.Quality.Validate("quality"); err != nil {
			return err
		}
	}
	if c.Source != nil {
		return c.Source.Validate("source")
	}
	return nil
}

type RetractFigure struct {
	IndicatorID string `json:"indicator_id"`
	Retracts    string `json:"retracts"`
	Reason      string `json:"reason"`
}

func (c RetractFigure) Target() AggregateRef     { return indicatorRef(c.IndicatorID) }
func (c RetractFigure) Requires() []AggregateRef { return nil }
func (c RetractFigure) CommandName() string      { return "indicator.retract_figure" }
func (c RetractFigure) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*Indicator).RetractFigure(c)
}

type WithdrawIndicator struct {
	IndicatorID string `json:"indicator_id"`
	Reason      string `json:"reason"`
}

func (c WithdrawIndicator) Target() AggregateRef     { return indicatorRef(c.IndicatorID) }
func (c WithdrawIndicator) Requires() []AggregateRef { return nil }
func (c WithdrawIndicator) CommandName() string      { return "indicator.withdraw" }
func (c WithdrawIndicator) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*Indicator).Withdraw(c)
}
