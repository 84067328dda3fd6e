package natstest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"
)

const serverModule = "github.com/nats-io/nats-server/v2"

var (
	binaryMu   sync.Mutex
	binaryPath string
)

// BuildServerBinary returns the path of a nats-server executable built from
// the nats-server version this module pins, so process tests run exactly
// the server code the embedded tests use. The first call on a machine builds
// it into the user cache directory (a minute or two on a small machine);
// later calls, from any package or process, reuse that file.
func BuildServerBinary(t testing.TB) string {
	t.Helper()
	binaryMu.Lock()
	defer binaryMu.Unlock()
	if binaryPath != "" {
		return binaryPath
	}
	p, err := buildServerBinary(t)
	if err != nil {
		t.Fatalf("natstest: nats-server binary: %v", err)
	}
	binaryPath = p
	return p
}

func buildServerBinary(t testing.TB) (string, error) {
	version, cacheable, err := serverVersion()
	if err != nil {
		return "", err
	}
	name := "nats-server-" + version
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if !cacheable {
		// A local replace has no version to key a shared cache on.
		out := filepath.Join(t.TempDir(), name)
		t.Logf("natstest: building %s from a local replace", serverModule)
		return out, goBuild(t, out)
	}

	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "kpitrail")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, name)
	if isExecutable(out) {
		return out, nil
	}

	// The lock keeps test packages that go test runs in parallel from all
	// compiling the server at once; the rename keeps a half-written file
	// from ever appearing under the final name, even where locking is
	// unavailable.
	unlock, err := lockFile(out + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if isExecutable(out) {
		return out, nil
	}
	tmpDir, err := os.MkdirTemp(dir, ".build-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmpDir)
	t.Logf("natstest: building %s into %s (once per machine)", serverModule, out)
	tmp := filepath.Join(tmpDir, name)
	if err := goBuild(t, tmp); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	return out, nil
}

func goBuild(t testing.TB, out string) error {
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", out, serverModule)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", serverModule, err, buf.String())
	}
	t.Logf("natstest: built nats-server in %s", time.Since(start).Round(100*time.Millisecond))
	return nil
}

// serverVersion reads the pinned nats-server version from the running
// binary's build info, which needs no subprocess, and asks the go command
// only when that is unavailable.
func serverVersion() (version string, cacheable bool, err error) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path != serverModule {
				continue
			}
			if m.Replace != nil {
				if m.Replace.Version == "" {
					return "local", false, nil
				}
				return sanitize(m.Replace.Path + "-" + m.Replace.Version), true, nil
			}
			return sanitize(m.Version), true, nil
		}
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Version}}", serverModule).Output()
	if err != nil {
		return "", false, fmt.Errorf("go list -m %s: %w", serverModule, err)
	}
	v := strings.TrimSpace(string(out))
	if v == "" {
		return "local", false, nil
	}
	return sanitize(v), true, nil
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '+':
			return r
		}
		return '_'
	}, s)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		return false
	}
	// Windows reports no execute bits.
	return runtime.GOOS == "windows" || fi.Mode().Perm()&0o100 != 0
}
