package domain

import "testing"

func dec(s string) *Decimal { d := MustDecimal(s); return &d }

// Given units with and without ratios and figures, when ranked, then the
// ratio decides first, the figure in its direction next, ties share a
// rank and the next rank skips, and units with nothing are unranked.
func TestRankUnits(t *testing.T) {
	got := RankUnits([]RankEntry{
		{Unit: "d5", Direction: LowerIsBetter},
		{Unit: "d4", Direction: LowerIsBetter, Value: dec("3")},
		{Unit: "d3", Direction: LowerIsBetter, Value: dec("2")},
		{Unit: "d2", Direction: LowerIsBetter, Ratio: dec("1.1"), Value: dec("9")},
		{Unit: "d1", Direction: LowerIsBetter, Ratio: dec("1.1"), Value: dec("8")},
		{Unit: "d0", Direction: LowerIsBetter, Ratio: dec("1.25"), Value: dec("7")},
	})
	want := []struct {
		unit string
		rank int
	}{{"d0", 1}, {"d1", 2}, {"d2", 2}, {"d3", 4}, {"d4", 5}, {"d5", 0}}
	for i, w := range want {
		if got[i].Unit != w.unit || got[i].Rank != w.rank {
			t.Fatalf("position %d: got %s rank %d, want %s rank %d (all: %+v)", i, got[i].Unit, got[i].Rank, w.unit, w.rank, got)
		}
	}
	higher := RankUnits([]RankEntry{{Unit: "a", Direction: HigherIsBetter, Value: dec("1")}, {Unit: "b", Direction: HigherIsBetter, Value: dec("2")}})
	if higher[0].Unit != "b" || higher[1].Rank != 2 {
		t.Fatalf("higher is better: %+v", higher)
	}
}
