package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/eventstore/storetest"
	"kpitrail/internal/natstest"
)

// TestEmbeddedConformance runs the suite on kpitrail's default: the
// in-process server started exactly as `kpitrail serve` starts it.
func TestEmbeddedConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{StoreDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(emb.Shutdown)
		nc, err := emb.Connect("conformance")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return openStore(t, nc, eventstore.Config{})
	})
}

// TestProcessConformance runs the suite against a separate nats-server
// process on 127.0.0.1, built from the pinned module: the client talks TCP
// like it does to an external cluster.
func TestProcessConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a nats-server process")
	}
	proc := natstest.RunProcess(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) eventstore.Store {
		nc, err := nats.Connect(proc.URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		// One server for the suite; each test gets its own stream.
		i := n.Add(1)
		return openStore(t, nc, eventstore.Config{Stream: fmt.Sprintf("CONF%d", i), SubjectPrefix: fmt.Sprintf("conf%d.events", i)})
	})
}

func openStore(t *testing.T, nc *nats.Conn, cfg eventstore.Config) *eventstore.JetStream {
	t.Helper()
	s, err := eventstore.OpenJetStream(context.Background(), nc, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAppendHeaders pins what Append stores besides the body: the
// version and command headers, and the server checks it asks for (the
// last sequence on the aggregate's subject in any unit, the stream, the message id of the dedupe
// window, which still refuses a second publish of the same command).
func TestAppendHeaders(t *testing.T) {
	_, s := embeddedStore(t)
	ctx := context.Background()
	ref := domain.AggregateRef{Type: domain.AggregateTask, ID: "t1"}
	ev := pendingOf(t, narrativeEvent("进展"))
	first, err := s.Append(ctx, ref, 0, metaFor("c1"), ev...)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Append(ctx, ref, 1, metaFor("c2"), ev...)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pos  uint64
		want map[string]string
	}{
		{first[0].Position, map[string]string{"Kpitrail-Version": "1", "Kpitrail-Command-Id": "c1", "Nats-Msg-Id": "task/t1/c1",
			"Nats-Expected-Stream": "KPITRAIL", "Nats-Expected-Last-Subject-Sequence": "0",
			"Nats-Expected-Last-Subject-Sequence-Subject": "kpitrail.events.*.task.t1"}},
		{second[0].Position, map[string]string{"Kpitrail-Version": "2", "Kpitrail-Command-Id": "c2", "Nats-Msg-Id": "task/t1/c2",
			"Nats-Expected-Stream": "KPITRAIL", "Nats-Expected-Last-Subject-Sequence": fmt.Sprint(first[0].Position),
			"Nats-Expected-Last-Subject-Sequence-Subject": "kpitrail.events.*.task.t1"}},
	} {
		m, err := s.Stream().GetMsg(ctx, c.pos)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for k, v := range m.Header {
			switch k {
			case "Nats-Stream", "Nats-Subject", "Nats-Sequence", "Nats-Time-Stamp": // added by the direct get
			case "Kpitrail-Signature":
				// The signature is the store's key id and a signature that
				// differs with every key: check it names the store's key.
				if id, _, _ := strings.Cut(v[0], " "); len(v) != 1 || id != s.Signer().KeyID() {
					t.Fatalf("message %d signature header %q, want one by key %s", c.pos, v, s.Signer().KeyID())
				}
			default:
				got[k] = strings.Join(v, ";")
			}
		}
		if !maps.Equal(got, c.want) {
			t.Fatalf("message %d headers %v, want %v", c.pos, got, c.want)
		}
	}
	dup := nats.NewMsg(eventstore.Subject(s.Config().SubjectPrefix, domain.DefaultUnitID, ref))
	dup.Data = []byte(`{}`)
	dup.Header.Set(jetstream.MsgIDHeader, "task/t1/c2")
	ack, err := s.JetStreamContext().PublishMsg(ctx, dup)
	if err != nil || !ack.Duplicate || ack.Sequence != second[0].Position {
		t.Fatalf("same message id again: %+v, %v", ack, err)
	}
}

// TestRefusalWithoutAMovedStreamIsNoConflict: when the server refuses an
// append (here: its message id was taken by a foreign message on another
// subject) and the stream, read again, still stands at the caller's
// version, the answer is "outcome unknown, retry", never a conflict at the
// version the caller already had; and nothing is appended.
func TestRefusalWithoutAMovedStreamIsNoConflict(t *testing.T) {
	_, s := embeddedStore(t)
	ctx := context.Background()
	ref := domain.AggregateRef{Type: domain.AggregateTask, ID: "t1"}
	ev := pendingOf(t, narrativeEvent("进展"))
	if _, err := s.Append(ctx, ref, 0, metaFor("c1"), ev...); err != nil {
		t.Fatal(err)
	}
	other := domain.AggregateRef{Type: domain.AggregateTask, ID: "t2"}
	foreign := nats.NewMsg(eventstore.Subject(s.Config().SubjectPrefix, domain.DefaultUnitID, other))
	foreign.Data = []byte(`{}`)
	foreign.Header.Set(jetstream.MsgIDHeader, "task/t1/c2")
	if _, err := s.JetStreamContext().PublishMsg(ctx, foreign); err != nil {
		t.Fatal(err)
	}
	_, err := s.Append(ctx, ref, 1, metaFor("c2"), ev...)
	if !errors.Is(err, eventstore.ErrOutcomeUnknown) || domain.ErrorCode(err) == domain.ECONFLICT {
		t.Fatalf("append whose id a foreign message took: %v, want the outcome unknown and no conflict", err)
	}
	envs, err := s.Load(ctx, ref)
	if err != nil || len(envs) != 1 {
		t.Fatalf("task/t1 holds %d events (%v), want the first alone", len(envs), err)
	}
}
