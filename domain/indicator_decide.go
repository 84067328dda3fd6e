package domain

import (
	"math/big"
)

// Define decides indicator.defined; the task must exist and be active.
func (in *Indicator) Define(c DefineIndicator, task *Task, total *Indicator) ([]Event, error) {
	if in.defined {
		return nil, &Error{Code: ECONFLICT, Field: "indicator_id", Rule: "exists", Version: in.version, Message: "indicator " + in.id + " is already defined"}
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	if !task.Exists() {
		return nil, NotFound("task %s is not registered", c.TaskID)
	}
	if task.Status() == TaskStatusWithdrawn {
		return nil, RuleViolation("task_id", "task_withdrawn", "task %s is withdrawn", c.TaskID)
	}
	key := c.IndicatorKey()
	if total != nil {
		// A part adds up with the others to its total: the same year and
		// unit, and a total that is one.
		switch {
		case !total.Exists():
			return nil, NotFound("indicator %s (part_of) is not defined", c.PartOf)
		case total.withdrawn:
			return nil, RuleViolation("part_of", "indicator_withdrawn", "indicator %s is withdrawn", c.PartOf)
		case total.year != task.Year():
			return nil, RuleViolation("part_of", "same_year", "indicator %s is for %d, this one for %d", c.PartOf, total.year, task.Year())
		case total.unit != c.Unit:
			return nil, RuleViolation("part_of", "same_unit", "indicator %s is in %q, this one in %q", c.PartOf, total.unit, c.Unit)
		case total.partOf != "":
			return nil, RuleViolation("part_of", "nested", "indicator %s is itself a part of %s", c.PartOf, total.partOf)
		}
	}
	if c.keyUsesKnown {
		if err := CheckKeyUse(key, c.keyUses, c.Unit, c.Direction, c.Conversion); err != nil {
			return nil, err
		}
	}
	return []Event{&IndicatorDefined{TaskID: c.TaskID, Year: task.Year(), Key: key, Name: c.Name, Unit: c.Unit,
		Direction: c.Direction, Formula: c.formula(), Additive: c.Additive, IsRate: c.IsRate || c.Unit == "%",
		AllowNegative: c.AllowNegative, Cadence: c.Cadence, Rounding: c.Rounding, Baseline: c.Baseline, Description: c.Description,
		PartOf: c.PartOf, SumTolerance: c.SumTolerance, OutlierBand: c.OutlierBand, Conversion: c.Conversion,
		UnitID: task.unit}}, nil
}

// SetTarget decides indicator.target_set: the first target, or a revision
// that must give its reason.
func (in *Indicator) SetTarget(c SetTarget) ([]Event, error) {
	if err := in.mustBeDefined(); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	t := Target{Value: c.Value, Low: c.Low, High: c.High, Milestone: c.Milestone}
	switch in.direction {
	case WithinRange:
		if t.Low == nil || t.High == nil {
			return nil, Invalid("low", "required", "a range target needs low and high")
		}
		if t.Low.Cmp(*t.High) > 0 {
			return nil, Invalid("low", "order", "low %s is above high %s", t.Low, t.High)
		}
	case Qualitative:
		if t.Milestone == "" {
			return nil, Invalid("milestone", "required", "a qualitative indicator's target is a milestone")
		}
	default:
		if t.Value == nil {
			return nil, Invalid("value", "required", "a %s indicator needs a target value", in.direction)
		}
	}
	for _, f := range []struct {
		name string
		v    *Decimal
	}{{"value", t.Value}, {"low", t.Low}, {"high", t.High}} {
		if f.v != nil {
			if err := in.checkValue(f.name, *f.v); err != nil {
				return nil, err
			}
		}
	}
	ev := &IndicatorTargetSet{Value: t.Value, Low: t.Low, High: t.High, Milestone: t.Milestone, Reason: c.Reason, Source: c.Source}
	if in.target != nil {
		if c.Reason == "" {
			return nil, Invalid("reason", "required", "revising a target needs a reason")
		}
		prev := *in.target
		ev.Revision, ev.Previous = true, &prev
	}
	return []Event{ev}, nil
}

// RecordBase decides indicator.base_recorded: the comparison base for year
// over year. A second base for the same window is a restatement and needs a
// reason.
func (in *Indicator) RecordBase(c RecordBase) ([]Event, error) {
	if err := in.mustBeDefined(); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	w := c.Window.Normalize()
	if w.Year >= in.year {
		return nil, Invalid("window.year", "before_year", "a comparison base is from before %d, got %d", in.year, w.Year)
	}
	if err := in.checkValue("value", *c.Value); err != nil {
		return nil, err
	}
	ev := &IndicatorBaseRecorded{Window: w, Value: *c.Value, Quality: c.Quality, Source: c.Source, Reason: c.Reason}
	if prev, ok := in.bases[w.Key()]; ok {
		if c.Reason == "" {
			return nil, Invalid("reason", "required", "restating the %s base needs a reason", w.Key())
		}
		ev.Restated, ev.Previous = true, &prev
	}
	return []Event{ev}, nil
}

// ReportFigure decides indicator.figure_reported. A report for a window that
// already has a figure supersedes it, but only with a quality at least as
// settled: an estimate never replaces a final figure, and a final figure is
// only changed by a correction.
func (in *Indicator) ReportFigure(c ReportFigure) ([]Event, error) {
	if err := in.mustBeDefined(); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	w := c.Window.Normalize()
	if w.Year != in.year {
		return nil, Invalid("window.year", "assessment_year", "indicator %s is for %d, the window is in %d", in.id, in.year, w.Year)
	}
	value, err := in.figureValue(c.Value, c.Numerator, c.Denominator)
	if err != nil {
		return nil, err
	}
	ev := &FigureReported{Window: w, Value: value, Numerator: c.Numerator, Denominator: c.Denominator,
		Quality: c.Quality, Source: c.Source, FinalDue: c.FinalDue, Note: c.Note}
	if cur, ok := in.Current(w); ok {
		if err := figureLocked("window", in.node(cur)); err != nil {
			return nil, err
		}
		if cur.Quality.Rank() >= QualityFinal.Rank() {
			return nil, RuleViolation("quality", "final_is_corrected", "window %s already has a %s figure (%s); correct it instead", w.Key(), cur.Quality, cur.EventID)
		}
		if c.Quality.Rank() < cur.Quality.Rank() {
			return nil, RuleViolation("quality", "no_downgrade", "a %s figure cannot supersede the %s figure %s", c.Quality, cur.Quality, cur.EventID)
		}
		ev.Supersedes = cur.EventID
	}
	return []Event{ev}, nil
}

// CorrectFigure decides indicator.figure_corrected against the current
// figure named by Corrects.
func (in *Indicator) CorrectFigure(c CorrectFigure) ([]Event, error) {
	if err := in.mustBeDefined(); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	old, err := in.currentFigure("corrects", c.Corrects)
	if err != nil {
		return nil, err
	}
	value, err := in.figureValue(c.Value, c.Numerator, c.Denominator)
	if err != nil {
		return nil, err
	}
	settled := old.Quality.Rank() >= QualityFinal.Rank()
	q := c.Quality
	switch {
	case q == "" && settled:
		q = QualityRevised
	case q == "":
		q = old.Quality
	case settled && q != QualityRevised:
		// A corrected final figure is a revised figure, never final again
		// and never an estimate: the audit must show it was changed.
		return nil, RuleViolation("quality", "revised_after_final", "a correction of the %s figure %s has quality revised, got %s", old.Quality, old.EventID, q)
	case q.Rank() < old.Quality.Rank():
		return nil, RuleViolation("quality", "no_downgrade", "a correction cannot lower the quality of %s from %s to %s", old.EventID, old.Quality, q)
	}
	sameValue := value.Cmp(old.Value) == 0 && value.String() == old.Value.String()
	if sameValue && (settled || q == old.Quality) {
		return nil, RuleViolation("value", "no_change", "the correction does not change the value of %s", old.EventID)
	}
	src := old.Source
	if c.Source != nil {
		src = *c.Source
	}
	return []Event{&FigureCorrected{Corrects: old.EventID, Window: old.Window, OldValue: old.Value, NewValue: value,
		OldQuality: old.Quality, NewQuality: q, Numerator: c.Numerator, Denominator: c.Denominator, Source: src, Reason: c.Reason}}, nil
}

// RetractFigure decides indicator.figure_retracted.
func (in *Indicator) RetractFigure(c RetractFigure) ([]Event, error) {
	if err := in.mustBeDefined(); err != nil {
		return nil, err
	}
	if err := CheckText("reason", c.Reason, true, MaxLongText); err != nil {
		return nil, err
	}
	old, err := in.currentFigure("retracts", c.Retracts)
	if err != nil {
		return nil, err
	}
	return []Event{&FigureRetracted{Retracts: old.EventID, Window: old.Window, OldValue: old.Value, Reason: c.Reason}}, nil
}

func (in *Indicator) Withdraw(c WithdrawIndicator) ([]Event, error) {
	if err := in.mustBeDefined(); err != nil {
		return nil, err
	}
	if err := CheckText("reason", c.Reason, true, MaxLongText); err != nil {
		return nil, err
	}
	return []Event{&IndicatorWithdrawn{Reason: c.Reason}}, nil
}

func (in *Indicator) currentFigure(field, eventID string) (*Figure, error) {
	if eventID == "" {
		return nil, Invalid(field, "required", "name the event id of the figure")
	}
	f, ok := in.figures[eventID]
	if !ok {
		return nil, NotFound("figure %s is not recorded on indicator %s", eventID, in.id)
	}
	if f.State != FigureStateCurrent {
		hint := ""
		if cur, ok := in.current[f.Window.Key()]; ok {
			hint = "; the current figure is " + cur
		}
		return nil, RuleViolation(field, "not_current", "figure %s is %s%s", eventID, f.State, hint)
	}
	if err := figureLocked(field, in.node(*f)); err != nil {
		return nil, err
	}
	return f, nil
}

// node is what the state machines know of a figure.
func (in *Indicator) node(f Figure) FigureNode {
	n, _, _ := indicatorBook{in}.FigureNode(f.EventID)
	return n
}

// figureValue checks a figure and derives it from a numerator and
// denominator when given (rule 6: store both, derive the ratio). A value
// given alongside them must agree at its own precision, rounded with the
// indicator's rounding mode (rule 5).
func (in *Indicator) figureValue(v, num, den *Decimal) (Decimal, error) {
	if (num == nil) != (den == nil) {
		return Decimal{}, Invalid("denominator", "pair", "numerator and denominator go together")
	}
	if num != nil {
		if num.Sign() < 0 {
			return Decimal{}, Invalid("numerator", "non_negative", "must be >= 0, got %s", num)
		}
		if den.Sign() <= 0 {
			return Decimal{}, Invalid("denominator", "positive", "must be > 0, got %s", den)
		}
		ratio := new(big.Rat).Quo(num.Rat(), den.Rat())
		if in.unit == "%" {
			ratio.Mul(ratio, big.NewRat(100, 1))
		}
		// The indicator's own rounding (GB/T 8170 half-even, or half-up)
		// decides what the ratio reads as at the value's precision: 1/8 is
		// 12.5%, which half-even writes 12 and half-up 13.
		if v == nil {
			d := RoundRat(ratio, 4, in.rounding)
			v = &d
		} else if RoundRat(ratio, v.Scale(), in.rounding).Cmp(*v) != 0 {
			return Decimal{}, Invalid("value", "ratio_mismatch", "value %s disagrees with %s / %s", v, num, den)
		}
	}
	if v == nil {
		return Decimal{}, Invalid("value", "required", "a figure needs a value")
	}
	if err := in.checkValue("value", *v); err != nil {
		return Decimal{}, err
	}
	return *v, nil
}
