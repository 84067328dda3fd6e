package reliability

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runTool runs the kpitrail binary to completion (bounded) and returns its
// exit error and combined output.
func runTool(t *testing.T, env []string, args ...string) (error, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kpitrailBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("kpitrail %v did not finish: %s", args, out)
	}
	return err, string(out)
}

// TestOneOwnerPerDataDirectory starts a server, then a second server and
// every offline tool that would open the same directory, as separate
// processes: each is refused at once and names the owner. After the owner
// is SIGKILLed the directory is free again and nothing acknowledged is lost.
func TestOneOwnerPerDataDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("drives kpitrail processes")
	}
	data := t.TempDir()
	a := startServer(t, data)
	office := a.must(201, "POST", "/v1/tokens", adminToken, map[string]any{"name": "考评办", "role": "office"})["token"].(string)
	a.must(201, "POST", "/v1/tasks", office, map[string]any{"task_id": "owner", "year": 2022, "title": "一个目录一个主人",
		"lead_department": "区政府办"}, "Idempotency-Key", "before")
	holder := []string{fmt.Sprintf("pid %d", a.cmd.Process.Pid), "http " + a.addr, "started "}

	out := filepath.Join(t.TempDir(), "replayed.db")
	for _, args := range [][]string{
		{"serve", "--data", data, "--http", freePort(t)},
		{"rebuild", "--data", data},
		{"replay", "--data", data, "--position", "1", "--out", out},
		{"audit", "verify", "--data", data},
	} {
		start := time.Now()
		err, text := runTool(t, []string{"KPITRAIL_ADMIN_TOKEN=" + adminToken}, args...)
		if err == nil {
			t.Fatalf("kpitrail %s ran on a directory another server owns:\n%s", args[0], text)
		}
		for _, want := range append([]string{"in use by kpitrail serve"}, holder...) {
			if !strings.Contains(text, want) {
				t.Fatalf("kpitrail %s: the refusal does not name %q:\n%s", args[0], want, text)
			}
		}
		t.Logf("kpitrail %s refused in %s: %s", args[0], time.Since(start).Round(time.Millisecond), strings.TrimSpace(text))
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("the refused replay wrote %s", out)
	}
	// The owner never noticed: it still takes writes and serves them.
	a.must(201, "POST", "/v1/tasks/owner/narratives", office, map[string]any{"items": []string{"第二个服务器被拒绝。"}},
		"Idempotency-Key", "after")

	// A crashed owner leaves its details in the file but no lock.
	a.kill()
	b := startServer(t, data)
	if n := len(b.allEvents(office)); n != 2 {
		t.Fatalf("after the owner was killed and another took over: %d events, want 2", n)
	}
	b.stop()
	if err, text := runTool(t, nil, "audit", "verify", "--data", data); err != nil {
		t.Fatalf("verify on a free directory: %v\n%s", err, text)
	}
}
