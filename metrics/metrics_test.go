package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestRegisterCreatesOnce: a second registration of the same series (a
// second API server on one registry) returns the first collector, so both
// count into one series instead of panicking.
func TestRegisterCreatesOnce(t *testing.T) {
	reg := NewRegistry()
	opts := prometheus.CounterOpts{Name: "kpitrail_test_total", Help: "test"}
	a := Register(reg, prometheus.NewCounter(opts))
	b := Register(reg, prometheus.NewCounter(opts))
	a.Inc()
	b.Inc()
	if got := testutil.ToFloat64(a); got != 2 || a != b {
		t.Fatalf("two registrations count %v apart", got)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a name reused with other labels was accepted")
		}
	}()
	Register(reg, prometheus.NewCounterVec(opts, []string{"x"}))
}

// TestNewRegistryHasStandardCollectors: go_, process_ and go_build_info
// come with every registry.
func TestNewRegistryHasStandardCollectors(t *testing.T) {
	families, err := NewRegistry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, f := range families {
		seen[f.GetName()] = true
	}
	for _, name := range []string{"go_goroutines", "go_build_info", "process_start_time_seconds"} {
		if !seen[name] {
			t.Errorf("no %s", name)
		}
	}
}
