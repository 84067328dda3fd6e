package datadir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecondAcquireNamesTheHolder(t *testing.T) {
	dir := t.TempDir()
	first, err := Acquire(dir, Holder{Command: "serve", HTTP: "127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Update(func(h *Holder) { h.NATS = "nats://127.0.0.1:4222" }); err != nil {
		t.Fatal(err)
	}
	// flock belongs to the open file, so a second open in the same process
	// is refused just like another process would be.
	_, err = Acquire(dir, Holder{Command: "rebuild"})
	var held *HeldError
	if !errors.As(err, &held) || !errors.Is(err, ErrHeld) {
		t.Fatalf("second acquire: %v", err)
	}
	if held.Holder.PID != os.Getpid() || held.Holder.HTTP != "127.0.0.1:8080" || held.Holder.NATS != "nats://127.0.0.1:4222" {
		t.Fatalf("holder %+v", held.Holder)
	}
	for _, want := range []string{"kpitrail serve", "pid ", "http 127.0.0.1:8080", "nats nats://127.0.0.1:4222", "started "} {
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("%q does not name %q", err, want)
		}
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	again, err := Acquire(dir, Holder{Command: "rebuild"})
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	defer again.Release()
	info, err := os.Stat(filepath.Join(dir, LockFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("lock file: %v %v", info, err)
	}
}
