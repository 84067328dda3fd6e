package domain

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
)

// Direction says which way is good for an indicator (rule 1).
type Direction string

const (
	HigherIsBetter Direction = "higher"      // 企业数, 达标天数
	LowerIsBetter  Direction = "lower"       // 事故, 死亡人数, 重污染天数, 降尘量
	AtLeast        Direction = "at_least"    // 不低于: a floor
	AtMost         Direction = "at_most"     // 不超过: a cap
	WithinRange    Direction = "range"       // inside [Low, High]
	Qualitative    Direction = "qualitative" // milestones and narrative: no ratio
)

var allDirections = []Direction{HigherIsBetter, LowerIsBetter, AtLeast, AtMost, WithinRange, Qualitative}

func ParseDirection(s string) (Direction, error) {
	if d := Direction(s); slices.Contains(allDirections, d) {
		return d, nil
	}
	return "", fmt.Errorf("direction %q: want one of %s", s, listChoices(allDirections))
}

// Formula is how a completion ratio is derived. Rule 3: for lower-is-better
// there is no formula everyone agrees on, so it is chosen per indicator and
// recorded with every ratio derived from it.
type Formula string

const (
	FormulaRatio     Formula = "ratio"           // A / T
	FormulaTwoMinus  Formula = "two_minus_ratio" // 2 − A / T
	FormulaInverse   Formula = "inverse_ratio"   // T / A
	FormulaReduction Formula = "reduction"       // (B − A) / (B − T): reduction achieved against reduction required
	FormulaCap       Formula = "cap"             // met / not met only, no ratio
)

var allFormulas = []Formula{FormulaRatio, FormulaTwoMinus, FormulaInverse, FormulaReduction, FormulaCap}

func ParseFormula(s string) (Formula, error) {
	if f := Formula(s); slices.Contains(allFormulas, f) {
		return f, nil
	}
	return "", fmt.Errorf("formula %q: want one of %s", s, listChoices(allFormulas))
}

// formulasFor lists what each direction allows; the first entry is the
// default for an empty Formula, except for LowerIsBetter, which has no
// default because rule 3 demands an explicit choice.
var formulasFor = map[Direction][]Formula{
	HigherIsBetter: {FormulaRatio},
	AtLeast:        {FormulaRatio, FormulaCap},
	LowerIsBetter:  {FormulaTwoMinus, FormulaInverse, FormulaReduction, FormulaCap},
	AtMost:         {FormulaCap, FormulaTwoMinus, FormulaInverse, FormulaReduction},
	WithinRange:    {FormulaCap},
}

// AllowedFormulas lists the formulas valid for d, for forms and importers.
func AllowedFormulas(d Direction) []Formula {
	return slices.Clone(formulasFor[d])
}

// Stable codes for Completion.Case. They are stored with derived figures,
// so they are never renamed.
const (
	CaseTargetZeroActualZero     = "target_zero_actual_zero"
	CaseTargetZeroActualPositive = "target_zero_actual_positive"
	CaseActualZero               = "actual_zero"
	CaseNoReductionRequired      = "no_reduction_required"
	CaseFlooredAtZero            = "floored_at_zero"
	CaseNegativeValue            = "negative_value"
)

// Completion is a derived figure: it carries the formula and the edge case
// it rests on, so a reader can tell how "250%" came about.
type Completion struct {
	Ratio    *big.Rat // plain ratio (2.5 = 250%); nil when the formula defines none
	Met      bool
	Exceeded bool // strictly better than the target; never set by FormulaCap
	Formula  Formula
	Case     string // "" for the normal case, else one of the Case* codes
}

type CompletionInput struct {
	Direction      Direction
	Formula        Formula // empty: the direction's default (see formulasFor)
	Actual, Target Decimal
	Baseline       *Decimal // B, required by FormulaReduction
	Low, High      *Decimal // inclusive bounds, required by WithinRange; Target is ignored there
}

// ComputeCompletion derives the completion of one indicator. Met and Exceeded
// always come from comparing Actual with Target (or Low/High), so they hold
// even when no ratio can be defined. Whenever a ratio exists, Met is
// ratio >= 1 and Exceeded is ratio > 1.
//
// Zero and negative cases (rule 3: never a division by zero, never Inf):
//
//	formula          case                           when                  ratio
//	ratio A/T        target_zero_actual_zero        T = 0, A = 0          1    nothing asked, nothing done: met
//	ratio A/T        target_zero_actual_positive    T = 0, A > 0          nil  unbounded; met and exceeded
//	two_minus 2−A/T  target_zero_actual_zero        T = 0, A = 0          1    zero tolerance kept: met
//	two_minus 2−A/T  target_zero_actual_positive    T = 0, A > 0          0    zero tolerance broken: not met
//	two_minus 2−A/T  floored_at_zero                A > 2T                0    a completion below 0% means nothing
//	inverse T/A      target_zero_actual_zero        T = 0, A = 0          1    met
//	inverse T/A      actual_zero                    A = 0, T > 0          nil  unbounded; met and exceeded
//	(T = 0, A > 0 needs no case: T/A is simply 0)
//	reduction        no_reduction_required          B = T, A = B          1    held the line: met
//	reduction        no_reduction_required          B = T, A < B          nil  unbounded; met and exceeded
//	reduction        no_reduction_required          B = T, A > B          0    got worse: not met
//	reduction        floored_at_zero                A > B (B > T)         0    got worse than the baseline
//	ratio, two_minus, inverse  negative_value       A < 0 or T < 0        nil  a share of a negative target means nothing
//	cap, range       ""                             always                nil  met / not met only
//
// Errors name the field and the rule: an unknown or qualitative Direction, a
// Formula not allowed for the Direction, LowerIsBetter without a Formula,
// FormulaReduction without Baseline or with Baseline < Target, WithinRange
// without Low and High or with Low > High.
func ComputeCompletion(in CompletionInput) (Completion, error) {
	formula, err := resolveFormula(in.Direction, in.Formula)
	if err != nil {
		return Completion{}, err
	}
	if in.Direction == WithinRange {
		return completeWithinRange(in, formula)
	}
	met, better := compareWithTarget(in.Direction, in.Actual, in.Target)
	c := Completion{Met: met, Exceeded: better && formula != FormulaCap, Formula: formula}
	a, t := in.Actual.Rat(), in.Target.Rat()
	switch formula {
	case FormulaRatio:
		c.Ratio, c.Case = actualOverTarget(a, t)
	case FormulaTwoMinus:
		c.Ratio, c.Case = twoMinusRatio(a, t)
	case FormulaInverse:
		c.Ratio, c.Case = targetOverActual(a, t)
	case FormulaReduction:
		if in.Baseline == nil {
			return Completion{}, fmt.Errorf("completion: Baseline is required for formula %q, which computes (B − A)/(B − T)", formula)
		}
		if in.Baseline.Cmp(in.Target) < 0 {
			return Completion{}, fmt.Errorf("completion: Baseline %s is below Target %s; formula %q needs Baseline >= Target (the required reduction B − T cannot be negative)",
				in.Baseline, in.Target, formula)
		}
		c.Ratio, c.Case = reductionRatio(in.Baseline.Rat(), a, t)
	}
	return c, nil
}

func resolveFormula(d Direction, f Formula) (Formula, error) {
	if d == Qualitative {
		return "", fmt.Errorf("completion: Direction %q has no completion ratio (rule 1: milestones and narrative are tracked, not computed)", d)
	}
	allowed, ok := formulasFor[d]
	if !ok {
		return "", fmt.Errorf("completion: Direction %q: want one of %s", d, listChoices(allDirections))
	}
	if f == "" {
		if d == LowerIsBetter {
			return "", fmt.Errorf("completion: Formula is required for Direction %q (rule 3: there is no single formula; choose one of %s)", d, listChoices(allowed))
		}
		return allowed[0], nil
	}
	if !slices.Contains(allowed, f) {
		return "", fmt.Errorf("completion: Formula %q is not valid for Direction %q (allowed: %s)", f, d, listChoices(allowed))
	}
	return f, nil
}

func completeWithinRange(in CompletionInput, formula Formula) (Completion, error) {
	if in.Low == nil || in.High == nil {
		return Completion{}, fmt.Errorf("completion: Low and High are both required for Direction %q", in.Direction)
	}
	if in.Low.Cmp(*in.High) > 0 {
		return Completion{}, fmt.Errorf("completion: Low %s is above High %s; Direction %q needs Low <= High", in.Low, in.High, in.Direction)
	}
	met := in.Actual.Cmp(*in.Low) >= 0 && in.Actual.Cmp(*in.High) <= 0
	return Completion{Met: met, Formula: formula}, nil
}

func compareWithTarget(d Direction, actual, target Decimal) (met, better bool) {
	c := actual.Cmp(target)
	if d == LowerIsBetter || d == AtMost {
		c = -c
	}
	return c >= 0, c > 0
}

func actualOverTarget(a, t *big.Rat) (*big.Rat, string) {
	switch {
	case a.Sign() < 0 || t.Sign() < 0:
		return nil, CaseNegativeValue
	case t.Sign() > 0:
		return new(big.Rat).Quo(a, t), ""
	case a.Sign() == 0:
		return big.NewRat(1, 1), CaseTargetZeroActualZero
	default:
		return nil, CaseTargetZeroActualPositive
	}
}

func twoMinusRatio(a, t *big.Rat) (*big.Rat, string) {
	switch {
	case a.Sign() < 0 || t.Sign() < 0:
		return nil, CaseNegativeValue
	case t.Sign() == 0 && a.Sign() == 0:
		return big.NewRat(1, 1), CaseTargetZeroActualZero
	case t.Sign() == 0:
		return new(big.Rat), CaseTargetZeroActualPositive
	}
	r := new(big.Rat).Sub(big.NewRat(2, 1), new(big.Rat).Quo(a, t))
	if r.Sign() < 0 {
		return new(big.Rat), CaseFlooredAtZero
	}
	return r, ""
}

func targetOverActual(a, t *big.Rat) (*big.Rat, string) {
	switch {
	case a.Sign() < 0 || t.Sign() < 0:
		return nil, CaseNegativeValue
	case a.Sign() > 0:
		return new(big.Rat).Quo(t, a), ""
	case t.Sign() == 0:
		return big.NewRat(1, 1), CaseTargetZeroActualZero
	default:
		return nil, CaseActualZero
	}
}

// reductionRatio expects b >= t (checked by the caller).
func reductionRatio(b, a, t *big.Rat) (*big.Rat, string) {
	required := new(big.Rat).Sub(b, t)
	achieved := new(big.Rat).Sub(b, a)
	if required.Sign() == 0 {
		switch achieved.Sign() {
		case 0:
			return big.NewRat(1, 1), CaseNoReductionRequired
		case 1:
			return nil, CaseNoReductionRequired
		default:
			return new(big.Rat), CaseNoReductionRequired
		}
	}
	if achieved.Sign() < 0 {
		return new(big.Rat), CaseFlooredAtZero
	}
	return achieved.Quo(achieved, required), ""
}

func listChoices[T ~string](choices []T) string {
	names := make([]string, len(choices))
	for i, c := range choices {
		names[i] = string(c)
	}
	return strings.Join(names, ", ")
}
