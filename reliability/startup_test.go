package reliability

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// refusedAtStart runs serve to completion and checks that it failed with
// one line saying each of want, before it started anything: no JetStream
// store in the data directory.
func refusedAtStart(t *testing.T, env []string, data string, want []string, args ...string) {
	t.Helper()
	err, out := runTool(t, env, append([]string{"serve", "--data", data}, args...)...)
	if err == nil {
		t.Fatalf("serve %v started:\n%s", args, out)
	}
	out = strings.TrimSpace(out)
	if strings.Contains(out, "\n") {
		t.Errorf("serve %v: more than one line:\n%s", args, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("serve %v: the failure does not say %q:\n%s", args, w, out)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "jetstream")); !os.IsNotExist(err) {
		t.Errorf("serve %v opened the event log before failing (%v)", args, err)
	}
	t.Logf("serve %v: %s", args, out)
}

// TestStartupSaysWhatIsWrongFirst: a taken HTTP or NATS port is one line
// naming the address and the cause, said before anything starts, and so is
// a data directory no token could use.
func TestStartupSaysWhatIsWrongFirst(t *testing.T) {
	if testing.Short() {
		t.Skip("drives kpitrail processes")
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	addr := taken.Addr().String()
	boot := []string{"KPITRAIL_ADMIN_TOKEN=" + adminToken}

	refusedAtStart(t, boot, t.TempDir(), []string{"--http " + addr, "address already in use"}, "--http", addr)
	// The NATS port: before, serve waited 30 s and said "embedded nats: not
	// ready".
	refusedAtStart(t, boot, t.TempDir(), []string{"--nats-listen " + addr, "address already in use"},
		"--http", freePort(t), "--nats-listen", addr)

	// A fresh data directory without KPITRAIL_ADMIN_TOKEN: nobody could
	// issue a token, so serve refuses and says how to set one.
	data := t.TempDir()
	refusedAtStart(t, []string{"KPITRAIL_ADMIN_TOKEN="}, data, []string{"KPITRAIL_ADMIN_TOKEN", "kpitrail token issue"},
		"--http", freePort(t))

	// Once a token is issued, serve starts without the bootstrap token; the
	// issued token works, the bootstrap one no longer does. With no admin
	// among the live tokens, it warns how to recover.
	a := startServer(t, data)
	office := a.must(201, "POST", "/v1/tokens", adminToken, map[string]any{"name": "考评办", "role": "office"})["token"].(string)
	a.stop()
	b := &server{t: t, bin: kpitrailBinary(t), data: data, addr: freePort(t), noBootstrap: true}
	b.start()
	t.Cleanup(b.kill)
	b.must(200, "GET", "/v1/tasks", office, nil)
	b.must(401, "GET", "/v1/tasks", adminToken, nil)
	if !strings.Contains(b.logText(), "no admin token is live") {
		t.Errorf("no warning that nobody can issue tokens:\n%s", tail(b.logText(), 2000))
	}
}
