package domain

import (
	"fmt"
	"math/big"
	"sort"
	"strings"
)

// Warnings: validation that flags instead of refusing. A figure that is
// possible but suspicious (a share above 100%, cumulative months going
// down, a value ten thousand times last year's) is recorded as reported and
// carries a warning, which a department or the office explains with a
// reason (indicator.warning_explained). The rules are declared here once,
// with their ids and severities, and evaluated by the read models on the
// facts they hold (EvaluateWarnings is pure).

// WarningRule is one declarative validation rule.
type WarningRule struct {
	ID       string `json:"id"`
	Severity string `json:"severity"` // error: cannot be right as it stands; warning: look at it
	Summary  string `json:"summary"`
}

// The rules. Ids are stored with warnings and explanations: never rename.
var WarningRules = []WarningRule{
	{"parts_sum", "warning", "the parts (part_of) of a total add up to it within the total's sum_tolerance, window by window"},
	{"share_range", "error", "a share (unit %, not negative) lies within 0–100"},
	{"share_numerator", "error", "a share's numerator is at most its denominator"},
	{"cumulative_decrease", "warning", "an additive indicator's cumulative windows from January never go down as they grow"},
	{"outlier", "warning", "a figure's ratio to the previous period, or to the same window of the year before, lies within the indicator's outlier_band (default 10×)"},
	{"key_unit", "error", "every year measures an indicator key in the same unit, unless a conversion from the other unit is declared"},
	{"key_direction", "error", "every year measures an indicator key in the same direction"},
}

// WarningRuleByID returns a rule.
func WarningRuleByID(id string) (WarningRule, bool) {
	for _, r := range WarningRules {
		if r.ID == id {
			return r, true
		}
	}
	return WarningRule{}, false
}

// DefaultOutlierBand is the ratio beyond which a figure is an outlier
// against the previous period or year, unless the indicator declares its
// own band.
var DefaultOutlierBand = MustDecimal("10")

// UnitConversion declares how values in an earlier unit read in this
// indicator's: value here = value there × Factor (万元 → 亿元 is 0.0001).
type UnitConversion struct {
	FromUnit string  `json:"from_unit"`
	Factor   Decimal `json:"factor"`
}

func (c UnitConversion) Validate(field string) error {
	if err := CheckText(field+".from_unit", c.FromUnit, true, 32); err != nil {
		return err
	}
	if c.Factor.Sign() <= 0 {
		return Invalid(field+".factor", "positive", "must be > 0, got %s", c.Factor)
	}
	return nil
}

// ComparableValue reads v, a value of another indicator of the key in unit
// from, in this indicator's unit to: as it is when the units agree, through
// this indicator's declared conversion from that unit, else not at all
// (year over year then has no base).
func ComparableValue(v Decimal, from, to string, conv *UnitConversion) (Decimal, bool) {
	switch {
	case from == to:
		return v, true
	case conv != nil && conv.FromUnit == from:
		return v.Mul(conv.Factor), true
	}
	return Decimal{}, false
}

// KeyUse is how an indicator of another year measures the same key.
type KeyUse struct {
	IndicatorID string    `json:"indicator_id"`
	Year        int       `json:"year"`
	Unit        string    `json:"unit"`
	Direction   Direction `json:"direction"`
}

// CheckKeyUse is the rule that every year measures a key alike: the same
// direction, and the same unit unless this indicator declares a conversion
// from the other's. The write side refuses with it (its facts come from the
// read models, see app.Service.KeyUses) and the read models warn with it.
func CheckKeyUse(key string, uses []KeyUse, unit string, dir Direction, conv *UnitConversion) error {
	for _, u := range uses {
		if u.Direction != dir {
			return RuleViolation("direction", "key_direction", "key %q is measured %s in %d (%s); this indicator says %s", key, u.Direction, u.Year, u.IndicatorID, dir)
		}
		if u.Unit != unit && (conv == nil || conv.FromUnit != u.Unit) {
			return RuleViolation("unit", "key_unit", "key %q is measured in %q in %d (%s), this indicator in %q; declare a conversion from %q to compare them",
				key, u.Unit, u.Year, u.IndicatorID, unit, u.Unit)
		}
	}
	return nil
}

// Warning is one rule's finding on an indicator, about one of its figures
// (Figure, the event id) or the indicator itself (Figure "").
type Warning struct {
	Rule     string   `json:"rule"`
	Severity string   `json:"severity"`
	Figure   string   `json:"figure,omitempty"`
	Window   string   `json:"window,omitempty"`
	Related  []string `json:"related,omitempty"` // the other figures (or indicators) it names
	Message  string   `json:"message"`
}

// WarningFigure is a current figure as the rules see it.
type WarningFigure struct {
	EventID     string
	Window      Window
	Value       Decimal
	Numerator   *Decimal
	Denominator *Decimal
}

// WarningPart is a part's current figures, for parts_sum.
type WarningPart struct {
	IndicatorID, Name string
	Figures           []WarningFigure
}

// WarningFacts is what the rules read of one indicator.
type WarningFacts struct {
	IndicatorID, Key, Name, Unit string
	Direction                    Direction
	Additive, AllowNegative      bool
	OutlierBand                  *Decimal
	SumTolerance                 *Decimal
	Conversion                   *UnitConversion
	Figures                      []WarningFigure // the current figure of each window
	// LastYear are the comparison figures for this year's windows, by
	// window key of this year: the base year over year uses.
	LastYear map[string]WarningFigure
	Parts    []WarningPart // the indicators declaring part_of this one
	KeyUses  []KeyUse      // other years' indicators with the key
}

// EvaluateWarnings applies every rule to one indicator's facts: at most one
// warning per rule and figure, in a stable order.
func EvaluateWarnings(f WarningFacts) []Warning {
	var out []Warning
	// A rule says one thing per figure: a second finding (an outlier
	// against both the previous period and last year) joins the first.
	add := func(rule, figure string, w Window, related []string, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		for i := range out {
			if out[i].Rule == rule && out[i].Figure == figure {
				out[i].Message += "；" + msg
				out[i].Related = append(out[i].Related, related...)
				return
			}
		}
		r, _ := WarningRuleByID(rule)
		var key string
		if figure != "" {
			key = w.Key()
		}
		out = append(out, Warning{Rule: rule, Severity: r.Severity, Figure: figure, Window: key, Related: related, Message: msg})
	}
	figs := append([]WarningFigure(nil), f.Figures...)
	sort.Slice(figs, func(i, j int) bool {
		a, b := figs[i].Window.Normalize(), figs[j].Window.Normalize()
		if a.ToMonth != b.ToMonth {
			return a.ToMonth < b.ToMonth
		}
		return a.FromMonth > b.FromMonth
	})
	share := f.Unit == "%" && !f.AllowNegative
	hundred := MustDecimal("100")
	for _, x := range figs {
		if share && (x.Value.Sign() < 0 || x.Value.Cmp(hundred) > 0) {
			add("share_range", x.EventID, x.Window, nil, "%s：%s %s%% 不在 0–100 之间 (figure %s)", f.Name, x.Window.Key(), x.Value, x.EventID)
		}
		if share && x.Numerator != nil && x.Denominator != nil && x.Numerator.Cmp(*x.Denominator) > 0 {
			add("share_numerator", x.EventID, x.Window, nil, "%s：%s 分子 %s 大于分母 %s (figure %s)", f.Name, x.Window.Key(), x.Numerator, x.Denominator, x.EventID)
		}
	}
	// Cumulative windows from January never go down as they grow.
	if f.Additive {
		var prev *WarningFigure
		for i := range figs {
			x := &figs[i]
			if x.Window.Normalize().FromMonth != 1 {
				continue
			}
			if prev != nil && x.Value.Cmp(prev.Value) < 0 {
				add("cumulative_decrease", x.EventID, x.Window, []string{prev.EventID}, "%s：%s 累计 %s 小于 %s 累计 %s (figures %s, %s)",
					f.Name, x.Window.Key(), x.Value, prev.Window.Key(), prev.Value, x.EventID, prev.EventID)
			}
			if prev == nil || x.Value.Cmp(prev.Value) >= 0 {
				prev = x
			}
		}
	}
	// Outliers against the previous period and the same window last year.
	band := DefaultOutlierBand
	if f.OutlierBand != nil {
		band = *f.OutlierBand
	}
	for i, x := range figs {
		if p := previousPeriod(figs[:i], x); p != nil {
			if r, ok := outside(x.Value, p.Value, band); ok {
				add("outlier", x.EventID, x.Window, []string{p.EventID}, "%s：%s 为 %s，是上期 %s（%s）的 %s 倍，超出 %s 倍区间 (figures %s, %s)",
					f.Name, x.Window.Key(), x.Value, p.Window.Key(), p.Value, r, band, x.EventID, p.EventID)
			}
		}
		if last, ok := f.LastYear[x.Window.Key()]; ok {
			base := last.Value
			if r, ok := outside(x.Value, base, band); ok {
				add("outlier", x.EventID, x.Window, []string{last.EventID}, "%s：%s 为 %s，是上年同期 %s（%s）的 %s 倍，超出 %s 倍区间 (figures %s, %s)",
					f.Name, x.Window.Key(), x.Value, last.Window.Key(), base, r, band, x.EventID, last.EventID)
			}
		}
	}
	// Parts add up to their total, window by window, when every part has
	// a figure for the window.
	if len(f.Parts) > 0 {
		tol := Decimal{}
		if f.SumTolerance != nil {
			tol = *f.SumTolerance
		}
		for _, x := range figs {
			sum := Decimal{}
			var related, terms []string
			complete := true
			for _, p := range f.Parts {
				pf, ok := figureFor(p.Figures, x.Window)
				if !ok {
					complete = false
					break
				}
				sum = sum.Add(pf.Value)
				related = append(related, pf.EventID)
				terms = append(terms, fmt.Sprintf("%s %s", p.Name, pf.Value))
			}
			if !complete {
				continue
			}
			if diff := sum.Sub(x.Value).Abs(); diff.Cmp(tol) > 0 {
				add("parts_sum", x.EventID, x.Window, related, "%s：%s 分项之和 %s = %s，与总数 %s 相差 %s (figure %s; parts %s)",
					f.Name, x.Window.Key(), strings.Join(terms, " + "), sum, x.Value, diff, x.EventID, strings.Join(related, ", "))
			}
		}
	}
	// The key is measured alike in every year.
	if err := CheckKeyUse(f.Key, f.KeyUses, f.Unit, f.Direction, f.Conversion); err != nil {
		e, _ := AsError(err)
		var related []string
		for _, u := range f.KeyUses {
			related = append(related, u.IndicatorID)
		}
		add(e.Rule, "", Window{}, related, "%s", e.Message)
	}
	return out
}

// previousPeriod is the figure of the period before x among earlier: for a
// cumulative window from January the cumulative window ending latest before
// it, otherwise the window of the same length ending latest before it.
func previousPeriod(earlier []WarningFigure, x WarningFigure) *WarningFigure {
	w := x.Window.Normalize()
	var best *WarningFigure
	for i := range earlier {
		p := earlier[i].Window.Normalize()
		if p.ToMonth >= w.ToMonth {
			continue
		}
		same := (w.FromMonth == 1 && p.FromMonth == 1) || (w.FromMonth != 1 && p.ToMonth-p.FromMonth == w.ToMonth-w.FromMonth)
		if same && (best == nil || p.ToMonth > best.Window.Normalize().ToMonth) {
			best = &earlier[i]
		}
	}
	return best
}

func figureFor(figs []WarningFigure, w Window) (WarningFigure, bool) {
	for _, f := range figs {
		if f.Window.Key() == w.Key() {
			return f, true
		}
	}
	return WarningFigure{}, false
}

// outside reports whether v / base lies outside [1/band, band], and the
// ratio (one decimal, for the message). A zero or negative side has no
// ratio to judge.
func outside(v, base, band Decimal) (string, bool) {
	if v.Sign() <= 0 || base.Sign() <= 0 || band.Sign() <= 0 {
		return "", false
	}
	r := new(big.Rat).Quo(v.Rat(), base.Rat())
	b := band.Rat()
	inv := new(big.Rat).Inv(b)
	if r.Cmp(b) <= 0 && r.Cmp(inv) >= 0 {
		return "", false
	}
	return RoundRat(r, 1, HalfUp).String(), true
}
