package domain

import "math/big"

// Change is a year-over-year comparison (同比, rule 4). It keeps the Base it
// was computed from because a base may be restated (按可比口径): the same
// current figure compared with a restated base is a different Change.
type Change struct {
	Current, Base Decimal
	Abs           Decimal  // Current − Base, in the indicator's unit
	Pct           *big.Rat // (Current − Base) / |Base| × 100, exact; nil when New
	New           bool     // Base is 0 and Current is not: "new", never ±Inf
	PointsDiff    *Decimal // for rates only: Abs read as percentage points (个百分点)
}

// YearOverYear compares current with base, both covering the same window
// (同期, rule 7). Pct stays exact; round it only for display.
//
//	base ≠ 0                Pct = Abs / |Base| × 100
//	base = 0, current ≠ 0   New, Pct nil
//	base = 0, current = 0   no change: Pct 0, not New (nothing appeared)
//
// Dividing by |Base| keeps the sign of Pct equal to the sign of Abs when a
// base is negative (a growth rate going from −2% to 1% rose, it did not fall).
// For a rate (77.5% vs 80.0%) the difference people quote is in percentage
// points, −2.5 个百分点, not −3.125%; both are kept because both get quoted.
func YearOverYear(current, base Decimal, isRate bool) Change {
	c := Change{Current: current, Base: base, Abs: current.Sub(base)}
	switch {
	case base.Sign() != 0:
		c.Pct = new(big.Rat).Quo(c.Abs.Rat(), base.Abs().Rat())
		c.Pct.Mul(c.Pct, big.NewRat(100, 1))
	case current.Sign() != 0:
		c.New = true
	default:
		c.Pct = new(big.Rat)
	}
	if isRate {
		points := c.Abs
		c.PointsDiff = &points
	}
	return c
}

// InferBase recovers last year's figure from a report that gives only the
// change: "13 起, 同比减少 3 起" means the base was 13 − (−3) = 16.
func InferBase(current, absChange Decimal) Decimal {
	return current.Sub(absChange)
}
