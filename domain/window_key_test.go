package domain

import (
	"fmt"
	"testing"
)

// TestWindowKeyIsItsFormat: Key writes what the format it replaced wrote.
func TestWindowKeyIsItsFormat(t *testing.T) {
	for _, y := range []int{-5, 0, 7, 1990, 2024, 2200, 123456} {
		for from := -2; from <= 14; from++ {
			for to := -2; to <= 14; to++ {
				w := Window{Year: y, FromMonth: from, ToMonth: to}
				n := w.Normalize()
				want := fmt.Sprintf("%d-%02d..%d-%02d", n.Year, n.FromMonth, n.Year, n.ToMonth)
				if n.FullYear() {
					want = fmt.Sprintf("%d", n.Year)
				}
				if got := w.Key(); got != want {
					t.Fatalf("%+v: Key %q, format %q", w, got, want)
				}
			}
		}
	}
	if got := (Window{Year: 2024, FromMonth: 100, ToMonth: -100}).Key(); got != fmt.Sprintf("%d-%02d..%d-%02d", 2024, 100, 2024, -100) {
		t.Fatalf("wide months: %q", got)
	}
}
