package natstest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// The process config is only ever read by the server binary, so parse it
// with the server's own parser to catch syntax that would be silently
// ignored, sync_interval in particular.
func TestProcessConfigParses(t *testing.T) {
	dir := t.TempDir()
	p := &Process{
		cfg:         newConfig([]Option{WithUserPassword("u", `p "a$s\s`)}),
		name:        "n2",
		storeDir:    filepath.Join(dir, "store"),
		clusterName: "natstest",
		clusterPort: 6222,
		routes:      []string{"nats-route://127.0.0.1:6223", "nats-route://127.0.0.1:6224"},
	}
	path := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(path, []byte(p.configText(4222)), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("%v\n%s", err, p.configText(4222))
	}
	switch {
	case !o.JetStream || !o.SyncAlways || o.StoreDir != p.storeDir:
		t.Errorf("jetstream: enabled=%v sync_always=%v store=%q", o.JetStream, o.SyncAlways, o.StoreDir)
	case o.ServerName != "n2" || o.Host != "127.0.0.1" || o.Port != 4222:
		t.Errorf("server: name=%q host=%q port=%d", o.ServerName, o.Host, o.Port)
	case o.Username != "u" || o.Password != `p "a$s\s`:
		t.Errorf("auth: user=%q password=%q", o.Username, o.Password)
	case o.Cluster.Name != "natstest" || o.Cluster.Port != 6222 || len(o.Routes) != 2:
		t.Errorf("cluster: name=%q port=%d routes=%v", o.Cluster.Name, o.Cluster.Port, o.Routes)
	}

	p.cfg = newConfig([]Option{WithoutSync()})
	if err := os.WriteFile(path, []byte(p.configText(4222)), 0o600); err != nil {
		t.Fatal(err)
	}
	if o, err = server.ProcessConfigFile(path); err != nil {
		t.Fatal(err)
	}
	if o.SyncAlways {
		t.Error("WithoutSync still syncs always")
	}
}
