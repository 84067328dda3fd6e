package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"time"

	"kpitrail/eventstore"
	"kpitrail/projections"
	"kpitrail/signing"
)

// The rebuild is measured in a process of its own, as an operator runs it
// (`kpitrail rebuild --data` on a stopped server's directory): its peak RSS
// is then the rebuild's and its embedded server's, not what generating the
// log left in the bench's process (264 MiB at a million events). The child
// is the same executable started with childEnv set to a JSON rebuildSpec;
// main (and the package's tests) hand it to RunChild before anything else.
const childEnv = "KPITRAIL_BENCH_REBUILD_CHILD"

// rebuildSpec is what the child rebuilds.
type rebuildSpec struct {
	StoreDir   string `json:"store_dir"`   // the embedded server's files
	Keyring    string `json:"keyring"`     // the keys the log was signed with
	Verified   string `json:"verified"`    // the verified-message cache
	Out        string `json:"out"`         // the read-model file to build
	Messages   uint64 `json:"messages"`    // the log's last position, for the quarters
	ProfileDir string `json:"profile_dir"` // CPU profile of the build, heap profile halfway
}

// rebuildMeasure is what the child measured, written to its stdout.
type rebuildMeasure struct {
	Seconds  float64 `json:"seconds"`
	Base     int64   `json:"base"`      // RSS before the build, server started
	Peak     int64   `json:"peak"`      // the process's peak RSS (VmHWM)
	HeapPeak int64   `json:"heap_peak"` // live Go heap, server included
	Limit    int64   `json:"limit"`     // the soft memory limit it ran under
	Quarters []int64 `json:"quarters"`  // RSS at each quarter of the log
	Err      string  `json:"error,omitempty"`
	// WaitedForDedupe is set by the parent: how long it waited for the
	// server's duplicate window to pass after the log was generated.
	WaitedForDedupe float64 `json:"-"`
}

// IsChild says whether this process was started to measure a rebuild.
func IsChild() bool { return os.Getenv(childEnv) != "" }

// RunChild measures the rebuild childEnv names, prints the measurement as
// JSON on stdout and returns the exit code.
func RunChild() int {
	var spec rebuildSpec
	var m rebuildMeasure
	if err := json.Unmarshal([]byte(os.Getenv(childEnv)), &spec); err != nil {
		m.Err = fmt.Sprintf("%s: %v", childEnv, err)
	} else if m, err = spec.run(context.Background()); err != nil {
		m.Err = err.Error()
	}
	json.NewEncoder(os.Stdout).Encode(m)
	if m.Err != "" {
		return 1
	}
	return 0
}

func (s rebuildSpec) run(ctx context.Context) (rebuildMeasure, error) {
	// As `kpitrail rebuild --data` does, unless GOMEMLIMIT says otherwise.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(projections.RebuildMemoryLimit)
	}
	trust, err := signing.LoadKeyring(s.Keyring)
	if err != nil {
		return rebuildMeasure{}, err
	}
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{StoreDir: s.StoreDir})
	if err != nil {
		return rebuildMeasure{}, err
	}
	defer emb.Shutdown()
	nc, err := emb.Connect("kpitrail-rebuild")
	if err != nil {
		return rebuildMeasure{}, err
	}
	defer nc.Close()
	store, err := eventstore.OpenJetStream(ctx, nc, eventstore.Config{Trust: trust, VerifiedCache: s.Verified})
	if err != nil {
		return rebuildMeasure{}, err
	}
	if s.ProfileDir != "" {
		if f, err := os.Create(filepath.Join(s.ProfileDir, "rebuild-build.pprof")); err == nil {
			started := pprof.StartCPUProfile(f) == nil
			defer func() {
				if started {
					pprof.StopCPUProfile()
				}
				f.Close()
			}()
		}
	}
	resetPeakRSS()
	var m rebuildMeasure
	m.Base, _ = rss()
	m.Limit = debug.SetMemoryLimit(-1)
	var mu sync.Mutex
	quarter := max(s.Messages/4, 1)
	next := quarter
	heap := sampleHeap()
	start := time.Now()
	err = projections.Rebuild(ctx, store, s.Out, projections.RebuildOptions{Progress: func(pos uint64) {
		mu.Lock()
		defer mu.Unlock()
		for pos >= next {
			cur, _ := rss()
			m.Quarters = append(m.Quarters, cur)
			if len(m.Quarters) == 2 && s.ProfileDir != "" {
				// Halfway the build holds what it holds at its peak.
				writeHeapProfile(filepath.Join(s.ProfileDir, "rebuild.heap.pprof"))
			}
			next += quarter
		}
	}})
	m.Seconds = time.Since(start).Seconds()
	m.HeapPeak = heap()
	_, m.Peak = rss()
	return m, err
}

// rebuildInChild stops the node (one process owns a store directory),
// measures the rebuild of its log into out in a child process, and starts
// the node again for the measurements that follow.
func (r *runner) rebuildInChild(ctx context.Context, lg *loadedLog, out string) (m rebuildMeasure, err error) {
	n := lg.node
	keyring := filepath.Join(filepath.Dir(n.dir), "keyring.json")
	if err := n.store.Keyring().Save(keyring); err != nil {
		return rebuildMeasure{}, err
	}
	spec := rebuildSpec{StoreDir: n.dir, Keyring: keyring, Verified: filepath.Join(n.dir, "verified.cache"), Out: out,
		Messages: lg.messages, ProfileDir: r.opts.ProfileDir}
	enc, err := json.Marshal(spec)
	if err != nil {
		return rebuildMeasure{}, err
	}
	// A server that starts reloads the message ids of its duplicate window
	// (by default 2 minutes of appends): right after the bench's bulk load
	// that is up to a million ids, ~170 MiB of the child's heap that no
	// rebuild started later pays. The rebuild starts once the window has
	// passed since the last append, as an operator's would (not in a quick
	// run: ten thousand ids are a couple of MiB).
	if info, ierr := n.store.JetStreamContext().Stream(ctx, n.store.Config().Stream); ierr == nil && !r.opts.Quick {
		if wait := info.CachedInfo().Config.Duplicates - time.Since(lg.written); wait > 0 {
			m.WaitedForDedupe = wait.Round(time.Second).Seconds()
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return m, ctx.Err()
			}
		}
	}
	n.stop()
	defer func() {
		if rerr := n.restart(ctx); rerr != nil && err == nil {
			err = fmt.Errorf("restarting the log's server: %w", rerr)
		}
	}()
	exe, err := os.Executable()
	if err != nil {
		return rebuildMeasure{}, err
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), childEnv+"="+string(enc))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	waited := m.WaitedForDedupe
	err = json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &m)
	m.WaitedForDedupe = waited
	if err != nil {
		return m, fmt.Errorf("rebuild process: %v (%v): %s", runErr, err, bytes.TrimSpace(stderr.Bytes()))
	}
	if m.Err != "" {
		return m, errors.New(m.Err)
	}
	return m, runErr
}

func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		return
	}
	defer f.Close()
	runtime.GC()
	pprof.Lookup("heap").WriteTo(f, 0)
}
