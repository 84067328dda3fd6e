package projections

import (
	"context"
	"time"

	"kpitrail/eventstore"
)

// A replay as of an instant needs the log only up to the first message
// recorded well after it. Writers stamp a message's record time just
// before it is stored, so a message recorded by asOf is stored at most
// asOfSettle after it: the same bound that lets a finished as-of replay
// be kept for good. The replay stops reading at the first genuine message
// recorded later than asOf+asOfSettle; on a ten-year log the first year's
// replay reads one year, not ten.

// cutLog reads store up to (not including) the first genuine message
// recorded after cut.
type cutLog struct {
	Log
	cut time.Time
}

func cutAfter(store Log, asOf time.Time) Log {
	return cutLog{Log: store, cut: asOf.Add(asOfSettle)}
}

func (c cutLog) Read(ctx context.Context, after uint64, opts eventstore.ReadOptions, fn func(eventstore.Message) error) error {
	return c.Log.Read(ctx, after, opts, func(m eventstore.Message) error {
		// A foreign message's record time is whatever it claims; it cuts
		// nothing (and is dead-lettered in every view of the log).
		if m.Foreign == nil && len(m.Events) > 0 && m.Events[0].RecordedAt.After(c.cut) {
			return errStop
		}
		return fn(m)
	})
}
