package main

import (
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
)

// byteSize is a flag holding a size in bytes, written as GOMEMLIMIT is:
// a number with an optional B, KiB, MiB, GiB or TiB.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	n, err := parseBytes(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}
	t := strings.TrimSpace(s)
	shift := uint(0)
	for _, u := range units {
		if v, ok := strings.CutSuffix(t, u.suffix); ok {
			t, shift = v, u.shift
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("%q is not a size (a number with an optional B, KiB, MiB, GiB or TiB)", s)
	}
	return n << shift, nil
}

// setMemoryLimit sets the Go runtime's soft memory limit for a one-shot
// command and returns the function that restores the previous one. An
// explicit flag wins; otherwise GOMEMLIMIT, which the runtime has applied
// already, stays; otherwise def. 0 means no limit.
func (m *Main) setMemoryLimit(flagged bool, limit, def int64) func() {
	if !flagged {
		if m.Getenv("GOMEMLIMIT") != "" {
			return func() {}
		}
		limit = def
	}
	if limit == 0 {
		limit = math.MaxInt64
	}
	old := debug.SetMemoryLimit(limit)
	return func() { debug.SetMemoryLimit(old) }
}
