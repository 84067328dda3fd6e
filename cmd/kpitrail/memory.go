package main

import (
	"math"
	"runtime/debug"
)

// setMemoryLimit sets the Go runtime's soft memory limit for a one-shot
// command, as serve's --memory-limit does for serve: GOMEMLIMIT, which the
// runtime has applied already, wins; 0 means none. It returns the function
// that restores the previous limit (tests run commands in their process).
func (m *Main) setMemoryLimit(limit int64) func() {
	if m.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	if limit <= 0 {
		limit = math.MaxInt64
	}
	old := debug.SetMemoryLimit(limit)
	return func() { debug.SetMemoryLimit(old) }
}
