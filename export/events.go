package export

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"kpitrail/eventstore"
)

// Log is the event log as export reads it: the source of stored_events,
// and of the replay behind an export as of a position.
type Log interface {
	Read(ctx context.Context, after uint64, opts eventstore.ReadOptions, fn func(eventstore.Message) error) error
	LastPosition(ctx context.Context) (uint64, error)
}

// storedEventColumns mirror the events_log export column for column (the
// table's columns and, read from the log, payload, hash and prev_hash), so
// that `SELECT * FROM stored_events EXCEPT SELECT * FROM events_log` lists
// the events the read models set aside (dead letters). A test holds the
// two schemas equal.
var storedEventColumns = []Column{
	{Name: "position", Type: typeInteger},
	{Name: "idx", Type: typeInteger},
	{Name: "event_id", Type: typeText},
	{Name: "name", Type: typeText},
	{Name: "schema_version", Type: typeInteger},
	{Name: "aggregate_type", Type: typeText},
	{Name: "aggregate_id", Type: typeText},
	{Name: "aggregate_version", Type: typeInteger},
	{Name: "recorded_at", Type: typeText},
	{Name: "actor", Type: typeText},
	{Name: "command_id", Type: typeText},
	{Name: "correlation_id", Type: typeText, Nullable: true},
	{Name: "causation_id", Type: typeText, Nullable: true},
	{Name: "source", Type: typeText},
	{Name: "payload", Type: typeText},
	{Name: "hash", Type: typeText},
	{Name: "prev_hash", Type: typeText},
	{Name: "actor_token_id", Type: typeText, Nullable: true},
}

func init() {
	if err := classify(StoredEvents, storedEventColumns); err != nil {
		panic(err)
	}
}

// instantLayout is the read models' instant (docs/readmodels.md): UTC,
// fixed width, so text order is time order and stored_events.recorded_at
// compares equal to events_log.recorded_at. The hash is computed over a
// different spelling (events.md, field 8): reformat before re-verifying.
const instantLayout = "2006-01-02T15:04:05.000000000Z"

func formatInstant(t time.Time) string { return t.UTC().Format(instantLayout) }

var errStop = errors.New("stop reading")

// readStoredEvents hands every event of the messages at positions
// 1..upTo to emit, in log order. A message the store could not decode, or
// one kpitrail did not sign, adds no row (the read models dead-letter it).
func readStoredEvents(ctx context.Context, log Log, upTo uint64, emit func([]any) error) (int64, error) {
	if upTo == 0 {
		return 0, nil
	}
	if upTo > math.MaxInt64 {
		return 0, fmt.Errorf("export %s: position %d does not fit an INTEGER", StoredEvents, upTo)
	}
	var n int64
	vals := make([]any, len(storedEventColumns))
	err := log.Read(ctx, 0, eventstore.ReadOptions{}, func(m eventstore.Message) error {
		if m.Position > upTo {
			return errStop
		}
		if m.Foreign != nil {
			return nil // not kpitrail's: the read models dead-letter it, and so it stays out
		}
		for _, e := range m.Events {
			if e.AggregateVersion > math.MaxInt64 {
				return fmt.Errorf("export %s: event %s: aggregate version %d does not fit an INTEGER", StoredEvents, e.ID, e.AggregateVersion)
			}
			// The same values, and the same NULL for an absent id, that
			// the projector writes into events_log.
			vals = append(vals[:0], int64(m.Position), int64(e.Index), e.ID, e.Name, int64(e.SchemaVersion),
				e.AggregateType, e.AggregateID, int64(e.AggregateVersion), formatInstant(e.RecordedAt), e.Actor,
				e.CommandID, nullIfEmpty(e.CorrelationID), nullIfEmpty(e.CausationID), e.Source, string(e.Payload),
				e.Hash, e.PrevHash, nullIfEmpty(e.ActorTokenID))
			for i, c := range storedEventColumns {
				v, err := normalize(c, vals[i])
				if err != nil {
					return fmt.Errorf("export %s: event %s: %w", StoredEvents, e.ID, err)
				}
				vals[i] = v
			}
			if err := emit(vals); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return n, err
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
