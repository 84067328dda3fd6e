package reliability

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// guarded is a serve process with its NATS exposed, and kpitrail's own
// NATS identity, with which the tests do what an insider holding the key
// (or an operator's slip) could do to the event stream.
type guarded struct {
	*server
	nats   string
	office string
}

func startGuarded(t *testing.T, data string) *guarded {
	t.Helper()
	natsAddr := freePort(t)
	s := &server{t: t, bin: kpitrailBinary(t), data: data, addr: freePort(t),
		extra: []string{"--nats-listen", natsAddr, "--stream-check-every", "2s"}}
	s.start()
	t.Cleanup(func() { s.kill() })
	g := &guarded{server: s, nats: "nats://" + natsAddr}
	g.office = s.must(201, "POST", "/v1/tokens", adminToken, map[string]any{"name": "考评办", "role": "office"})["token"].(string)
	return g
}

// restart stops the process and starts it again; with faulty it does not
// wait for it to become ready.
func (g *guarded) restart(faulty bool) {
	g.stop()
	g.unready = faulty
	g.start()
	g.unready = false
}

func (g *guarded) js(t *testing.T) jetstream.JetStream {
	t.Helper()
	key, err := nats.NkeyOptionFromSeed(filepath.Join(g.data, "nats", "kpitrail.nk"))
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(g.nats, key, nats.MaxReconnects(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func (g *guarded) register(id string) {
	g.t.Helper()
	g.must(201, "POST", "/v1/tasks?wait=true", g.office, map[string]any{"task_id": id, "year": 2022, "title": "守护事件流",
		"lead_department": "区政府办"}, "Idempotency-Key", id)
}

// refusing waits until /readyz fails with the stream guard and a write is
// refused with 503 problem+json, each naming want.
func (g *guarded) refusing(want ...string) {
	g.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var ready map[string]any
	for {
		var status int
		status, ready = g.call("GET", "/readyz", "", nil)
		if status == 503 && ready["status"] == "stream guard failed" {
			break
		}
		if time.Now().After(deadline) {
			g.t.Fatalf("/readyz did not report the stream guard: %d %v\n%s", status, ready, tail(g.logText(), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	detail, _ := ready["detail"].(string)
	status, problem := g.call("POST", "/v1/tasks", g.office, map[string]any{"task_id": "refused", "year": 2022, "title": "不应写入",
		"lead_department": "区政府办"})
	if status != 503 || problem["code"] != "unavailable" || problem["rule"] != "stream_guard" {
		g.t.Fatalf("a write while the guard failed: %d %v", status, problem)
	}
	for _, w := range want {
		if !strings.Contains(detail, w) || !strings.Contains(problem["detail"].(string), w) {
			g.t.Fatalf("the cause does not name %q:\n/readyz: %s\nwrite: %v", w, detail, problem["detail"])
		}
	}
	if !strings.Contains(g.logText(), "event stream guard failed") {
		g.t.Fatalf("the fault was not logged:\n%s", tail(g.logText(), 3000))
	}
	// Reads go on from the read models.
	g.must(200, "GET", "/v1/tasks", g.office, nil)
}

func kpitrailTool(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, kpitrailBinary(t), args...).CombinedOutput()
	return string(out), err
}

// TestStreamDeletedWhileServingAndAcrossARestart deletes the event stream
// under a running server, restarts it, and restores the stream from a
// backup of its files with the runbook's commands.
func TestStreamDeletedWhileServingAndAcrossARestart(t *testing.T) {
	if testing.Short() {
		t.Skip("drives kpitrail processes")
	}
	data := t.TempDir()
	g := startGuarded(t, data)
	g.register("before-backup")
	// A backup of the stream's files, taken while the server is stopped.
	g.stop()
	backup := filepath.Join(t.TempDir(), "jetstream")
	if out, err := exec.Command("cp", "-a", filepath.Join(data, "jetstream"), backup).CombinedOutput(); err != nil {
		t.Fatalf("backup: %v %s", err, out)
	}
	g.start()
	g.register("after-backup")

	ctx := context.Background()
	if err := g.js(t).DeleteStream(ctx, "KPITRAIL"); err != nil {
		t.Fatal(err)
	}
	g.refusing("KPITRAIL is missing")

	// Across a restart: no empty stream is created over the history.
	g.restart(true)
	g.refusing("KPITRAIL is missing", "the read models include the log up to position")
	if _, err := g.js(t).Stream(ctx, "KPITRAIL"); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("after the restart the stream exists: %v", err)
	}
	g.stop()
	out, err := kpitrailTool(t, "audit", "verify", "--data", data)
	if err == nil || !strings.Contains(out, "KPITRAIL is missing") || strings.Contains(out, "findings: []") {
		t.Fatalf("verify of a directory whose stream is gone: %v\n%s", err, out)
	}
	if out, err := kpitrailTool(t, "stream", "adopt", "--data", data, "--reason", "test"); err == nil || !strings.Contains(out, "Restore it from a backup") {
		t.Fatalf("adopt without a stream and without --empty: %v\n%s", err, out)
	}

	// The runbook: put the backup back, see what the guard sees, adopt.
	if err := os.RemoveAll(filepath.Join(data, "jetstream")); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-a", backup, filepath.Join(data, "jetstream")).CombinedOutput(); err != nil {
		t.Fatalf("restore: %v %s", err, out)
	}
	out, err = kpitrailTool(t, "stream", "status", "--data", data)
	if err == nil || !strings.Contains(out, "but the read models include position") {
		t.Fatalf("status of a stream restored from an older backup: %v\n%s", err, out)
	}
	out, err = kpitrailTool(t, "stream", "adopt", "--data", data, "--reason", "restored from the backup of the day before")
	if err != nil || !strings.Contains(out, "set readmodels.db") {
		t.Fatalf("adopt the restored stream: %v\n%s", err, out)
	}
	t.Logf("adopt:\n%s", out)
	if out, err := kpitrailTool(t, "stream", "status", "--data", data); err != nil || !strings.Contains(out, "verdict     ok") ||
		!strings.Contains(out, "restored from the backup of the day before") {
		t.Fatalf("status after adopting: %v\n%s", err, out)
	}
	g.start()
	g.must(200, "GET", "/v1/tasks/before-backup", g.office, nil)
	if status, _ := g.call("GET", "/v1/tasks/after-backup", g.office, nil); status != 404 {
		t.Fatalf("a task the backup does not hold: %d", status)
	}
	g.register("after-restore")
	if out, err := kpitrailTool(t, "audit", "verify", "--data", data); err == nil {
		t.Fatalf("verify while serving must refuse: %s", out)
	}
}

// TestStreamShrunkWhileServing sets max_msgs with discard old on the
// running server's stream, which drops history despite DenyDelete and
// DenyPurge, and checks the server stops writing at once and stays so
// across a restart, and that the damaged stream cannot be adopted.
func TestStreamShrunkWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("drives kpitrail processes")
	}
	data := t.TempDir()
	g := startGuarded(t, data)
	for i := range 6 {
		g.register(fmt.Sprintf("t%d", i))
	}
	ctx := context.Background()
	js := g.js(t)
	st, err := js.Stream(ctx, "KPITRAIL")
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	cfg.MaxMsgs, cfg.Discard = 3, jetstream.DiscardOld
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	g.refusing("max_msgs 3 (recorded -1)", "discard old (recorded new)", "is gone")
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.LastSeq != 6 {
		t.Fatalf("the refused writes reached the stream: last position %d, want 6", info.State.LastSeq)
	}
	g.restart(true)
	g.refusing("max_msgs 3 (recorded -1)", "starts at position 4")
	g.stop()
	out, err := kpitrailTool(t, "stream", "adopt", "--data", data, "--reason", "test")
	if err == nil || !strings.Contains(out, "positions 1-3 are gone") {
		t.Fatalf("adopting a stream that lost its beginning: %v\n%s", err, out)
	}
}

// TestStreamReconfiguredWhileServing widens the stream's subjects (so
// messages from outside kpitrail's subjects would enter the log), checks
// the server refuses writes and keeps refusing across a restart, and that
// adopting restores kpitrail's configuration and keeps the read models,
// which still agree with the stream.
func TestStreamReconfiguredWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("drives kpitrail processes")
	}
	data := t.TempDir()
	g := startGuarded(t, data)
	g.register("kept")
	ctx := context.Background()
	js := g.js(t)
	st, err := js.Stream(ctx, "KPITRAIL")
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	cfg.Subjects = append(cfg.Subjects, "outside.>")
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	g.refusing("subjects kpitrail.events.> outside.> (recorded kpitrail.events.>)")
	g.restart(true)
	g.refusing("subjects kpitrail.events.> outside.>")
	g.stop()
	out, err := kpitrailTool(t, "stream", "adopt", "--data", data, "--reason", "subjects widened by mistake; reverted")
	if err != nil || !strings.Contains(out, "restored kpitrail's configuration") || !strings.Contains(out, "agree with it and are kept") {
		t.Fatalf("adopt: %v\n%s", err, out)
	}
	g.start()
	g.must(200, "GET", "/v1/tasks/kept", g.office, nil)
	g.register("after")
	if st, err = g.js(t).Stream(ctx, "KPITRAIL"); err != nil || len(st.CachedInfo().Config.Subjects) != 1 {
		t.Fatalf("subjects after adopt: %v %v", st.CachedInfo().Config.Subjects, err)
	}
}
