package domain

import (
	"math/big"
	"testing"
)

// Shared helpers for the rules tests. Names carry a "rules" prefix because
// other test files of this package are written in parallel.

// rulesRat reads "5/2" or a decimal such as "-18.75" exactly.
func rulesRat(t *testing.T, s string) *big.Rat {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("bad rat literal %q", s)
	}
	return r
}

func rulesDecPtr(s string) *Decimal {
	d := MustDecimal(s)
	return &d
}

func rulesRatString(r *big.Rat) string {
	if r == nil {
		return "<nil>"
	}
	return r.RatString()
}

// rulesSameRat treats a nil want as "no ratio expected".
func rulesSameRat(got, want *big.Rat) bool {
	if got == nil || want == nil {
		return got == nil && want == nil
	}
	return got.Cmp(want) == 0
}
