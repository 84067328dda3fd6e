package storetest

import (
	"testing"

	"github.com/nats-io/nats.go"

	"kpitrail/eventstore"
)

// Conn starts an in-process JetStream server that does not sync, its files
// in a temporary directory, and connects to it as name; both close when the
// test ends. A test opens its stores on the connection
// (eventstore.OpenJetStream), one or several with different settings.
func Conn(t testing.TB, name string) *nats.Conn {
	t.Helper()
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{StoreDir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Shutdown)
	nc, err := emb.Connect(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}
