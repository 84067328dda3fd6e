package domain

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
)

func TestParseDecimalAccepts(t *testing.T) {
	cases := []struct {
		in, want string
		scale    int
	}{
		{"12", "12", 0},
		{"-3.50", "-3.50", 2},
		{"+7", "7", 0},
		{"0.001", "0.001", 3},
		{"1.5e3", "1500", 0},
		{"1E-2", "0.01", 2},
		{"1.25e1", "12.5", 1},
		{"12.50", "12.50", 2}, // reported precision is kept
		{"77.5", "77.5", 1},
		{"-0.0", "0.0", 1}, // no negative zero
		{"007", "7", 0},
		{"0e18", "0", 0},
		{"1e18", "1000000000000000000", 0},
		{"1e-18", "0.000000000000000001", 18},
		{"1e+2", "100", 0},
		{"5e-0", "5", 0},
		{"1234567890123456789012345678901234", "1234567890123456789012345678901234", 0},
		{"0.000000000000000123", "0.000000000000000123", 18},
	}
	for _, c := range cases {
		t.Run("given "+c.in+" when parsed then "+c.want, func(t *testing.T) {
			d, err := ParseDecimal(c.in)
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if d.String() != c.want || d.Scale() != c.scale {
				t.Errorf("got %s (scale %d), want %s (scale %d)", d, d.Scale(), c.want, c.scale)
			}
		})
	}
}

func TestParseDecimalRejects(t *testing.T) {
	cases := []struct{ in, rule string }{
		{"", "empty string"},
		{"NaN", "not a finite number"},
		{"-Inf", "not a finite number"},
		{"infinity", "not a finite number"},
		{"0x1F", "invalid character 'x'"},
		{" 1", "invalid character ' '"},
		{"1 ", "invalid character ' '"},
		{"1,000", "invalid character ','"},
		{"１２", "invalid character '１'"}, // full-width digits must be normalised by the importer
		{"12%", "invalid character '%'"},
		{"1.2.3", "more than one decimal point"},
		{".5", "digits required on both sides"},
		{"5.", "digits required on both sides"},
		{".", "digits required on both sides"},
		{"-", "no digits"},
		{"e5", "no digits"},
		{"--1", "invalid character '-'"},
		{"1e", "exponent has no digits"},
		{"1e+", "exponent has no digits"},
		{"1e+-2", "exponent has more than one sign"},
		{"1e2.5", "exponent: invalid character '.'"},
		{"1e400", "exponent out of range (|exp| <= 18)"},
		{"1e-400", "exponent out of range (|exp| <= 18)"},
		{"1e19", "exponent out of range (|exp| <= 18)"},
		{"1e99999999999999999999999", "exponent out of range"},
		{"12345678901234567890123456789012345", "too many significant digits (max 34)"},
		{"0.0000000000000000001", "too many digits after the point (scale <= 18)"},
		{"1.5e-18", "too many digits after the point (scale <= 18)"},
		{"1234567890123456789e18", "too large: more than 34 digits in plain notation"},
	}
	for _, c := range cases {
		t.Run("given "+c.in+" when parsed then error says "+c.rule, func(t *testing.T) {
			_, err := ParseDecimal(c.in)
			if err == nil {
				t.Fatal("expected an error")
			}
			if !strings.Contains(err.Error(), c.rule) || !strings.HasPrefix(err.Error(), "decimal ") {
				t.Errorf("error %q does not state the rule %q", err, c.rule)
			}
		})
	}
	t.Run("given 1e400 then the whole message names input and rule", func(t *testing.T) {
		_, err := ParseDecimal("1e400")
		if want := `decimal "1e400": exponent out of range (|exp| <= 18)`; err == nil || err.Error() != want {
			t.Errorf("got %v, want %s", err, want)
		}
	})
	t.Run("given a huge input then the message is clipped", func(t *testing.T) {
		_, err := ParseDecimal(strings.Repeat("x", 10000))
		if err == nil || len(err.Error()) > 200 {
			t.Errorf("error not clipped: %d bytes", len(err.Error()))
		}
	})
}

func TestMustDecimalPanicsOnBadInput(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("expected a panic")
		}
	}()
	MustDecimal("1,5")
}

func TestDecimalZeroValue(t *testing.T) {
	var z Decimal
	if z.String() != "0" || !z.IsZero() || z.Sign() != 0 || z.Scale() != 0 || !z.IsInteger() {
		t.Errorf("zero value misbehaves: %s", z)
	}
	if !z.Equal(MustDecimal("0.00")) || !z.Add(MustDecimal("1.5")).Equal(MustDecimal("1.5")) {
		t.Error("zero value does not act as 0")
	}
	if z.Rat().Sign() != 0 || z.Neg().String() != "0" {
		t.Error("zero value Rat/Neg wrong")
	}
}

func TestDecimalArithmetic(t *testing.T) {
	cases := []struct {
		name, got, want string
	}{
		{"add keeps the larger scale", MustDecimal("1.50").Add(MustDecimal("1")).String(), "2.50"},
		{"add mixed scales", MustDecimal("1.5").Add(MustDecimal("2.25")).String(), "3.75"},
		{"sub to negative", MustDecimal("13").Sub(MustDecimal("16")).String(), "-3"},
		{"sub with fractions", MustDecimal("77.5").Sub(MustDecimal("80.0")).String(), "-2.5"},
		{"mul adds scales", MustDecimal("1.5").Mul(MustDecimal("-0.20")).String(), "-0.300"},
		{"mul integers", DecimalFromInt(719).Mul(DecimalFromInt(12)).String(), "8628"},
		{"neg", MustDecimal("3.10").Neg().String(), "-3.10"},
		{"abs", MustDecimal("-3.10").Abs().String(), "3.10"},
		{"from int", DecimalFromInt(-42).String(), "-42"},
	}
	for _, c := range cases {
		t.Run("when "+c.name+" then "+c.want, func(t *testing.T) {
			if c.got != c.want {
				t.Errorf("got %s, want %s", c.got, c.want)
			}
		})
	}
}

func TestDecimalComparison(t *testing.T) {
	cases := []struct {
		a, b string
		cmp  int
	}{
		{"1.0", "1", 0},
		{"12.50", "12.5", 0},
		{"-0.01", "0", -1},
		{"610", "719", -1},
		{"169", "71", 1},
		{"-3", "-3.5", 1},
	}
	for _, c := range cases {
		t.Run("given "+c.a+" and "+c.b, func(t *testing.T) {
			a, b := MustDecimal(c.a), MustDecimal(c.b)
			if got := a.Cmp(b); got != c.cmp {
				t.Errorf("Cmp = %d, want %d", got, c.cmp)
			}
			if got := b.Cmp(a); got != -c.cmp {
				t.Errorf("reverse Cmp = %d, want %d", got, -c.cmp)
			}
			if a.Equal(b) != (c.cmp == 0) {
				t.Errorf("Equal disagrees with Cmp")
			}
		})
	}
}

func TestDecimalPredicates(t *testing.T) {
	cases := []struct {
		in            string
		sign          int
		zero, integer bool
	}{
		{"12.00", 1, false, true},
		{"12.01", 1, false, false},
		{"-5", -1, false, true},
		{"0.000", 0, true, true},
		{"-0.5", -1, false, false},
	}
	for _, c := range cases {
		t.Run("given "+c.in, func(t *testing.T) {
			d := MustDecimal(c.in)
			if d.Sign() != c.sign || d.IsZero() != c.zero || d.IsInteger() != c.integer {
				t.Errorf("sign %d zero %v integer %v", d.Sign(), d.IsZero(), d.IsInteger())
			}
		})
	}
}

func TestDecimalIsImmutable(t *testing.T) {
	a := MustDecimal("10.5")
	b := MustDecimal("2")
	_ = a.Add(b)
	_ = a.Sub(b)
	_ = a.Mul(b)
	_ = a.Neg()
	_ = a.Abs()
	_ = a.Round(0, HalfUp)
	a.Rat().Mul(a.Rat(), big.NewRat(1000, 1))
	r := a.Rat()
	r.SetInt64(99)
	if a.String() != "10.5" || b.String() != "2" {
		t.Errorf("operands changed: %s, %s", a, b)
	}
	if a.Rat().Cmp(big.NewRat(21, 2)) != 0 {
		t.Error("Rat does not return a fresh value")
	}
}

func TestDecimalRatAndFloat(t *testing.T) {
	d := MustDecimal("-18.75")
	if d.Rat().Cmp(big.NewRat(-75, 4)) != 0 {
		t.Errorf("Rat = %s", d.Rat())
	}
	if d.Float64() != -18.75 {
		t.Errorf("Float64 = %v", d.Float64())
	}
}

func TestDecimalJSON(t *testing.T) {
	type figure struct {
		Value    Decimal  `json:"value"`
		Optional *Decimal `json:"optional,omitempty"`
	}
	t.Run("when marshalled then it is a JSON string with its scale", func(t *testing.T) {
		b, err := json.Marshal(figure{Value: MustDecimal("447.50")})
		if err != nil || string(b) != `{"value":"447.50"}` {
			t.Errorf("got %s, %v", b, err)
		}
	})
	accepted := []struct{ in, want string }{
		{`{"value":"447.5"}`, "447.5"},
		{`{"value":447.5}`, "447.5"},
		{`{"value":0.1}`, "0.1"}, // read from the literal, not via float64
		{`{"value":1.5e3}`, "1500"},
		{`{"value":"\u0031\u0032"}`, "12"},
		{`{"value":null}`, "0"},
		{`{}`, "0"},
		{`{"value":1234567890123456.000000000000000001}`, "1234567890123456.000000000000000001"},
	}
	for _, c := range accepted {
		t.Run("given "+c.in+" when unmarshalled then "+c.want, func(t *testing.T) {
			var f figure
			if err := json.Unmarshal([]byte(c.in), &f); err != nil {
				t.Fatal(err)
			}
			if f.Value.String() != c.want {
				t.Errorf("got %s", f.Value)
			}
		})
	}
	rejected := []struct{ in, rule string }{
		{`{"value":"1e400"}`, "exponent out of range"},
		{`{"value":1e400}`, "exponent out of range"},
		{`{"value":"12 "}`, "invalid character ' '"},
		{`{"value":true}`, "invalid character 't'"},
		{`{"value":""}`, "empty string"},
	}
	for _, c := range rejected {
		t.Run("given "+c.in+" when unmarshalled then error", func(t *testing.T) {
			var f figure
			err := json.Unmarshal([]byte(c.in), &f)
			if err == nil || !strings.Contains(err.Error(), c.rule) {
				t.Errorf("got %v, want error containing %q", err, c.rule)
			}
		})
	}
	t.Run("given null when unmarshalled into a pointer then it stays nil", func(t *testing.T) {
		var f figure
		if err := json.Unmarshal([]byte(`{"value":"1","optional":null}`), &f); err != nil || f.Optional != nil {
			t.Errorf("got %v, %v", f.Optional, err)
		}
	})
	t.Run("given a product beyond the parse bounds when marshalled then error", func(t *testing.T) {
		tiny := MustDecimal("0.000000001")
		if _, err := json.Marshal(tiny.Mul(tiny).Mul(tiny)); err == nil || !strings.Contains(err.Error(), "scale <= 18") {
			t.Errorf("got %v", err)
		}
		huge := MustDecimal("1e18")
		if _, err := huge.Mul(huge).MarshalText(); err == nil || !strings.Contains(err.Error(), "max 34") {
			t.Errorf("got %v", err)
		}
	})
}

func TestDecimalText(t *testing.T) {
	t.Run("given a map keyed by decimal text then it round trips", func(t *testing.T) {
		var d Decimal
		if err := d.UnmarshalText([]byte("-3.50")); err != nil {
			t.Fatal(err)
		}
		b, err := d.MarshalText()
		if err != nil || string(b) != "-3.50" {
			t.Errorf("got %s, %v", b, err)
		}
	})
	t.Run("given bad text then error and value unchanged", func(t *testing.T) {
		d := MustDecimal("5")
		if err := d.UnmarshalText([]byte("five")); err == nil || d.String() != "5" {
			t.Errorf("got %s, %v", d, err)
		}
	})
}

func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"12", "-3.50", "+7", "0.001", "1.5e3", "1E-2", "1e400", "", ".", "-0.0",
		"12345678901234567890123456789012345", "1e18", "9.999e-15", "NaN", "0x10", "1,5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDecimal(s)
		if err != nil {
			return
		}
		back, err := ParseDecimal(d.String())
		if err != nil {
			t.Fatalf("%q parsed to %s, which does not parse: %v", s, d, err)
		}
		if !back.Equal(d) || back.String() != d.String() || back.Scale() != d.Scale() {
			t.Fatalf("%q: %s (scale %d) came back as %s (scale %d)", s, d, d.Scale(), back, back.Scale())
		}
		if _, err := d.MarshalJSON(); err != nil {
			t.Fatalf("%q parsed but cannot be marshalled: %v", s, err)
		}
	})
}
