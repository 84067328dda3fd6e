package domain

import "sort"

// RankEntry is one unit's standing on an indicator key in a year.
type RankEntry struct {
	Unit      string
	Direction Direction
	// Ratio is the completion ratio (rule 2 and 3: whatever the direction,
	// a higher ratio is the better result); nil without a target or figure.
	Ratio *Decimal
	// Value is the current figure; nil without one.
	Value *Decimal
	// Rank is 1 for the best; entries that tie share a rank and the next
	// rank skips (1, 2, 2, 4). 0 for an entry with neither ratio nor value.
	Rank int
}

// RankUnits orders units on one indicator key and year, best first: by
// completion ratio where there is one (a unit measured against its target
// outranks one with a figure and no target), then by the figure itself in
// the indicator's direction (higher or at least: the larger is better;
// lower or at most: the smaller), then unranked. Ties keep unit order.
func RankUnits(entries []RankEntry) []RankEntry {
	out := append([]RankEntry(nil), entries...)
	class := func(e RankEntry) int {
		switch {
		case e.Ratio != nil:
			return 0
		case e.Value != nil && valueRanks(e.Direction) != 0:
			return 1
		}
		return 2
	}
	cmp := func(a, b RankEntry) int { // <0 when a is better
		ca, cb := class(a), class(b)
		if ca != cb {
			return ca - cb
		}
		switch ca {
		case 0:
			return -a.Ratio.Cmp(*b.Ratio)
		case 1:
			if a.Direction != b.Direction {
				return 0
			}
			return -valueRanks(a.Direction) * a.Value.Cmp(*b.Value)
		}
		return 0
	}
	sort.SliceStable(out, func(i, j int) bool {
		if c := cmp(out[i], out[j]); c != 0 {
			return c < 0
		}
		return out[i].Unit < out[j].Unit
	})
	for i := range out {
		switch {
		case class(out[i]) == 2:
			out[i].Rank = 0
		case i > 0 && cmp(out[i-1], out[i]) == 0:
			out[i].Rank = out[i-1].Rank
		default:
			out[i].Rank = i + 1
		}
	}
	return out
}

// valueRanks is +1 when a larger figure is better, -1 when a smaller one
// is, 0 when the figure alone says nothing (a range, a milestone).
func valueRanks(d Direction) int {
	switch d {
	case HigherIsBetter, AtLeast:
		return 1
	case LowerIsBetter, AtMost:
		return -1
	}
	return 0
}
