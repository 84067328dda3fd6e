package demo

import (
	"testing"

	"kpitrail/domain"
)

// Given the demo for two extra districts, then every district's steps are
// the seed district's with ids of its own, its tasks in its unit, its
// figures scaled by a factor of its own (percentages alone), the units
// registered before their tasks, and the year frozen once, last; and the
// steps are the same every time.
func TestUnitStepsAreTheSeedsPerDistrict(t *testing.T) {
	seed, err := Commands(SeedYear)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := UnitSteps(SeedYear, 2)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(seed) - 1 + 4 + 2*(len(seed)-1) + 1; len(steps) != want {
		t.Fatalf("%d steps, want %d", len(steps), want)
	}
	if _, ok := steps[len(steps)-1].Command.(domain.FreezeYear); !ok {
		t.Fatalf("last step %s, want the freeze", steps[len(steps)-1].Command.CommandName())
	}
	again, _ := UnitSteps(SeedYear, 2)
	keys := map[string]bool{}
	units := map[string]bool{domain.DefaultUnitID: true}
	scaled, kept := 0, 0
	for i, s := range steps {
		if keys[s.Key] {
			t.Fatalf("command key %s twice", s.Key)
		}
		keys[s.Key] = true
		if s.Key != again[i].Key {
			t.Fatalf("step %d differs between two runs", i)
		}
		switch c := s.Command.(type) {
		case domain.RegisterUnit:
			units[c.UnitID] = true
		case domain.RegisterTask:
			u := c.UnitID
			if u == "" {
				u = domain.DefaultUnitID
			}
			if !units[u] {
				t.Fatalf("task %s in unit %q before it is registered", c.TaskID, u)
			}
		case domain.ReportFigure:
			if len(c.IndicatorID) > 4 && c.IndicatorID[:4] == "d01-" {
				orig := findFigure(seed, c.IndicatorID[4:], c.Window)
				if orig == nil {
					t.Fatalf("no seed figure for %s", c.IndicatorID)
				}
				if orig.Value.Equal(*c.Value) {
					kept++
				} else {
					scaled++
				}
			}
		}
	}
	if scaled == 0 || kept == 0 {
		t.Fatalf("district figures: %d scaled, %d kept (percentages stay)", scaled, kept)
	}
}

func findFigure(steps []Step, indicator string, w domain.Window) *domain.ReportFigure {
	for _, s := range steps {
		if c, ok := s.Command.(domain.ReportFigure); ok && c.IndicatorID == indicator && c.Window == w {
			return &c
		}
	}
	return nil
}
