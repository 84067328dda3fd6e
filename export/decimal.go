package export

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"
	"time"
)

// decimalBytes is the Parquet form of DECIMAL(38, scale) for the decimal
// text s, as the read models write it (plain notation: "-18.75", "607"):
// the unscaled value s×10^scale as 16 bytes of big-endian two's
// complement. fits is false when the value has more than 38 digits at
// that scale, or more places than the scale once trailing zeros are
// dropped; text that is not a plain decimal is an error (a projector bug).
func decimalBytes(dst *[16]byte, s string, scale int) (fits bool, err error) {
	digits, negative, err := unscaledDigits(s, scale)
	if err != nil || digits == "" {
		return false, err
	}
	if len(digits) > decimalPrecision {
		return false, nil
	}
	// 38 digits are below 2^127: accumulate in two words, then negate
	// in two's complement.
	var hi, lo uint64
	for i := 0; i < len(digits); i++ {
		h, l := bits.Mul64(lo, 10)
		var carry uint64
		lo, carry = bits.Add64(l, uint64(digits[i]-'0'), 0)
		hi = hi*10 + h + carry
	}
	if negative {
		var borrow uint64
		lo, borrow = bits.Sub64(0, lo, 0)
		hi, _ = bits.Sub64(0, hi, borrow)
	}
	binary.BigEndian.PutUint64(dst[:8], hi)
	binary.BigEndian.PutUint64(dst[8:], lo)
	return true, nil
}

// unscaledDigits returns the digits of s×10^scale without leading zeros
// and its sign; "" means the value needs more places than scale.
func unscaledDigits(s string, scale int) (digits string, negative bool, err error) {
	rest := s
	if strings.HasPrefix(rest, "-") {
		negative, rest = true, rest[1:]
	}
	intPart, frac, hasPoint := strings.Cut(rest, ".")
	if intPart == "" || (hasPoint && frac == "") || !allDigits(intPart) || !allDigits(frac) {
		return "", false, fmt.Errorf("%q is not a decimal in plain notation", s)
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > scale {
		return "", false, nil
	}
	digits = strings.TrimLeft(intPart+frac+strings.Repeat("0", scale-len(frac)), "0")
	if digits == "" {
		return "0", false, nil
	}
	return digits, negative, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Parquet's TIMESTAMP(NANOS) is an int64 of nanoseconds since 1970: it
// spans 1677-09-21 to 2262-04-11, which every record time falls in.
var (
	minNanosInstant = time.Unix(0, -1<<63)
	maxNanosInstant = time.Unix(0, 1<<63-1)
)

// instantNanos reads an instant of the read models (fixed-width UTC, see
// instantLayout) as nanoseconds since 1970.
func instantNanos(s string) (int64, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || !strings.HasSuffix(s, "Z") {
		return 0, fmt.Errorf("%q is not a UTC instant", s)
	}
	if t.Before(minNanosInstant) || t.After(maxNanosInstant) {
		return 0, fmt.Errorf("instant %s is outside what TIMESTAMP(NANOS) holds (1677..2262)", s)
	}
	return t.UnixNano(), nil
}

// dayNumber reads a day "YYYY-MM-DD" as days since 1970-01-01 (Parquet's
// DATE).
func dayNumber(s string) (int32, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a day YYYY-MM-DD", s)
	}
	// Unix seconds of a midnight UTC are a whole number of days; floor
	// division keeps days before 1970 right.
	secs := t.Unix()
	days := secs / 86400
	if secs%86400 != 0 && secs < 0 {
		days--
	}
	return int32(days), nil
}
