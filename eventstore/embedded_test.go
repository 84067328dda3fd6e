package eventstore

import (
	"net"
	"strings"
	"testing"
)

// A client port already taken is reported as such, from the server's own
// attempt to bind it, instead of a wait that ends in "not ready".
func TestEmbeddedListenPortInUse(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	e, err := StartEmbedded(EmbeddedConfig{StoreDir: t.TempDir(), Listen: taken.Addr().String()})
	if err == nil {
		e.Shutdown()
		t.Fatalf("started on %s, a port another listener holds", taken.Addr())
	}
	for _, want := range []string{taken.Addr().String(), "address already in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
}
