package feed_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/app"
	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/feed"
	"kpitrail/internal/natstest"
	"kpitrail/projections"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// system is kpitrail as serve runs it: NATS, the store, the command
// service and the live read models.
type system struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	store *eventstore.JetStream
	svc   *app.Service
	live  *projections.Live
	cmds  int
}

func newSystem(t *testing.T) *system {
	t.Helper()
	srv := natstest.RunEmbedded(t, natstest.WithoutSync())
	nc := srv.Connect(t)
	ctx := context.Background()
	store, err := eventstore.OpenJetStream(ctx, nc, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	live, err := projections.OpenLive(ctx, filepath.Join(t.TempDir(), "readmodels.db"), store,
		projections.RunnerOptions{BatchWait: 5 * time.Millisecond}, quiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { live.Close() })
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return &system{nc: nc, js: js, store: store, svc: app.NewService(store), live: live}
}

func (s *system) exec(t *testing.T, cmd domain.Command) app.Result {
	t.Helper()
	s.cmds++
	meta := domain.Meta{Actor: "office:考评办", CommandID: fmt.Sprintf("cmd-%d", s.cmds), Source: "api",
		CorrelationID: "feed-test"}
	r, err := s.svc.Execute(context.Background(), meta, cmd, app.Options{})
	if err != nil {
		t.Fatalf("%s: %v", cmd.CommandName(), err)
	}
	return r
}

func (s *system) last(t *testing.T) uint64 {
	t.Helper()
	p, err := s.store.LastPosition(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// runFeed opens a feed on dir and runs it; stop closes it, as a process
// exit would.
func runFeed(t *testing.T, s *system, dir string, setup ...func(*feed.Feed)) (f *feed.Feed, stop func()) {
	t.Helper()
	f, err := feed.Open(context.Background(), feed.Config{Conn: s.nc, Log: s.store, Dir: dir, Logger: quiet,
		Retries: 1, RetryInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range setup {
		fn(f)
	}
	done := make(chan error, 1)
	go func() { done <- f.Run(context.Background()) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		if err := f.Close(); err != nil {
			t.Errorf("close feed: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}
	t.Cleanup(stop)
	return f, stop
}

func waitFeed(t *testing.T, f *feed.Feed, position uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := f.Wait(ctx, position); err != nil {
		t.Fatalf("feed did not reach %d (at %d): %v", position, f.Checkpoint(), err)
	}
}

// downstream is a department's system: a durable pull consumer that acks
// each event after it processed it.
type downstream struct {
	t    *testing.T
	cons jetstream.Consumer
}

// attach creates the durable consumer, or binds to it again after a
// restart: the server remembers where it stopped.
func attach(t *testing.T, s *system, name string) *downstream {
	t.Helper()
	cons, err := s.js.CreateOrUpdateConsumer(context.Background(), feed.DefaultStream, jetstream.ConsumerConfig{
		Durable: name, DeliverPolicy: jetstream.DeliverAllPolicy, AckPolicy: jetstream.AckExplicitPolicy,
		FilterSubject: feed.DefaultSubjectPrefix + ".*.*.*", MaxAckPending: 1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &downstream{t: t, cons: cons}
}

type received struct {
	subject string
	msgID   string
	event   feed.Event
}

// receive fetches until n events arrived, acking each.
func (d *downstream) receive(n int) []received {
	d.t.Helper()
	var out []received
	deadline := time.Now().Add(20 * time.Second)
	for len(out) < n {
		if time.Now().After(deadline) {
			d.t.Fatalf("received %d events, want %d: %s", len(out), n, describe(out))
		}
		batch, err := d.cons.Fetch(n-len(out), jetstream.FetchMaxWait(500*time.Millisecond))
		if err != nil {
			d.t.Fatal(err)
		}
		for m := range batch.Messages() {
			var ev feed.Event
			if err := json.Unmarshal(m.Data(), &ev); err != nil {
				d.t.Fatalf("payload %s: %v", m.Data(), err)
			}
			out = append(out, received{subject: m.Subject(), msgID: m.Headers().Get("Nats-Msg-Id"), event: ev})
			if err := m.Ack(); err != nil {
				d.t.Fatal(err)
			}
		}
		if err := batch.Error(); err != nil {
			d.t.Fatal(err)
		}
	}
	return out
}

// none checks that nothing more is waiting.
func (d *downstream) none() {
	d.t.Helper()
	batch, err := d.cons.Fetch(10, jetstream.FetchMaxWait(300*time.Millisecond))
	if err != nil {
		d.t.Fatal(err)
	}
	for m := range batch.Messages() {
		d.t.Errorf("unexpected event on %s: %s", m.Subject(), m.Data())
	}
}

func describe(rs []received) string {
	s := ""
	for _, r := range rs {
		s += fmt.Sprintf("\n  %s %s", r.msgID, r.event.Data)
	}
	return s
}

func dec(s string) *domain.Decimal { d := domain.MustDecimal(s); return &d }

func data[T any](t *testing.T, r received) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.event.Data, &v); err != nil {
		t.Fatalf("%s data %s: %v", r.event.Type, r.event.Data, err)
	}
	return v
}
