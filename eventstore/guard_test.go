package eventstore_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/internal/natstest"
)

type guardFixture struct {
	t    *testing.T
	nc   *nats.Conn
	js   jetstream.JetStream
	file string
	mark eventstore.Mark
}

func newGuardFixture(t *testing.T) *guardFixture {
	srv := natstest.RunEmbedded(t)
	nc := srv.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return &guardFixture{t: t, nc: nc, js: js, file: filepath.Join(t.TempDir(), "stream.json")}
}

// open opens the store attached and the guard, as serve does.
func (f *guardFixture) open(cfg eventstore.Config, readOnly bool) (*eventstore.JetStream, *eventstore.Guard, error) {
	f.t.Helper()
	cfg.Attach = true
	store, err := eventstore.OpenJetStream(context.Background(), f.nc, cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	g, err := eventstore.OpenGuard(context.Background(), store, eventstore.GuardConfig{File: f.file, ReadOnly: readOnly,
		Mark: func(context.Context) (eventstore.Mark, error) { return f.mark, nil }, Every: time.Hour,
		By: "test", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return store, g, err
}

func (f *guardFixture) append(store *eventstore.JetStream, id string) domain.Envelope {
	f.t.Helper()
	envs, err := store.Append(context.Background(), domain.AggregateRef{Type: domain.AggregateTask, ID: id}, 0,
		domain.Meta{Actor: "office:考评办", CommandID: "c-" + id, Source: "test"},
		domain.Pending{Name: "task.registered", SchemaVersion: 1, Payload: []byte(`{"task_id":"` + id + `","year":2022,"title":"守护","lead_department":"区政府办"}`)})
	if err != nil {
		f.t.Fatal(err)
	}
	return envs[0]
}

func faultNames(t *testing.T, g *eventstore.Guard, want ...string) {
	t.Helper()
	err := g.Err()
	if domain.ErrorCode(err) != domain.EUNAVAILABLE {
		t.Fatalf("guard verdict %v, want unavailable", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Fatalf("%q does not name %q", err, w)
		}
	}
}

func TestGuardCreatesAStreamOnlyWhereNoHistoryExists(t *testing.T) {
	f := newGuardFixture(t)
	ctx := context.Background()
	store, g, err := f.open(eventstore.Config{}, false)
	if err != nil || g.Err() != nil {
		t.Fatalf("a fresh directory: %v %v", err, g.Err())
	}
	rec, err := eventstore.ReadStreamRecord(f.file)
	if err != nil || rec == nil || len(rec.History) != 1 || rec.History[0].Action != "created the stream" {
		t.Fatalf("record after creating: %+v %v", rec, err)
	}
	f.append(store, "a")
	if err := f.js.DeleteStream(ctx, "KPITRAIL"); err != nil {
		t.Fatal(err)
	}
	// The record alone says history existed.
	_, g, err = f.open(eventstore.Config{}, false)
	if err != nil {
		t.Fatal(err)
	}
	faultNames(t, g, "KPITRAIL is missing", "records it")
	// The read models alone say so too.
	f.mark = eventstore.Mark{Position: 1}
	f.file = filepath.Join(t.TempDir(), "stream.json")
	_, g, err = f.open(eventstore.Config{}, false)
	if err != nil {
		t.Fatal(err)
	}
	faultNames(t, g, "KPITRAIL is missing", "read models include the log up to position 1")
	if _, err := f.js.Stream(ctx, "KPITRAIL"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("the guard created a stream over history: %v", err)
	}
	// A tool that only reads creates nothing, even in an empty directory.
	f.mark, f.file = eventstore.Mark{}, filepath.Join(t.TempDir(), "stream.json")
	if _, _, err := f.open(eventstore.Config{}, true); err == nil || !strings.Contains(err.Error(), "no event stream") {
		t.Fatalf("read-only on no stream: %v", err)
	}
	if _, err := f.js.Stream(ctx, "KPITRAIL"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("a read-only guard created the stream: %v", err)
	}
}

// TestGuardSeesAStreamReplacedByAnother deletes the stream and builds
// another of the same length under the same name, as a rewrite would.
func TestGuardSeesAStreamReplacedByAnother(t *testing.T) {
	f := newGuardFixture(t)
	store, _, err := f.open(eventstore.Config{}, false)
	if err != nil {
		t.Fatal(err)
	}
	f.append(store, "a")
	last := f.append(store, "b")
	f.mark = eventstore.Mark{Position: 2, EventPosition: 2, EventID: last.ID}
	ctx := context.Background()
	if err := f.js.DeleteStream(ctx, "KPITRAIL"); err != nil {
		t.Fatal(err)
	}
	other, err := eventstore.OpenJetStream(ctx, f.nc, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f.append(other, "x")
	f.append(other, "y")
	_, g, err := f.open(eventstore.Config{}, false)
	if err != nil {
		t.Fatal(err)
	}
	faultNames(t, g, "as recorded: it is another stream", "holds another message at position 2 than the one the read models applied (event "+last.ID+")")
}

// TestGuardAppliesKpitrailsOwnConfiguration changes a setting kpitrail
// owns (as a new flag value would) on a stream as kpitrail left it: that is
// applied and recorded, not a fault. The same change made by someone else
// while watched is a fault at once, by the server's advisory.
func TestGuardAppliesKpitrailsOwnConfiguration(t *testing.T) {
	f := newGuardFixture(t)
	if _, _, err := f.open(eventstore.Config{}, false); err != nil {
		t.Fatal(err)
	}
	_, g, err := f.open(eventstore.Config{DuplicateWindow: 5 * time.Minute}, false)
	if err != nil || g.Err() != nil {
		t.Fatalf("kpitrail's own change: %v %v", err, g.Err())
	}
	rec := g.Record()
	if rec.Config.Duplicates != 5*time.Minute || !strings.Contains(rec.History[len(rec.History)-1].Action, "duplicate_window 5m0s (recorded 2m0s)") {
		t.Fatalf("record after kpitrail's change: %+v", rec)
	}
	if err := g.Watch(context.Background(), f.nc); err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ctx := context.Background()
	st, err := f.js.Stream(ctx, "KPITRAIL")
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	cfg.MaxBytes = 1 << 20
	if _, err := f.js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for g.Err() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	faultNames(t, g, "max_bytes 1048576 (recorded -1)")
}
