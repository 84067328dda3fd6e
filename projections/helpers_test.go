package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// testClock is the record-time clock of a test store.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(day string) *testClock {
	c := &testClock{}
	c.set(day)
	return c
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second) // distinct record times, in order
	return c.t
}

// set moves the clock to noon of day (China time).
func (c *testClock) set(day string) {
	d, err := time.ParseInLocation(time.DateOnly, day, DefaultLocation)
	if err != nil {
		panic(err)
	}
	c.mu.Lock()
	c.t = d.Add(12 * time.Hour)
	c.mu.Unlock()
}

// writer appends domain events to a store as a test's commands would.
type writer struct {
	t     *testing.T
	store eventstore.Store
	n     atomic.Int64
}

func taskRef(id string) domain.AggregateRef {
	return domain.AggregateRef{Type: domain.AggregateTask, ID: id}
}
func indRef(id string) domain.AggregateRef {
	return domain.AggregateRef{Type: domain.AggregateIndicator, ID: id}
}

func (w *writer) append(ref domain.AggregateRef, events ...domain.Event) []domain.Envelope {
	w.t.Helper()
	ps := make([]domain.Pending, len(events))
	for i, e := range events {
		p, err := domain.NewPending(e)
		if err != nil {
			w.t.Fatal(err)
		}
		ps[i] = p
	}
	return w.appendPending(ref, ps...)
}

func (w *writer) appendPending(ref domain.AggregateRef, ps ...domain.Pending) []domain.Envelope {
	w.t.Helper()
	ctx := context.Background()
	have, err := w.store.Load(ctx, ref)
	if err != nil {
		w.t.Fatal(err)
	}
	var version uint64
	if len(have) > 0 {
		version = have[len(have)-1].AggregateVersion
	}
	meta := domain.Meta{Actor: "office:区政府督查室", CommandID: fmt.Sprintf("cmd-%d", w.n.Add(1)), Source: "test"}
	envs, err := w.store.Append(ctx, ref, version, meta, ps...)
	if err != nil {
		w.t.Fatalf("append to %s: %v", ref, err)
	}
	return envs
}

func dec(s string) *domain.Decimal { d := domain.MustDecimal(s); return &d }

func openDB(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func tempDB(t *testing.T) *DB {
	return openDB(t, filepath.Join(t.TempDir(), "readmodels.db"))
}

// fixedNow is the wall clock of runners in tests: deadline statuses are
// judged on 2022-12-20 unless a test says otherwise.
func fixedNow() time.Time {
	return time.Date(2022, 12, 20, 9, 0, 0, 0, DefaultLocation)
}

func catchUp(t *testing.T, db *DB, store Log, opts RunnerOptions) *Runner {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	r := NewRunner(db, store, opts)
	if err := r.CatchUp(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	return r
}

// dump renders the hashed content of db, table by table, for comparisons
// that say which table differs.
func dump(t *testing.T, db *DB) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := dumpTables(context.Background(), db.reader, func(table string, columns []string) func([]any) {
		return func(row []any) {
			if row == nil {
				return
			}
			parts := make([]string, len(row))
			for i, v := range row {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				parts[i] = fmt.Sprintf("%s=%v", columns[i], v)
			}
			out[table] = append(out[table], strings.Join(parts, " | "))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameContent(t *testing.T, want, got *DB) {
	t.Helper()
	a, b := dump(t, want), dump(t, got)
	for _, table := range hashedTables {
		if len(a[table]) != len(b[table]) {
			t.Errorf("table %s: %d rows, want %d", table, len(b[table]), len(a[table]))
			continue
		}
		for i := range a[table] {
			if a[table][i] != b[table][i] {
				t.Errorf("table %s row %d:\n got  %s\n want %s", table, i, b[table][i], a[table][i])
			}
		}
	}
	ha, err := ContentHash(context.Background(), want)
	if err != nil {
		t.Fatal(err)
	}
	hb, err := ContentHash(context.Background(), got)
	if err != nil {
		t.Fatal(err)
	}
	if ha != hb {
		t.Errorf("content hash %s, want %s", hb, ha)
	}
}

// queryString reads one value through the reader pool.
func queryString(t *testing.T, db *DB, q string, args ...any) string {
	t.Helper()
	var s *string
	if err := db.Reader().QueryRow(q, args...).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if s == nil {
		return "<null>"
	}
	return *s
}

// tamperStore changes messages on their way out of a store, to play a
// damaged or foreign log.
type tamperStore struct {
	eventstore.Store
	mutate func(*eventstore.Message)
}

func (s tamperStore) Read(ctx context.Context, after uint64, opts eventstore.ReadOptions, fn func(eventstore.Message) error) error {
	return s.Store.Read(ctx, after, opts, func(m eventstore.Message) error {
		s.mutate(&m)
		return fn(m)
	})
}

// sliceStore serves a fixed log: what a crashed child process and its
// parent both read.
type sliceStore struct {
	msgs []eventstore.Message
}

func (s sliceStore) Read(ctx context.Context, after uint64, opts eventstore.ReadOptions, fn func(eventstore.Message) error) error {
	for _, m := range s.msgs {
		if m.Position <= after {
			continue
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (s sliceStore) LastPosition(context.Context) (uint64, error) {
	return uint64(len(s.msgs)), nil
}

func readAll(t *testing.T, store Log) []eventstore.Message {
	t.Helper()
	var out []eventstore.Message
	if err := store.Read(ctxT(t), 0, eventstore.ReadOptions{}, func(m eventstore.Message) error {
		out = append(out, m)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
