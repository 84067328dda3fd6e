package domain

import (
	"strings"
	"testing"
)

func TestExpectedToDate(t *testing.T) {
	cases := []struct {
		name   string
		target string
		month  int
		want   string
		share  string
	}{
		{"1-11月 of 12", "12", 11, "11", "91.7"},
		{"1-6月 of 4 firms", "4", 6, "2", "50.0"},
		{"1-11月 of 4 firms", "4", 11, "11/3", "91.7"},
		{"January of 15 service points", "15", 1, "5/4", "8.3"},
		{"the whole year", "28.00", 12, "28", "100.0"},
	}
	for _, c := range cases {
		t.Run("given "+c.name+" then expected "+c.want, func(t *testing.T) {
			got, err := ExpectedToDate(MustDecimal(c.target), c.month)
			if err != nil {
				t.Fatal(err)
			}
			if !rulesSameRat(got, rulesRat(t, c.want)) {
				t.Errorf("got %s", rulesRatString(got))
			}
			if share := FormatPercent(ExpectedShare(c.month), 1, HalfUp); share != c.share {
				t.Errorf("share %s, want %s", share, c.share)
			}
		})
	}
	for _, month := range []int{0, 13, -1} {
		t.Run("given month outside 1..12 then error and no share", func(t *testing.T) {
			_, err := ExpectedToDate(MustDecimal("12"), month)
			if err == nil || !strings.Contains(err.Error(), "is outside 1..12") {
				t.Errorf("got %v", err)
			}
			if ExpectedShare(month) != nil {
				t.Error("share for an impossible month")
			}
		})
	}
}

func TestClassifyProgress(t *testing.T) {
	completion := func(in CompletionInput) *Completion {
		c, err := ComputeCompletion(in)
		if err != nil {
			t.Fatal(err)
		}
		return &c
	}
	higher := func(actual, target string) ProgressInput {
		return ProgressInput{
			Completion: completion(CompletionInput{Direction: HigherIsBetter, Actual: MustDecimal(actual), Target: MustDecimal(target)}),
			Direction:  HigherIsBetter, Actual: MustDecimal(actual), Target: MustDecimal(target),
		}
	}
	capped := func(direction Direction, actual, target string) ProgressInput {
		return ProgressInput{
			Completion: completion(CompletionInput{Direction: direction, Formula: FormulaCap, Actual: MustDecimal(actual), Target: MustDecimal(target)}),
			Direction:  direction, Actual: MustDecimal(actual), Target: MustDecimal(target),
		}
	}
	with := func(in ProgressInput, closed, additive bool, month int) ProgressInput {
		in.YearClosed, in.Additive, in.ThroughMonth = closed, additive, month
		return in
	}
	rangeIn := func(actual string) ProgressInput {
		in := CompletionInput{Direction: WithinRange, Actual: MustDecimal(actual), Low: rulesDecPtr("3"), High: rulesDecPtr("6")}
		return ProgressInput{Completion: completion(in), Direction: WithinRange, Additive: true, ThroughMonth: 6, Actual: in.Actual}
	}
	cases := []struct {
		name string
		in   ProgressInput
		want ProgressStatus
	}{
		{"no figure yet, year open", ProgressInput{Additive: true, ThroughMonth: 11}, StatusPending},
		{"no figure yet, year closed", ProgressInput{YearClosed: true}, StatusPending},

		{"year closed, 169 两区 projects against 71", with(higher("169", "71"), true, true, 12), StatusExceeded},
		{"year closed, exactly the target", with(higher("4", "4"), true, true, 12), StatusMet},
		{"year closed, 610 high-tech firms against 719", with(higher("610", "719"), true, false, 12), StatusNotMet},
		{"year closed, accidents under the cap", with(capped(AtMost, "13", "20"), true, true, 12), StatusMet},

		{"open, additive, 11 of 12 by November: on pace", with(higher("11", "12"), false, true, 11), StatusOnTrack},
		{"open, additive, 10 of 12 by November: behind pace", with(higher("10", "12"), false, true, 11), StatusBehind},
		{"open, additive, already past the year's target", with(higher("10", "4"), false, true, 11), StatusOnTrack},
		{"open, additive, 6 of 12 by June", with(higher("6", "12"), false, true, 6), StatusOnTrack},
		{"open, additive, 5.99 of 12 by June", with(higher("5.99", "12"), false, true, 6), StatusBehind},
		{"open, stock 680 of 719: pro-rating would flatter it", with(higher("680", "719"), false, false, 11), StatusBehind},
		{"open, stock already at target", with(higher("720", "719"), false, false, 11), StatusOnTrack},
		{"open, additive with unknown coverage falls back to the year-end target", with(higher("11", "12"), false, true, 0), StatusBehind},
		{"open, accidents 13 by November against a cap of 20 a year", with(capped(AtMost, "13", "20"), false, true, 11), StatusOnTrack},
		{"open, accidents 19 by November against a cap of 20 a year", with(capped(AtMost, "19", "20"), false, true, 11), StatusBehind},
		{"open, lower-is-better additive at exactly the pace", with(capped(LowerIsBetter, "10", "20"), false, true, 6), StatusOnTrack},
		{"open, a rate floor 不低于80% reached", with(capped(AtLeast, "85", "80"), false, false, 10), StatusOnTrack},
		{"open, a rate floor 不低于90% missed", with(capped(AtLeast, "89", "90"), false, false, 10), StatusBehind},
		{"open, range inside its band", rangeIn("4"), StatusOnTrack},
		{"open, range outside its band", rangeIn("7"), StatusBehind},
	}
	for _, c := range cases {
		t.Run("given "+c.name+" then "+string(c.want), func(t *testing.T) {
			if got := ClassifyProgress(c.in); got != c.want {
				t.Errorf("got %s", got)
			}
		})
	}
	t.Run("given no direction then it reads as higher is better", func(t *testing.T) {
		in := with(higher("11", "12"), false, true, 11)
		in.Direction = ""
		if got := ClassifyProgress(in); got != StatusOnTrack {
			t.Errorf("got %s", got)
		}
	})
}

func TestRatioOf(t *testing.T) {
	cases := []struct {
		name     string
		num, den string
		places   int
		want     string
	}{
		// 258 good days is 77.5% only against valid monitoring days, not
		// against 365 calendar days (70.7%); 333 valid days is illustrative.
		{"优良天数 258 of 333 valid days", "258", "333", 1, "77.5"},
		{"重污染天数 3 of 333 valid days", "3", "333", 1, "0.9"},
		{"88 technical staff against 101 posts", "88", "101", 0, "87"},
		{"numerator may exceed the denominator", "12", "10", 0, "120"},
		{"zero numerator", "0", "5", 1, "0.0"},
	}
	for _, c := range cases {
		t.Run("given "+c.name+" then "+c.want+"%", func(t *testing.T) {
			r, err := RatioOf(MustDecimal(c.num), MustDecimal(c.den))
			if err != nil {
				t.Fatal(err)
			}
			if got := FormatPercent(r, c.places, HalfUp); got != c.want {
				t.Errorf("got %s", got)
			}
		})
	}
	errCases := []struct{ name, num, den, want string }{
		{"zero denominator", "3", "0", "ratio 3/0: denominator is zero"},
		{"zero over zero", "0", "0.0", "denominator is zero"},
		{"negative denominator", "3", "-5", "cannot be negative"},
		{"negative numerator", "-3", "5", "cannot be negative"},
	}
	for _, c := range errCases {
		t.Run("given "+c.name+" then error", func(t *testing.T) {
			r, err := RatioOf(MustDecimal(c.num), MustDecimal(c.den))
			if err == nil || r != nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, %v", r, err)
			}
		})
	}
}

func TestRectificationRate(t *testing.T) {
	t.Run("given 191 of 193 rectified (87-1项) then 99% and 2 remaining", func(t *testing.T) {
		rate, remaining, err := RectificationRate(191, 193)
		if err != nil {
			t.Fatal(err)
		}
		if !rulesSameRat(rate, rulesRat(t, "191/193")) || remaining != 2 {
			t.Errorf("rate %s remaining %d", rulesRatString(rate), remaining)
		}
		if got := FormatPercent(rate, 0, HalfUp); got != "99" {
			t.Errorf("0 places: %s", got)
		}
		if got := FormatPercent(rate, 1, HalfUp); got != "99.0" {
			t.Errorf("1 place: %s", got)
		}
		if got := FormatPercent(rate, 2, HalfUp); got != "98.96" {
			t.Errorf("2 places: %s", got)
		}
	})
	t.Run("given all rectified then 100% and none remaining", func(t *testing.T) {
		rate, remaining, err := RectificationRate(193, 193)
		if err != nil || rate.Cmp(rulesRat(t, "1")) != 0 || remaining != 0 {
			t.Errorf("got %v %d %v", rate, remaining, err)
		}
	})
	t.Run("given no items then no rate and nothing remaining", func(t *testing.T) {
		rate, remaining, err := RectificationRate(0, 0)
		if err != nil || rate != nil || remaining != 0 {
			t.Errorf("got %v %d %v", rate, remaining, err)
		}
	})
	errCases := []struct {
		name             string
		rectified, total int
		want             string
	}{
		{"more rectified than exist", 194, 193, "rectified 194 exceeds total 193"},
		{"negative rectified", -1, 5, "cannot be negative"},
		{"negative total", 0, -5, "cannot be negative"},
	}
	for _, c := range errCases {
		t.Run("given "+c.name+" then error", func(t *testing.T) {
			rate, remaining, err := RectificationRate(c.rectified, c.total)
			if err == nil || rate != nil || remaining != 0 || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v %d %v", rate, remaining, err)
			}
		})
	}
}
