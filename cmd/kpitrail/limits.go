package main

import (
	"flag"
	"time"

	"kpitrail/httpapi"
)

// Limits are serve's budgets against hostile or careless clients: what a
// change stream, an as-of replay, an import and an export may cost. The
// zero value takes every default (README, "Configuration").
type Limits struct {
	Streams httpapi.StreamLimits
}

// flags registers the budgets on serve's flag set.
func (l *Limits) flags(fs *flag.FlagSet) {
	fs.IntVar(&l.Streams.Max, "max-streams", 256, "change streams (GET /v1/changes) open at once, over all tokens")
	fs.IntVar(&l.Streams.PerToken, "max-streams-per-token", 8, "change streams one token may hold open")
	fs.IntVar(&l.Streams.Buffer, "stream-buffer", 256, "changes buffered for one change stream")
	fs.DurationVar(&l.Streams.BehindAfter, "stream-behind-after", 10*time.Second, "how long a change stream's buffer may stay full before the stream ends with a 'behind' event")
	fs.DurationVar(&l.Streams.WriteTimeout, "stream-write-timeout", 30*time.Second, "how long one write to a change stream may block before the stream ends")
}
