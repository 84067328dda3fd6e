package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseLifetime reads a token lifetime: a Go duration (720h, 90m) or a
// whole number of days (90d), the unit operators think of tokens in.
func parseLifetime(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("%q: days must be a whole number from 0 to 36500", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q: want a duration such as 90d or 720h", s)
	}
	return d, nil
}

// lifetimeFlag is a flag.Value for parseLifetime.
type lifetimeFlag time.Duration

func (f *lifetimeFlag) String() string {
	if f == nil || *f == 0 {
		return ""
	}
	return time.Duration(*f).String()
}

func (f *lifetimeFlag) Set(s string) error {
	d, err := parseLifetime(s)
	*f = lifetimeFlag(d)
	return err
}

func (f *lifetimeFlag) Type() string { return "duration" }
