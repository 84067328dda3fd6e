package demo

import (
	"math/big"

	"kpitrail/domain"
)

// deriveTarget recovers a target from a figure and the completion printed
// for it: 10家 at 完成年度任务的250% was a target of 4. The exact quotient
// value ÷ pct is rarely a round number (20 ÷ 133.3% = 15.0037…), because
// the percent was rounded when printed; so candidates are the quotient
// rounded to 0, 1 and 2 decimals, fewest first, and one is kept only if it
// reproduces the printed percent at the printed precision. A count (家,
// 个…) only takes a whole target. No candidate: no target, rather than an
// invented one.
func deriveTarget(value domain.Decimal, pct, unit string) (domain.Decimal, bool) {
	p, err := domain.ParseDecimal(pct)
	if err != nil || p.Sign() <= 0 || value.Sign() <= 0 {
		return domain.Decimal{}, false
	}
	quotient := new(big.Rat).Quo(value.Rat(), p.Rat())
	quotient.Mul(quotient, big.NewRat(100, 1))
	maxPlaces := 2
	if domain.IsCountUnit(unit) {
		maxPlaces = 0
	}
	for places := 0; places <= maxPlaces; places++ {
		cand := domain.RoundRat(quotient, places, domain.HalfUp)
		if cand.Sign() <= 0 {
			continue
		}
		ratio := new(big.Rat).Quo(value.Rat(), cand.Rat())
		if domain.FormatPercent(ratio, p.Scale(), domain.HalfUp) == p.String() {
			return cand, true
		}
	}
	return domain.Decimal{}, false
}
