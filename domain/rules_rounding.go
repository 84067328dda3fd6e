package domain

import (
	"fmt"
	"math/big"
)

// RoundingMode decides ties only; everything else rounds to nearest.
// Rule 5: round once, for display, never an intermediate value.
type RoundingMode int

const (
	// HalfUp rounds a tie away from zero (12.25 → 12.3, -12.25 → -12.3). It is
	// the zero value because it is what the documents we import use.
	HalfUp RoundingMode = iota
	// HalfEven is GB/T 8170 四舍六入五成双: a tie goes to the even digit
	// (12.25 → 12.2, 12.35 → 12.4).
	HalfEven
)

func (m RoundingMode) String() string {
	switch m {
	case HalfUp:
		return "half_up"
	case HalfEven:
		return "half_even"
	}
	return fmt.Sprintf("RoundingMode(%d)", int(m))
}

// RoundingModeFromString is the inverse of String.
func RoundingModeFromString(s string) (RoundingMode, error) {
	switch s {
	case "half_up":
		return HalfUp, nil
	case "half_even":
		return HalfEven, nil
	}
	return 0, fmt.Errorf("rounding mode %q: want half_up or half_even", s)
}

// MarshalText makes the mode travel by name in events and config, so that
// reordering the constants can never change stored meaning.
func (m RoundingMode) MarshalText() ([]byte, error) {
	if m != HalfUp && m != HalfEven {
		return nil, fmt.Errorf("rounding mode %d: want half_up or half_even", int(m))
	}
	return []byte(m.String()), nil
}

func (m *RoundingMode) UnmarshalText(b []byte) error {
	v, err := RoundingModeFromString(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// RoundRat rounds r to places digits after the point; the result has exactly
// that scale, so 1 rounded to 1 place reads "1.0" (a printed "100.0%" keeps
// its trailing zero). Negative places round to tens, hundreds, … with scale 0.
// It panics on a nil r or an unknown mode: both are programming errors, and a
// silent default would put a wrong figure in front of an assessor.
func RoundRat(r *big.Rat, places int, mode RoundingMode) Decimal {
	if r == nil {
		panic("domain.RoundRat: nil *big.Rat")
	}
	if mode != HalfUp && mode != HalfEven {
		panic(fmt.Sprintf("domain.RoundRat: unknown %v", mode))
	}
	shifted := new(big.Rat).Set(r)
	if places >= 0 {
		shifted.Mul(shifted, new(big.Rat).SetInt(pow10(places)))
	} else {
		shifted.Quo(shifted, new(big.Rat).SetInt(pow10(-places)))
	}
	n := roundToInteger(shifted, mode)
	if places >= 0 {
		return Decimal{coef: n, scale: places}
	}
	return Decimal{coef: n.Mul(n, pow10(-places))}
}

// Round rounds d like RoundRat; the result always has scale max(places, 0).
func (d Decimal) Round(places int, mode RoundingMode) Decimal {
	return RoundRat(d.Rat(), places, mode)
}

// roundToInteger works on the magnitude so that both modes are symmetric
// around zero, and -0.04 never becomes a "-0".
func roundToInteger(r *big.Rat, mode RoundingMode) *big.Int {
	magnitude := new(big.Int).Abs(r.Num())
	q, rem := new(big.Int).QuoRem(magnitude, r.Denom(), new(big.Int))
	switch rem.Lsh(rem, 1).Cmp(r.Denom()) {
	case 1:
		q.Add(q, big.NewInt(1))
	case 0:
		if mode == HalfUp || q.Bit(0) == 1 {
			q.Add(q, big.NewInt(1))
		}
	}
	if r.Sign() < 0 {
		q.Neg(q)
	}
	return q
}

// FormatPercent shows a plain ratio (0.848…) as a percent figure ("84.8"),
// without a "%" suffix, which belongs to the presentation layer.
// A nil ratio, which means "no ratio defined", formats as "".
func FormatPercent(r *big.Rat, places int, mode RoundingMode) string {
	if r == nil {
		return ""
	}
	percent := new(big.Rat).Mul(r, big.NewRat(100, 1))
	return RoundRat(percent, places, mode).String()
}
