package eventstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"

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
