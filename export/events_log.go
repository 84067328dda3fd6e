package export

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"kpitrail/eventstore"
)

// eventsLog is the read models' index of the log. Since schema version 7
// it holds no payload and no hashes: the log holds them, signed. Its
// export adds them back from the log, so the files keep every column
// analysts had, and stored_events and events_log still compare column for
// column.
const eventsLog = "events_log"

// fromLog are the events_log export's columns read from the log, and the
// column they follow.
var (
	fromLog      = []string{"payload", "hash", "prev_hash"}
	fromLogAfter = "source"
)

// withLogColumns puts fromLog into events_log's columns where the table
// held them before schema 7, typed as stored_events types them.
func withLogColumns(cols []Column) []Column {
	at := slices.IndexFunc(cols, func(c Column) bool { return c.Name == fromLogAfter }) + 1
	var add []Column
	for _, c := range storedEventColumns {
		if slices.Contains(fromLog, c.Name) {
			add = append(add, c)
		}
	}
	return slices.Insert(slices.Clone(cols), at, add...)
}

// scanEventsLog reads events_log in key order, joined with the log by
// position: each row's event is the one at its position and index in the
// log, and gives its payload and hashes. A message is used only as the
// store judged it (eventstore.Authentic, Message.Foreign): a payload is
// never exported from a message that is not kpitrail's, nor from one that
// does not hold the row's event. The log is read from the first row's
// position up to the last row's, which is at or below the read models'
// checkpoint.
func scanEventsLog(ctx context.Context, q queryer, log Log, cols []Column, emit func([]any) error) (int64, error) {
	if log == nil {
		return 0, fmt.Errorf("export %s: its payloads and hashes are read from the event log, and no log was given", eventsLog)
	}
	var stored []string
	at := make([]int, len(cols)) // column i is stored[at[i]], or fromLog[-at[i]-1]
	for i, c := range cols {
		if k := slices.Index(fromLog, c.Name); k >= 0 {
			at[i] = -k - 1
			continue
		}
		at[i] = len(stored)
		stored = append(stored, quoteIdent(c.Name))
	}
	posAt, idxAt, idAt := slices.Index(stored, `"position"`), slices.Index(stored, `"idx"`), slices.Index(stored, `"event_id"`)
	if posAt < 0 || idxAt < 0 || idAt < 0 {
		return 0, fmt.Errorf("export %s: position, idx and event_id are required to read the log", eventsLog)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+strings.Join(stored, ", ")+` FROM `+eventsLog+` ORDER BY position, idx`)
	if err != nil {
		return 0, fmt.Errorf("export %s: %w", eventsLog, err)
	}
	defer rows.Close()
	vals := make([]any, len(stored))
	ptrs := make([]any, len(stored))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	// row is the current row's key; more is false once rows are done.
	var row struct {
		position uint64
		idx      int
		id       string
	}
	more := false
	next := func() error {
		if more = rows.Next(); !more {
			return rows.Err()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		p, pok := vals[posAt].(int64)
		i, iok := vals[idxAt].(int64)
		if !pok || !iok || p <= 0 || i < 0 {
			return fmt.Errorf("a row with position %v, idx %v", vals[posAt], vals[idxAt])
		}
		row.position, row.idx, row.id = uint64(p), int(i), textOf(vals[idAt])
		return nil
	}
	if err := next(); err != nil || !more {
		if err != nil {
			err = fmt.Errorf("export %s: %w", eventsLog, err)
		}
		return 0, err
	}
	var n int64
	out := make([]any, len(cols))
	err = log.Read(ctx, row.position-1, eventstore.ReadOptions{}, func(m eventstore.Message) error {
		if m.Position < row.position {
			return nil // dead-lettered: no row
		}
		if m.Position > row.position {
			return fmt.Errorf("position %d (event %s) is not in the log", row.position, row.id)
		}
		if m.Err != nil || m.Foreign != nil {
			return fmt.Errorf("position %d (event %s): the log's message is not authentic: %w", m.Position, row.id, errors.Join(m.Err, m.Foreign))
		}
		for more && row.position == m.Position {
			if row.idx >= len(m.Events) || m.Events[row.idx].ID != row.id {
				return fmt.Errorf("position %d: the log holds no event %s at index %d", m.Position, row.id, row.idx)
			}
			e := m.Events[row.idx]
			logged := []any{string(e.Payload), e.Hash, e.PrevHash}
			for i, c := range cols {
				var v any
				if at[i] >= 0 {
					v = vals[at[i]]
				} else {
					v = logged[-at[i]-1]
				}
				var err error
				if out[i], err = normalize(c, v); err != nil {
					return fmt.Errorf("row %d: %w", n+1, err)
				}
			}
			if err := emit(out); err != nil {
				return err
			}
			n++
			if err := next(); err != nil {
				return err
			}
		}
		if !more {
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	if err == nil && more {
		err = fmt.Errorf("the log ends before position %d (event %s)", row.position, row.id)
	}
	if err != nil {
		return n, fmt.Errorf("export %s: %w", eventsLog, err)
	}
	return n, nil
}

func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

// scanner reads one read-model table for export.
func scanner(ctx context.Context, q queryer, log Log, table string, cols []Column, pk []string) scanFunc {
	if table == eventsLog {
		return func(emit func([]any) error) (int64, error) { return scanEventsLog(ctx, q, log, cols, emit) }
	}
	return func(emit func([]any) error) (int64, error) { return scanTable(ctx, q, table, cols, pk, emit) }
}
