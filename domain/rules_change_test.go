package domain

import "testing"

func TestYearOverYear(t *testing.T) {
	cases := []struct {
		name          string
		current, base string
		isRate        bool
		abs           string
		pct           string // exact; "" means nil
		shown         string // half-up, 1 place, as the document prints it
		isNew         bool
		points        string // "" means nil
	}{
		{"13 accidents, 3 fewer, down 18.8%", "13", "16", false, "-3", "-75/4", "-18.8", false, ""},
		{"14 deaths, 5 fewer, down 26.3%", "14", "19", false, "-5", "-500/19", "-26.3", false, ""},
		{"2019 high-tech firms up 61.9% (illustrative base 21 → 34)", "34", "21", false, "13", "1300/21", "61.9", false, ""},
		{"excellent-air share 77.5% against 80.0%", "77.5", "80.0", true, "-2.5", "-25/8", "-3.1", false, "-2.5"},
		{"a rate that rose by points", "79.03", "75.03", true, "4.00", "40000/7503", "5.3", false, "4.00"},
		{"unchanged", "16", "16", false, "0", "0", "0.0", false, ""},
		{"base 0, now 3: new", "3", "0", false, "3", "", "", true, ""},
		{"base 0, now 0: no change", "0", "0", false, "0", "0", "0.0", false, ""},
		{"rate from 0 to 0.9: new, and still 0.9 points", "0.9", "0", true, "0.9", "", "", true, "0.9"},
		{"negative base rising: the sign follows the change", "1", "-2", false, "3", "150", "150.0", false, ""},
		{"negative base falling", "-3", "-2", false, "-1", "-50", "-50.0", false, ""},
	}
	for _, c := range cases {
		t.Run("given "+c.name+" when compared then "+c.shown, func(t *testing.T) {
			ch := YearOverYear(MustDecimal(c.current), MustDecimal(c.base), c.isRate)
			if ch.Abs.String() != c.abs {
				t.Errorf("abs %s, want %s", ch.Abs, c.abs)
			}
			if !ch.Current.Equal(MustDecimal(c.current)) || !ch.Base.Equal(MustDecimal(c.base)) {
				t.Errorf("stored %s vs %s", ch.Current, ch.Base)
			}
			if ch.New != c.isNew {
				t.Errorf("new %v, want %v", ch.New, c.isNew)
			}
			if c.pct == "" {
				if ch.Pct != nil {
					t.Errorf("pct %s, want nil", ch.Pct.RatString())
				}
			} else if !rulesSameRat(ch.Pct, rulesRat(t, c.pct)) {
				t.Errorf("pct %s, want %s", rulesRatString(ch.Pct), c.pct)
			}
			if got := rulesShownPct(ch); got != c.shown {
				t.Errorf("shown %q, want %q", got, c.shown)
			}
			switch {
			case c.points == "" && ch.PointsDiff != nil:
				t.Errorf("points %s on a non-rate", ch.PointsDiff)
			case c.points != "" && (ch.PointsDiff == nil || ch.PointsDiff.String() != c.points):
				t.Errorf("points %v, want %s", ch.PointsDiff, c.points)
			}
		})
	}
	t.Run("given -26.315…% when shown half-even then still -26.3 (rounded once)", func(t *testing.T) {
		ch := YearOverYear(MustDecimal("14"), MustDecimal("19"), false)
		if got := RoundRat(ch.Pct, 1, HalfEven).String(); got != "-26.3" {
			t.Errorf("got %s", got)
		}
	})
	t.Run("given a restated base (按可比口径) then the change records that base", func(t *testing.T) {
		original := YearOverYear(MustDecimal("13"), MustDecimal("16"), false)
		restated := YearOverYear(MustDecimal("13"), MustDecimal("15"), false)
		if original.Base.String() != "16" || restated.Base.String() != "15" || restated.Abs.String() != "-2" {
			t.Errorf("original %+v restated %+v", original, restated)
		}
	})
}

func TestInferBase(t *testing.T) {
	cases := []struct{ name, current, change, base string }{
		{"13 accidents, 3 fewer", "13", "-3", "16"},
		{"14 deaths, 5 fewer", "14", "-5", "19"},
		{"a rate up 2.5 points", "80.0", "2.5", "77.5"},
		{"no change", "7", "0", "7"},
	}
	for _, c := range cases {
		t.Run("given "+c.name+" then base "+c.base, func(t *testing.T) {
			base := InferBase(MustDecimal(c.current), MustDecimal(c.change))
			if base.String() != c.base {
				t.Errorf("got %s", base)
			}
			if back := YearOverYear(MustDecimal(c.current), base, false).Abs; !back.Equal(MustDecimal(c.change)) {
				t.Errorf("round trip change %s", back)
			}
		})
	}
}

func rulesShownPct(ch Change) string {
	if ch.Pct == nil {
		return ""
	}
	return RoundRat(ch.Pct, 1, HalfUp).String()
}
