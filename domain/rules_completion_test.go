package domain

import (
	"math/big"
	"strings"
	"testing"
)

// Figures from the 2022 self-check table (seeds/000_…): each printed
// percentage must come out of actual / target with half-up rounding at the
// printed precision, and the implied target must be the only whole number
// near it that does.
func TestCompletionFromTheDocument(t *testing.T) {
	cases := []struct {
		name           string
		actual, target string
		places         int
		printed        string
		met, exceeded  bool
	}{
		{"一般制造业转型提质10家, 完成年度任务的250%", "10", "4", 0, "250", true, true},
		{"建设便民服务网点20个, 完成年度任务的133.3%", "20", "15", 1, "133.3", true, true},
		{"实现园林增绿30.94公顷, 完成年度任务的110.5%", "30.94", "28", 1, "110.5", true, true},
		{"实现揭网见绿257.1公顷, 完成年度任务的107.1%", "257.1", "240", 1, "107.1", true, true},
		{"拆除违法建设191.8万平方米, 完成年度任务的106.6%", "191.8", "180", 1, "106.6", true, true},
		{"腾退土地207.7公顷, 完成年度任务的103.9%", "207.7", "200", 1, "103.9", true, true},
		{"高新技术企业保有量需达到719家, 预计610家左右: 84.8%, 未达标", "610", "719", 1, "84.8", false, false},
		{"两区入库项目169个, 超额完成年度71个项目", "169", "71", 1, "238.0", true, true},
	}
	for _, c := range cases {
		t.Run("given "+c.name+" when computed then "+c.printed+"%", func(t *testing.T) {
			got, err := ComputeCompletion(CompletionInput{Direction: HigherIsBetter,
				Actual: MustDecimal(c.actual), Target: MustDecimal(c.target)})
			if err != nil {
				t.Fatal(err)
			}
			if p := FormatPercent(got.Ratio, c.places, HalfUp); p != c.printed {
				t.Errorf("percent %s, want %s", p, c.printed)
			}
			if got.Met != c.met || got.Exceeded != c.exceeded || got.Formula != FormulaRatio || got.Case != "" {
				t.Errorf("got %+v", got)
			}
			for _, step := range []string{"-1", "1"} {
				other := MustDecimal(c.target).Add(MustDecimal(step))
				r := new(big.Rat).Quo(MustDecimal(c.actual).Rat(), other.Rat())
				if FormatPercent(r, c.places, HalfUp) == c.printed {
					t.Errorf("target %s would print the same figure; the target is not pinned down", other)
				}
			}
		})
	}
}

func TestCompletionFormulas(t *testing.T) {
	cases := []struct {
		name          string
		in            CompletionInput
		ratio         string // "" means no ratio
		met, exceeded bool
		formula       Formula
		edge          string
	}{
		// higher is better and floors: A / T
		{"higher, behind", CompletionInput{Direction: HigherIsBetter, Actual: MustDecimal("3"), Target: MustDecimal("4")}, "3/4", false, false, FormulaRatio, ""},
		{"higher, exactly met", CompletionInput{Direction: HigherIsBetter, Formula: FormulaRatio, Actual: MustDecimal("4.0"), Target: MustDecimal("4")}, "1", true, false, FormulaRatio, ""},
		{"at_least 80%, reached 85%", CompletionInput{Direction: AtLeast, Actual: MustDecimal("85"), Target: MustDecimal("80")}, "17/16", true, true, FormulaRatio, ""},
		{"at_least 90%, reached 89.9%", CompletionInput{Direction: AtLeast, Actual: MustDecimal("89.9"), Target: MustDecimal("90")}, "899/900", false, false, FormulaRatio, ""},
		{"at_least with cap: met only", CompletionInput{Direction: AtLeast, Formula: FormulaCap, Actual: MustDecimal("95"), Target: MustDecimal("90")}, "", true, false, FormulaCap, ""},

		// lower is better
		{"two_minus, under target", CompletionInput{Direction: LowerIsBetter, Formula: FormulaTwoMinus, Actual: MustDecimal("3"), Target: MustDecimal("4")}, "5/4", true, true, FormulaTwoMinus, ""},
		{"two_minus, over target", CompletionInput{Direction: LowerIsBetter, Formula: FormulaTwoMinus, Actual: MustDecimal("3.6"), Target: MustDecimal("3")}, "4/5", false, false, FormulaTwoMinus, ""},
		{"two_minus, exactly 2T", CompletionInput{Direction: LowerIsBetter, Formula: FormulaTwoMinus, Actual: MustDecimal("8"), Target: MustDecimal("4")}, "0", false, false, FormulaTwoMinus, ""},
		{"inverse, under target", CompletionInput{Direction: LowerIsBetter, Formula: FormulaInverse, Actual: MustDecimal("13"), Target: MustDecimal("16")}, "16/13", true, true, FormulaInverse, ""},
		{"inverse, over target", CompletionInput{Direction: LowerIsBetter, Formula: FormulaInverse, Actual: MustDecimal("20"), Target: MustDecimal("16")}, "4/5", false, false, FormulaInverse, ""},
		{"inverse, target 0 and actual 5 is just 0", CompletionInput{Direction: LowerIsBetter, Formula: FormulaInverse, Actual: MustDecimal("5"), Target: MustDecimal("0")}, "0", false, false, FormulaInverse, ""},
		{"reduction, half way", CompletionInput{Direction: LowerIsBetter, Formula: FormulaReduction, Actual: MustDecimal("18"), Target: MustDecimal("16"), Baseline: rulesDecPtr("20")}, "1/2", false, false, FormulaReduction, ""},
		{"reduction, beyond required", CompletionInput{Direction: LowerIsBetter, Formula: FormulaReduction, Actual: MustDecimal("13"), Target: MustDecimal("16"), Baseline: rulesDecPtr("19")}, "2", true, true, FormulaReduction, ""},
		{"lower with cap: met only", CompletionInput{Direction: LowerIsBetter, Formula: FormulaCap, Actual: MustDecimal("3"), Target: MustDecimal("4")}, "", true, false, FormulaCap, ""},

		// caps (不超过)
		{"at_most defaults to cap, under", CompletionInput{Direction: AtMost, Actual: MustDecimal("3.6"), Target: MustDecimal("4")}, "", true, false, FormulaCap, ""},
		{"at_most at the cap is met", CompletionInput{Direction: AtMost, Actual: MustDecimal("4"), Target: MustDecimal("4.00")}, "", true, false, FormulaCap, ""},
		{"at_most over the cap", CompletionInput{Direction: AtMost, Actual: MustDecimal("4.1"), Target: MustDecimal("4")}, "", false, false, FormulaCap, ""},
		{"at_most with an explicit ratio formula", CompletionInput{Direction: AtMost, Formula: FormulaInverse, Actual: MustDecimal("3"), Target: MustDecimal("4")}, "4/3", true, true, FormulaInverse, ""},

		// ranges
		{"range, inside", CompletionInput{Direction: WithinRange, Actual: MustDecimal("5"), Low: rulesDecPtr("3"), High: rulesDecPtr("6")}, "", true, false, FormulaCap, ""},
		{"range, on the low bound", CompletionInput{Direction: WithinRange, Actual: MustDecimal("3"), Low: rulesDecPtr("3"), High: rulesDecPtr("6")}, "", true, false, FormulaCap, ""},
		{"range, above", CompletionInput{Direction: WithinRange, Formula: FormulaCap, Actual: MustDecimal("6.01"), Low: rulesDecPtr("3"), High: rulesDecPtr("6")}, "", false, false, FormulaCap, ""},
		{"range, a single point", CompletionInput{Direction: WithinRange, Actual: MustDecimal("3"), Low: rulesDecPtr("3"), High: rulesDecPtr("3.0")}, "", true, false, FormulaCap, ""},
	}
	for _, c := range cases {
		t.Run("given "+c.name+" when computed then ratio "+c.ratio, func(t *testing.T) {
			rulesCheckCompletion(t, c.in, c.ratio, c.met, c.exceeded, c.formula, c.edge)
		})
	}
}

// Every defined edge case of the table in ComputeCompletion's comment.
func TestCompletionEdgeCases(t *testing.T) {
	zero, five, four := MustDecimal("0"), MustDecimal("5"), MustDecimal("4")
	cases := []struct {
		name          string
		in            CompletionInput
		ratio         string
		met, exceeded bool
		edge          string
	}{
		{"ratio, target 0 and actual 0", CompletionInput{Direction: HigherIsBetter, Actual: zero, Target: zero}, "1", true, false, CaseTargetZeroActualZero},
		{"ratio, target 0 and actual 5", CompletionInput{Direction: HigherIsBetter, Actual: five, Target: zero}, "", true, true, CaseTargetZeroActualPositive},
		{"ratio, actual 0 against target 4 is plain 0%", CompletionInput{Direction: HigherIsBetter, Actual: zero, Target: four}, "0", false, false, ""},
		{"at_least, target 0 and actual 0", CompletionInput{Direction: AtLeast, Actual: zero, Target: zero}, "1", true, false, CaseTargetZeroActualZero},
		{"two_minus, target 0 and actual 0", CompletionInput{Direction: LowerIsBetter, Formula: FormulaTwoMinus, Actual: zero, Target: zero}, "1", true, false, CaseTargetZeroActualZero},
		{"two_minus, zero tolerance broken", CompletionInput{Direction: LowerIsBetter, Formula: FormulaTwoMinus, Actual: five, Target: zero}, "0", false, false, CaseTargetZeroActualPositive},
		{"two_minus, actual 0 against target 4 is 200%", CompletionInput{Direction: LowerIsBetter, Formula: FormulaTwoMinus, Actual: zero, Target: four}, "2", true, true, ""},
		{"two_minus, more than twice the target", CompletionInput{Direction: LowerIsBetter, Formula: FormulaTwoMinus, Actual: MustDecimal("9"), Target: four}, "0", false, false, CaseFlooredAtZero},
		{"inverse, target 0 and actual 0", CompletionInput{Direction: LowerIsBetter, Formula: FormulaInverse, Actual: zero, Target: zero}, "1", true, false, CaseTargetZeroActualZero},
		{"inverse, actual 0 against target 4", CompletionInput{Direction: LowerIsBetter, Formula: FormulaInverse, Actual: zero, Target: four}, "", true, true, CaseActualZero},
		{"reduction, nothing required and nothing changed", CompletionInput{Direction: LowerIsBetter, Formula: FormulaReduction, Actual: four, Target: four, Baseline: rulesDecPtr("4")}, "1", true, false, CaseNoReductionRequired},
		{"reduction, nothing required and all zero", CompletionInput{Direction: LowerIsBetter, Formula: FormulaReduction, Actual: zero, Target: zero, Baseline: rulesDecPtr("0")}, "1", true, false, CaseNoReductionRequired},
		{"reduction, nothing required but reduced anyway", CompletionInput{Direction: LowerIsBetter, Formula: FormulaReduction, Actual: MustDecimal("3"), Target: four, Baseline: rulesDecPtr("4")}, "", true, true, CaseNoReductionRequired},
		{"reduction, nothing required and it got worse", CompletionInput{Direction: LowerIsBetter, Formula: FormulaReduction, Actual: five, Target: four, Baseline: rulesDecPtr("4")}, "0", false, false, CaseNoReductionRequired},
		{"reduction, worse than the baseline", CompletionInput{Direction: AtMost, Formula: FormulaReduction, Actual: MustDecimal("21"), Target: MustDecimal("16"), Baseline: rulesDecPtr("20")}, "0", false, false, CaseFlooredAtZero},
		{"reduction, reduced to zero against target zero", CompletionInput{Direction: LowerIsBetter, Formula: FormulaReduction, Actual: zero, Target: zero, Baseline: rulesDecPtr("3")}, "1", true, false, ""},
		{"ratio, negative actual", CompletionInput{Direction: HigherIsBetter, Actual: MustDecimal("-2"), Target: MustDecimal("5")}, "", false, false, CaseNegativeValue},
		{"ratio, negative target", CompletionInput{Direction: AtLeast, Actual: MustDecimal("1"), Target: MustDecimal("-1")}, "", true, true, CaseNegativeValue},
		{"two_minus, negative actual", CompletionInput{Direction: LowerIsBetter, Formula: FormulaTwoMinus, Actual: MustDecimal("-1"), Target: four}, "", true, true, CaseNegativeValue},
		{"inverse, negative target", CompletionInput{Direction: LowerIsBetter, Formula: FormulaInverse, Actual: four, Target: MustDecimal("-4")}, "", false, false, CaseNegativeValue},
		{"reduction, negative values are fine", CompletionInput{Direction: LowerIsBetter, Formula: FormulaReduction, Actual: MustDecimal("-3"), Target: MustDecimal("-2"), Baseline: rulesDecPtr("0")}, "3/2", true, true, ""},
	}
	for _, c := range cases {
		t.Run("given "+c.name+" when computed then case "+c.edge, func(t *testing.T) {
			rulesCheckCompletion(t, c.in, c.ratio, c.met, c.exceeded, "", c.edge)
		})
	}
}

// Whatever the inputs, a ratio, when there is one, agrees with Met and
// Exceeded: the formulas differ only in how far from 1 they land.
func TestCompletionRatioAgreesWithMet(t *testing.T) {
	values := []string{"0", "0.5", "1", "2", "3", "7.25"}
	formulas := map[Formula]Direction{FormulaRatio: HigherIsBetter, FormulaTwoMinus: LowerIsBetter,
		FormulaInverse: LowerIsBetter, FormulaReduction: AtMost}
	for formula, direction := range formulas {
		for _, a := range values {
			for _, tg := range values {
				for _, b := range values {
					if MustDecimal(b).Cmp(MustDecimal(tg)) < 0 {
						continue
					}
					in := CompletionInput{Direction: direction, Formula: formula, Actual: MustDecimal(a), Target: MustDecimal(tg), Baseline: rulesDecPtr(b)}
					c, err := ComputeCompletion(in)
					if err != nil {
						t.Fatalf("%s A=%s T=%s B=%s: %v", formula, a, tg, b, err)
					}
					if c.Ratio == nil {
						continue
					}
					one := big.NewRat(1, 1)
					if (c.Ratio.Cmp(one) >= 0) != c.Met || (c.Ratio.Cmp(one) > 0) != c.Exceeded || c.Ratio.Sign() < 0 {
						t.Errorf("%s A=%s T=%s B=%s: ratio %s but met %v exceeded %v", formula, a, tg, b, c.Ratio.RatString(), c.Met, c.Exceeded)
					}
				}
			}
		}
	}
}

func TestCompletionErrors(t *testing.T) {
	cases := []struct {
		name string
		in   CompletionInput
		want string
	}{
		{"qualitative", CompletionInput{Direction: Qualitative}, `Direction "qualitative" has no completion ratio (rule 1`},
		{"unknown direction", CompletionInput{Direction: "sideways"}, `Direction "sideways": want one of higher, lower, at_least, at_most, range, qualitative`},
		{"empty direction", CompletionInput{}, `Direction "": want one of`},
		{"lower without formula", CompletionInput{Direction: LowerIsBetter}, `Formula is required for Direction "lower" (rule 3`},
		{"ratio for lower", CompletionInput{Direction: LowerIsBetter, Formula: FormulaRatio}, `Formula "ratio" is not valid for Direction "lower" (allowed: two_minus_ratio, inverse_ratio, reduction, cap)`},
		{"two_minus for higher", CompletionInput{Direction: HigherIsBetter, Formula: FormulaTwoMinus}, `Formula "two_minus_ratio" is not valid for Direction "higher" (allowed: ratio)`},
		{"unknown formula", CompletionInput{Direction: AtMost, Formula: "magic"}, `Formula "magic" is not valid for Direction "at_most"`},
		{"ratio for range", CompletionInput{Direction: WithinRange, Formula: FormulaRatio, Low: rulesDecPtr("1"), High: rulesDecPtr("2")}, `Formula "ratio" is not valid for Direction "range"`},
		{"reduction without baseline", CompletionInput{Direction: LowerIsBetter, Formula: FormulaReduction, Actual: MustDecimal("3"), Target: MustDecimal("2")}, `Baseline is required for formula "reduction", which computes (B − A)/(B − T)`},
		{"reduction with baseline below target", CompletionInput{Direction: AtMost, Formula: FormulaReduction, Actual: MustDecimal("3"), Target: MustDecimal("12"), Baseline: rulesDecPtr("10")}, `Baseline 10 is below Target 12; formula "reduction" needs Baseline >= Target`},
		{"range without high", CompletionInput{Direction: WithinRange, Low: rulesDecPtr("1")}, `Low and High are both required for Direction "range"`},
		{"range without bounds", CompletionInput{Direction: WithinRange}, `Low and High are both required`},
		{"range upside down", CompletionInput{Direction: WithinRange, Low: rulesDecPtr("6"), High: rulesDecPtr("3")}, `Low 6 is above High 3; Direction "range" needs Low <= High`},
	}
	for _, c := range cases {
		t.Run("given "+c.name+" when computed then error names the field and rule", func(t *testing.T) {
			got, err := ComputeCompletion(c.in)
			if err == nil {
				t.Fatalf("expected an error, got %+v", got)
			}
			if !strings.HasPrefix(err.Error(), "completion: ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

func TestParseDirectionAndFormula(t *testing.T) {
	for _, d := range allDirections {
		t.Run("given direction "+string(d)+" then it parses", func(t *testing.T) {
			if got, err := ParseDirection(string(d)); err != nil || got != d {
				t.Errorf("got %q, %v", got, err)
			}
		})
	}
	for _, f := range allFormulas {
		t.Run("given formula "+string(f)+" then it parses", func(t *testing.T) {
			if got, err := ParseFormula(string(f)); err != nil || got != f {
				t.Errorf("got %q, %v", got, err)
			}
		})
	}
	for _, bad := range []string{"", "Higher", "不低于"} {
		t.Run("given direction "+bad+" then error lists the choices", func(t *testing.T) {
			if _, err := ParseDirection(bad); err == nil || !strings.Contains(err.Error(), "want one of higher, lower") {
				t.Errorf("got %v", err)
			}
		})
	}
	t.Run("given an unknown formula then error lists the choices", func(t *testing.T) {
		if _, err := ParseFormula("2-a/t"); err == nil || !strings.Contains(err.Error(), "want one of ratio, two_minus_ratio") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("given lower-is-better then every formula but ratio is allowed", func(t *testing.T) {
		got := AllowedFormulas(LowerIsBetter)
		if len(got) != 4 || got[0] != FormulaTwoMinus {
			t.Errorf("got %v", got)
		}
		got[0] = "scribbled"
		if AllowedFormulas(LowerIsBetter)[0] != FormulaTwoMinus {
			t.Error("AllowedFormulas hands out its internal slice")
		}
		if AllowedFormulas(Qualitative) != nil {
			t.Error("qualitative has no formulas")
		}
	})
}

// rulesCheckCompletion checks a result; an empty formula skips that check.
func rulesCheckCompletion(t *testing.T, in CompletionInput, ratio string, met, exceeded bool, formula Formula, edge string) {
	t.Helper()
	got, err := ComputeCompletion(in)
	if err != nil {
		t.Fatal(err)
	}
	var want *big.Rat
	if ratio != "" {
		want = rulesRat(t, ratio)
	}
	if !rulesSameRat(got.Ratio, want) {
		t.Errorf("ratio %s, want %s", rulesRatString(got.Ratio), rulesRatString(want))
	}
	if got.Met != met || got.Exceeded != exceeded {
		t.Errorf("met %v exceeded %v, want %v %v", got.Met, got.Exceeded, met, exceeded)
	}
	if formula != "" && got.Formula != formula {
		t.Errorf("formula %q, want %q", got.Formula, formula)
	}
	if got.Case != edge {
		t.Errorf("case %q, want %q", got.Case, edge)
	}
}
