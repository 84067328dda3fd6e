package export

import (
	"bufio"
	"context"
	"io"
	"slices"

	"kpitrail/domain"
	"kpitrail/projections"
)

// WriteTable streams one read-model table in one format to w (the HTTP
// route's body) and returns the rows written. No BOM is written; a caller
// that wants one for Excel writes BOM first. An unknown or internal table
// is a domain not-found error, an unknown format an invalid one. log is
// the event log db was built from: events_log's payloads and hashes are
// read from it (other tables do not need it).
func WriteTable(ctx context.Context, w io.Writer, db *projections.DB, log Log, table, format string) (rows int, err error) {
	if err := checkFormat(format); err != nil {
		return 0, err
	}
	// One read transaction: the columns and the rows come from one state.
	tx, err := db.Reader().BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	available, err := listTables(ctx, tx)
	if err != nil {
		return 0, err
	}
	if err := findTable(table, available); err != nil {
		return 0, err
	}
	cols, pk, err := describe(ctx, tx, table)
	if err != nil {
		return 0, err
	}
	n, err := writeOne(w, format, table, cols, scanner(ctx, tx, log, table, cols, pk))
	return int(n), err
}

// WriteStoredEvents streams the event log, positions 1..position (0: to
// the end of the log), one row per event, in one format to w.
func WriteStoredEvents(ctx context.Context, w io.Writer, log Log, position uint64, format string) (rows int, err error) {
	if err := checkFormat(format); err != nil {
		return 0, err
	}
	if position == 0 {
		if position, err = log.LastPosition(ctx); err != nil {
			return 0, err
		}
	}
	n, err := writeOne(w, format, StoredEvents, storedEventColumns, func(emit func([]any) error) (int64, error) {
		return readStoredEvents(ctx, log, position, emit)
	})
	return int(n), err
}

// scanFunc reads a table, handing each row to emit; it returns the count.
type scanFunc func(emit func([]any) error) (int64, error)

func writeOne(w io.Writer, format, table string, cols []Column, scan scanFunc) (int64, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	s, err := newSink(format, bw, table, cols)
	if err != nil {
		return 0, err
	}
	n, err := scan(s.row)
	if err != nil {
		return n, err
	}
	if err := s.close(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// findTable says why a name is not exportable: internal tables get their
// reason, so the refusal is not mistaken for a typo.
func findTable(table string, available []string) error {
	if slices.Contains(available, table) {
		return nil
	}
	if table == StoredEvents {
		return domain.NotFound("%s comes from the event log, not the read models (WriteStoredEvents)", table)
	}
	if why, ok := internalTables[table]; ok {
		return domain.NotFound("table %q is internal to the read models and not exported: %s", table, why)
	}
	return domain.NotFound("no exportable table %q", table)
}
