package domain

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
)

func TestRoundDecimal(t *testing.T) {
	cases := []struct {
		in       string
		places   int
		halfUp   string
		halfEven string
	}{
		{"12.25", 1, "12.3", "12.2"}, // rule 5's own example
		{"12.35", 1, "12.4", "12.4"},
		{"-12.25", 1, "-12.3", "-12.2"}, // half-up goes away from zero
		{"-12.35", 1, "-12.4", "-12.4"},
		{"103.85", 1, "103.9", "103.8"},
		{"12.5", 0, "13", "12"},
		{"13.5", 0, "14", "14"},
		{"12.251", 1, "12.3", "12.3"}, // not a tie: above half goes up in both
		{"12.249", 1, "12.2", "12.2"},
		{"-0.04", 1, "0.0", "0.0"}, // never "-0.0"
		{"-0.05", 1, "-0.1", "0.0"},
		{"1", 1, "1.0", "1.0"}, // the result has exactly the asked scale
		{"7.5", 3, "7.500", "7.500"},
		{"1250", -2, "1300", "1200"}, // negative places round to hundreds
		{"-1350", -2, "-1400", "-1400"},
	}
	for _, c := range cases {
		t.Run("given "+c.in+" when rounded then "+c.halfUp+" half-up and "+c.halfEven+" half-even", func(t *testing.T) {
			d := MustDecimal(c.in)
			if got := d.Round(c.places, HalfUp).String(); got != c.halfUp {
				t.Errorf("half-up: got %s, want %s", got, c.halfUp)
			}
			if got := d.Round(c.places, HalfEven).String(); got != c.halfEven {
				t.Errorf("half-even: got %s, want %s", got, c.halfEven)
			}
		})
	}
}

func TestRoundRat(t *testing.T) {
	t.Run("given 207.7/200 = 1.0385 when shown as a percent with 1 place then 103.9 half-up, 103.8 half-even", func(t *testing.T) {
		r := new(big.Rat).Quo(MustDecimal("207.7").Rat(), MustDecimal("200").Rat())
		if got := FormatPercent(r, 1, HalfUp); got != "103.9" {
			t.Errorf("half-up: %s", got)
		}
		if got := FormatPercent(r, 1, HalfEven); got != "103.8" {
			t.Errorf("half-even: %s", got)
		}
	})
	t.Run("given 1/3 when rounded to 4 places then 0.3333", func(t *testing.T) {
		if got := RoundRat(big.NewRat(1, 3), 4, HalfUp).String(); got != "0.3333" {
			t.Errorf("got %s", got)
		}
	})
	t.Run("given -2/3 when rounded to 0 places then -1", func(t *testing.T) {
		if got := RoundRat(big.NewRat(-2, 3), 0, HalfEven).String(); got != "-1" {
			t.Errorf("got %s", got)
		}
	})
	t.Run("given the input when rounded then it is not modified", func(t *testing.T) {
		r := big.NewRat(1225, 100)
		RoundRat(r, 1, HalfUp)
		if r.Cmp(big.NewRat(49, 4)) != 0 {
			t.Errorf("input changed to %s", r)
		}
	})
	for name, call := range map[string]func(){
		"nil rat":      func() { RoundRat(nil, 1, HalfUp) },
		"unknown mode": func() { RoundRat(big.NewRat(1, 2), 0, RoundingMode(7)) },
	} {
		t.Run("given "+name+" when rounded then panic", func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("expected a panic")
				}
			}()
			call()
		})
	}
}

func TestFormatPercent(t *testing.T) {
	cases := []struct {
		ratio  string
		places int
		want   string
	}{
		{"610/719", 1, "84.8"},
		{"5/2", 0, "250"},
		{"5/2", 1, "250.0"},
		{"191/193", 0, "99"},
		{"191/193", 1, "99.0"},
		{"11/12", 1, "91.7"},
		{"-3/16", 1, "-18.8"},
		{"0", 1, "0.0"},
	}
	for _, c := range cases {
		t.Run("given ratio "+c.ratio+" then "+c.want, func(t *testing.T) {
			if got := FormatPercent(rulesRat(t, c.ratio), c.places, HalfUp); got != c.want {
				t.Errorf("got %s", got)
			}
		})
	}
	t.Run("given no ratio then empty", func(t *testing.T) {
		if got := FormatPercent(nil, 1, HalfUp); got != "" {
			t.Errorf("got %q", got)
		}
	})
}

func TestRoundingModeNames(t *testing.T) {
	for _, m := range []RoundingMode{HalfUp, HalfEven} {
		t.Run("given "+m.String()+" then it parses back", func(t *testing.T) {
			back, err := RoundingModeFromString(m.String())
			if err != nil || back != m {
				t.Errorf("got %v, %v", back, err)
			}
		})
	}
	t.Run("given the zero value then it is half_up", func(t *testing.T) {
		var m RoundingMode
		if m != HalfUp || m.String() != "half_up" {
			t.Errorf("zero value is %s", m)
		}
	})
	t.Run("given an unknown name then the error lists the choices", func(t *testing.T) {
		_, err := RoundingModeFromString("bankers")
		if err == nil || !strings.Contains(err.Error(), "half_up or half_even") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("given a mode in JSON then it travels by name", func(t *testing.T) {
		b, err := json.Marshal(struct{ M RoundingMode }{HalfEven})
		if err != nil || string(b) != `{"M":"half_even"}` {
			t.Fatalf("got %s, %v", b, err)
		}
		var back struct{ M RoundingMode }
		if err := json.Unmarshal(b, &back); err != nil || back.M != HalfEven {
			t.Errorf("got %v, %v", back.M, err)
		}
		if _, err := json.Marshal(RoundingMode(9)); err == nil {
			t.Error("an unknown mode was marshalled")
		}
		if RoundingMode(9).String() != "RoundingMode(9)" {
			t.Errorf("got %s", RoundingMode(9))
		}
	})
}
