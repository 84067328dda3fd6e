package domain

import (
	"fmt"
	"math/big"
)

// ExpectedShare is the share of the year elapsed after throughMonth months
// (序时进度, rule 11): 1-11月 → 11/12 ≈ 91.7%. It returns nil outside 1..12,
// the same months ExpectedToDate rejects.
func ExpectedShare(throughMonth int) *big.Rat {
	if throughMonth < 1 || throughMonth > 12 {
		return nil
	}
	return big.NewRat(int64(throughMonth), 12)
}

// ExpectedToDate is how much of an additive yearly target should be done by
// the end of throughMonth. It is meaningless for stocks (保有量) and ratios,
// which are compared with the year-end target directly.
func ExpectedToDate(target Decimal, throughMonth int) (*big.Rat, error) {
	share := ExpectedShare(throughMonth)
	if share == nil {
		return nil, fmt.Errorf("expected-to-date: through month %d is outside 1..12", throughMonth)
	}
	return share.Mul(share, target.Rat()), nil
}

// YearClosedBy reports whether a figure for window w closes the year, so
// that only its completion decides the status (met or not met, no pace).
// Only a figure for the whole year does, whatever its quality: a final
// figure for 1-11月 (a statistics bureau's cumulative figure is final once
// published) still leaves December to come, and is judged against the
// expected-to-date share like any figure of an open year.
func YearClosedBy(w Window) bool { return w.Normalize().FullYear() }

type ProgressStatus string

const (
	StatusExceeded ProgressStatus = "exceeded"
	StatusMet      ProgressStatus = "met"
	StatusOnTrack  ProgressStatus = "on_track"
	StatusBehind   ProgressStatus = "behind"
	StatusNotMet   ProgressStatus = "not_met"
	StatusPending  ProgressStatus = "pending_data"
)

type ProgressInput struct {
	Completion     *Completion // nil: no figure yet
	Direction      Direction   // which way "ahead of pace" points; empty reads as HigherIsBetter
	YearClosed     bool
	Additive       bool // the yearly target accumulates month by month (not a stock or a ratio)
	ThroughMonth   int  // last month the figure covers, 1..12; 0 when unknown
	Actual, Target Decimal
}

// ClassifyProgress gives the ledger status of one indicator.
//
// Once the year is closed only the completion counts: exceeded, met or
// not_met. Before that the year can still go either way, so the answer is
// on_track or behind:
//   - an additive target is compared with its expected-to-date share
//     (actual >= target × m/12, or <= for lower-is-better and caps);
//   - a stock or a ratio, or an additive figure whose coverage month is
//     unknown, is compared with the year-end target through Completion.Met,
//     because pro-rating them would invent a pace that does not exist.
//
// No figure (nil Completion) is pending_data in both cases.
func ClassifyProgress(in ProgressInput) ProgressStatus {
	c := in.Completion
	switch {
	case c == nil:
		return StatusPending
	case in.YearClosed && c.Exceeded:
		return StatusExceeded
	case in.YearClosed && c.Met:
		return StatusMet
	case in.YearClosed:
		return StatusNotMet
	}
	if !in.Additive || in.Direction == WithinRange {
		return onTrackIf(c.Met)
	}
	expected, err := ExpectedToDate(in.Target, in.ThroughMonth)
	if err != nil { // coverage unknown: there is no pace to compare with
		return onTrackIf(c.Met)
	}
	cmp := in.Actual.Rat().Cmp(expected)
	if in.Direction == LowerIsBetter || in.Direction == AtMost {
		return onTrackIf(cmp <= 0)
	}
	return onTrackIf(cmp >= 0)
}

func onTrackIf(ok bool) ProgressStatus {
	if ok {
		return StatusOnTrack
	}
	return StatusBehind
}

// RatioOf derives a ratio that has its own denominator (rule 6): good days
// over valid monitoring days, not calendar days. Both are counts, so
// negatives are rejected; the numerator may exceed the denominator.
func RatioOf(numerator, denominator Decimal) (*big.Rat, error) {
	switch {
	case denominator.Sign() == 0:
		return nil, fmt.Errorf("ratio %s/%s: denominator is zero (a ratio needs at least one counted unit)", numerator, denominator)
	case denominator.Sign() < 0 || numerator.Sign() < 0:
		return nil, fmt.Errorf("ratio %s/%s: numerator and denominator are counts and cannot be negative", numerator, denominator)
	}
	return new(big.Rat).Quo(numerator.Rat(), denominator.Rat()), nil
}

// RectificationRate is 整改到位率 = rectified / total (rule 10); remaining is
// derived, never entered, so it always equals total − rectified. With no items
// there is no rate (nil), rather than a 0% or 100% that would be reported as
// a finding.
func RectificationRate(rectified, total int) (rate *big.Rat, remaining int, err error) {
	switch {
	case rectified < 0 || total < 0:
		return nil, 0, fmt.Errorf("rectification: rectified %d and total %d cannot be negative", rectified, total)
	case rectified > total:
		return nil, 0, fmt.Errorf("rectification: rectified %d exceeds total %d", rectified, total)
	case total == 0:
		return nil, 0, nil
	}
	return big.NewRat(int64(rectified), int64(total)), total - rectified, nil
}
