package domain

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Parse bounds. Real indicator figures (counts, 亿元, 公顷, rates) need a
// handful of digits; the bounds exist so that a typo or hostile input such as
// "1e400" cannot make us allocate huge numbers, and so that everything we
// accept can be written back out and read again unchanged.
const (
	DecimalMaxDigits   = 34 // significant digits once written in plain notation
	DecimalMaxScale    = 18 // digits after the point
	DecimalMaxExponent = 18 // |exp| in "1.5e3" style input
)

// Decimal is an exact decimal number: coef × 10^-scale.
//
// Figures are reported to a precision that carries meaning (77.5 is not
// 77.50), so the written scale is kept. The zero value is 0. Values are
// immutable; compare them with Equal or Cmp, never with == (the coefficient
// is a pointer, so == compares identity).
type Decimal struct {
	coef  *big.Int // nil reads as zero, which makes the zero value usable
	scale int      // never negative: exponents are folded into coef
}

// ParseDecimal reads "12", "-3.50", "+7", "0.001", "1.5e3" or "1E-2".
// Digits are required on both sides of a point; spaces, thousands separators,
// full-width digits, hex, NaN and Inf are rejected so that an importer has to
// normalise its text explicitly instead of having it guessed here.
func ParseDecimal(s string) (Decimal, error) {
	d, problem := parseDecimal(s)
	if problem != "" {
		return Decimal{}, fmt.Errorf("decimal %s: %s", clipForError(s), problem)
	}
	return d, nil
}

// MustDecimal is ParseDecimal for constants and tests; it panics on bad input.
func MustDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// DecimalFromInt returns i with scale 0.
func DecimalFromInt(i int64) Decimal {
	return Decimal{coef: big.NewInt(i)}
}

func parseDecimal(s string) (Decimal, string) {
	if s == "" {
		return Decimal{}, "empty string"
	}
	rest, negative := s, false
	if rest[0] == '+' || rest[0] == '-' {
		negative = rest[0] == '-'
		rest = rest[1:]
	}
	switch strings.ToLower(rest) {
	case "nan", "inf", "infinity":
		return Decimal{}, "not a finite number (NaN and Inf are not decimals)"
	}

	mantissa, expText, hasExp := rest, "", false
	if i := strings.IndexAny(rest, "eE"); i >= 0 {
		mantissa, expText, hasExp = rest[:i], rest[i+1:], true
	}
	intPart, fracPart, hasPoint := strings.Cut(mantissa, ".")
	if strings.Contains(fracPart, ".") {
		return Decimal{}, "more than one decimal point"
	}
	if problem := onlyDigits(intPart + fracPart); problem != "" {
		return Decimal{}, problem
	}
	if intPart == "" && !hasPoint {
		return Decimal{}, "no digits"
	}
	if intPart == "" || (hasPoint && fracPart == "") {
		return Decimal{}, "digits required on both sides of the decimal point"
	}

	exp := 0
	if hasExp {
		var problem string
		if exp, problem = parseExponent(expText); problem != "" {
			return Decimal{}, problem
		}
	}

	significant := strings.TrimLeft(intPart+fracPart, "0")
	if len(significant) > DecimalMaxDigits {
		return Decimal{}, fmt.Sprintf("too many significant digits (max %d)", DecimalMaxDigits)
	}
	scale := len(fracPart) - exp
	if scale > DecimalMaxScale {
		return Decimal{}, fmt.Sprintf("too many digits after the point (scale <= %d)", DecimalMaxScale)
	}
	if significant != "" && scale < 0 && len(significant)-scale > DecimalMaxDigits {
		return Decimal{}, fmt.Sprintf("too large: more than %d digits in plain notation", DecimalMaxDigits)
	}

	coef := new(big.Int)
	if significant != "" {
		coef.SetString(significant, 10) // cannot fail: onlyDigits checked it
	}
	if scale < 0 {
		coef.Mul(coef, pow10(-scale))
		scale = 0
	}
	if negative {
		coef.Neg(coef)
	}
	return Decimal{coef: coef, scale: scale}, ""
}

func onlyDigits(s string) string {
	for _, r := range s {
		if r < '0' || r > '9' {
			return fmt.Sprintf("invalid character %q (want digits, one optional '.', optional exponent)", r)
		}
	}
	return ""
}

func parseExponent(s string) (int, string) {
	digits := strings.TrimLeft(s, "+-")
	if len(s)-len(digits) > 1 {
		return 0, "exponent has more than one sign"
	}
	if digits == "" {
		return 0, "exponent has no digits"
	}
	if problem := onlyDigits(digits); problem != "" {
		return 0, "exponent: " + problem
	}
	outOfRange := fmt.Sprintf("exponent out of range (|exp| <= %d)", DecimalMaxExponent)
	digits = strings.TrimLeft(digits, "0")
	if len(digits) > 2 { // checked before Atoi so "1e99999999999999999999" cannot overflow it
		return 0, outOfRange
	}
	exp, _ := strconv.Atoi("0" + digits)
	if exp > DecimalMaxExponent {
		return 0, outOfRange
	}
	if s[0] == '-' {
		exp = -exp
	}
	return exp, ""
}

// clipForError keeps error messages readable when the input is a whole
// document pasted into a number field.
func clipForError(s string) string {
	const max = 64
	if len(s) <= max {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:max]) + "…"
}

func pow10(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

func (d Decimal) coefficient() *big.Int {
	if d.coef == nil {
		return new(big.Int)
	}
	return d.coef
}

// withScale returns a fresh coefficient of d expressed at scale s >= d.scale.
func (d Decimal) withScale(s int) *big.Int {
	c := new(big.Int).Set(d.coefficient())
	if s > d.scale {
		c.Mul(c, pow10(s-d.scale))
	}
	return c
}

// String writes plain notation (never an exponent) with the kept scale:
// MustDecimal("1.5e3") is "1500", MustDecimal("12.50") is "12.50".
func (d Decimal) String() string {
	c := d.coefficient()
	digits := new(big.Int).Abs(c).String()
	if d.scale > 0 {
		if len(digits) <= d.scale {
			digits = strings.Repeat("0", d.scale-len(digits)+1) + digits
		}
		cut := len(digits) - d.scale
		digits = digits[:cut] + "." + digits[cut:]
	}
	if c.Sign() < 0 {
		return "-" + digits
	}
	return digits
}

func (d Decimal) IsZero() bool { return d.coefficient().Sign() == 0 }
func (d Decimal) Sign() int    { return d.coefficient().Sign() }

// Scale is the number of digits after the point as written or computed.
func (d Decimal) Scale() int { return d.scale }

// Cmp compares numerically: 1.0 and 1 compare equal.
func (d Decimal) Cmp(o Decimal) int {
	s := max(d.scale, o.scale)
	return d.withScale(s).Cmp(o.withScale(s))
}

// Equal is numeric equality, ignoring scale: 1.0 equals 1.
func (d Decimal) Equal(o Decimal) bool { return d.Cmp(o) == 0 }

// IsInteger reports whether there is no fractional part; 12.00 is an integer.
func (d Decimal) IsInteger() bool {
	if d.scale == 0 {
		return true
	}
	return new(big.Int).Rem(d.coefficient(), pow10(d.scale)).Sign() == 0
}

func (d Decimal) Neg() Decimal {
	return Decimal{coef: new(big.Int).Neg(d.coefficient()), scale: d.scale}
}

func (d Decimal) Abs() Decimal {
	return Decimal{coef: new(big.Int).Abs(d.coefficient()), scale: d.scale}
}

// Add keeps the larger scale, so 1.5 + 2.25 is 3.75 and 1.50 + 1 is 2.50.
func (d Decimal) Add(o Decimal) Decimal {
	s := max(d.scale, o.scale)
	a := d.withScale(s)
	return Decimal{coef: a.Add(a, o.withScale(s)), scale: s}
}

func (d Decimal) Sub(o Decimal) Decimal {
	s := max(d.scale, o.scale)
	a := d.withScale(s)
	return Decimal{coef: a.Sub(a, o.withScale(s)), scale: s}
}

// Mul is exact: the scales add up. A product may exceed the parse bounds; it
// then cannot be marshalled (see MarshalJSON), which is deliberate: store the
// figures as reported and derive products when reading.
func (d Decimal) Mul(o Decimal) Decimal {
	return Decimal{coef: new(big.Int).Mul(d.coefficient(), o.coefficient()), scale: d.scale + o.scale}
}

// Rat returns the exact value as a new *big.Rat the caller may modify.
func (d Decimal) Rat() *big.Rat {
	return new(big.Rat).SetFrac(new(big.Int).Set(d.coefficient()), pow10(d.scale))
}

// Float64 is lossy and exists only for display and metrics; never feed it
// back into a rule.
func (d Decimal) Float64() float64 {
	f, _ := d.Rat().Float64()
	return f
}

// storable refuses values ParseDecimal would refuse, so nothing is written
// to an event that cannot be read back.
func (d Decimal) storable() error {
	if d.scale > DecimalMaxScale {
		return fmt.Errorf("decimal %s: too many digits after the point to store (scale <= %d)", clipForError(d.String()), DecimalMaxScale)
	}
	if len(new(big.Int).Abs(d.coefficient()).String()) > DecimalMaxDigits {
		return fmt.Errorf("decimal %s: too many digits to store (max %d)", clipForError(d.String()), DecimalMaxDigits)
	}
	return nil
}

// MarshalJSON writes a JSON string ("447.5") so that no JSON reader turns the
// figure into a binary float on the way.
func (d Decimal) MarshalJSON() ([]byte, error) {
	if err := d.storable(); err != nil {
		return nil, err
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON accepts a JSON string or a JSON number, the number read from
// its literal text, never through float64. null is a no-op, as in
// encoding/json, so an optional figure that is absent stays the zero value.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	text := string(b)
	if text == "null" {
		return nil
	}
	if strings.HasPrefix(text, `"`) {
		if err := json.Unmarshal(b, &text); err != nil {
			return fmt.Errorf("decimal: %w", err)
		}
	}
	v, err := ParseDecimal(text)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func (d Decimal) MarshalText() ([]byte, error) {
	if err := d.storable(); err != nil {
		return nil, err
	}
	return []byte(d.String()), nil
}

func (d *Decimal) UnmarshalText(b []byte) error {
	v, err := ParseDecimal(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
