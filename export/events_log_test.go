package export

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// alteredLog is a log as a reader would get it from a store that judged
// some of it: change rewrites each message before it is handed on.
type alteredLog struct {
	Log
	change func(*eventstore.Message) bool // false: the log ends here
}

func (l alteredLog) Read(ctx context.Context, after uint64, opts eventstore.ReadOptions, fn func(eventstore.Message) error) error {
	return l.Log.Read(ctx, after, opts, func(m eventstore.Message) error {
		if !l.change(&m) {
			return nil
		}
		return fn(m)
	})
}

// TestEventsLogExportChecksTheLog: events_log's payloads and hashes come
// from the log, and only from the log the read models were built from,
// message by message as the store judged it. Another log, a message the
// store found foreign, or a log that ends early fails the export; a
// missing log is refused before anything is written.
func TestEventsLogExportChecksTheLog(t *testing.T) {
	fx := newFixture(t)
	mid := fx.midPosition
	for _, tc := range []struct {
		name string
		log  Log
		want string
	}{
		{"another log", newFixture(t).store, "the log holds no event"},
		{"a message found foreign", alteredLog{fx.store, func(m *eventstore.Message) bool {
			if m.Position == mid {
				m.Foreign = eventstore.ErrForeign
			}
			return true
		}}, "not authentic"},
		{"a log that ends early", alteredLog{fx.store, func(m *eventstore.Message) bool { return m.Position < mid }}, "the log ends before"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(ctxT(t), Options{Dir: filepath.Join(t.TempDir(), "x"), DB: fx.db, Log: tc.log, Tables: []string{eventsLog}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("export: %v, want an error saying %q", err, tc.want)
			}
			var b bytes.Buffer
			if _, err := WriteTable(ctxT(t), &b, fx.db, tc.log, eventsLog, FormatJSONL); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("WriteTable: %v, want an error saying %q", err, tc.want)
			}
		})
	}
	_, err := Run(ctxT(t), Options{Dir: filepath.Join(t.TempDir(), "x"), DB: fx.db, Tables: []string{eventsLog}})
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.EINVALID || !strings.Contains(err.Error(), "log") {
		t.Fatalf("export without a log: %v", err)
	}
	if _, err := WriteTable(ctxT(t), &bytes.Buffer{}, fx.db, nil, eventsLog, FormatCSV); err == nil {
		t.Fatal("WriteTable of events_log without a log succeeded")
	}
	// The same log is accepted, and gives every applied event its payload.
	var b bytes.Buffer
	n, err := WriteTable(ctxT(t), &b, fx.db, fx.store, eventsLog, FormatJSONL)
	if err != nil || n == 0 || strings.Count(b.String(), `"payload":`) != n {
		t.Fatalf("WriteTable with the right log: %d rows, %v", n, err)
	}
}
