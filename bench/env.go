package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"kpitrail/eventstore"
)

// node is one embedded server with a kpitrail stream on it, set up as
// serve sets it up.
type node struct {
	dir   string
	emb   *eventstore.Embedded
	nc    *nats.Conn
	store *eventstore.JetStream
}

// startNode starts an embedded server in dir. noSync turns off the sync
// before acknowledgement (never kpitrail's default). clock, when set, is
// the store's record time.
func startNode(ctx context.Context, dir string, noSync bool, clock eventstore.Clock) (*node, error) {
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{StoreDir: dir, NoSync: noSync})
	if err != nil {
		return nil, err
	}
	nc, err := emb.Connect("kpitrail-bench")
	if err != nil {
		emb.Shutdown()
		return nil, err
	}
	store, err := eventstore.OpenJetStream(ctx, nc, eventstore.Config{Clock: clock})
	if err != nil {
		nc.Close()
		emb.Shutdown()
		return nil, err
	}
	return &node{dir: dir, emb: emb, nc: nc, store: store}, nil
}

// reopen replaces the connection and the store with fresh ones.
func (n *node) reopen(ctx context.Context) error {
	n.nc.Close()
	nc, err := n.emb.Connect("kpitrail-bench")
	if err != nil {
		return err
	}
	// The same keys: the history was signed with them. The verified-message
	// cache is serve's, in the node's directory.
	store, err := eventstore.OpenJetStream(ctx, nc, eventstore.Config{Signer: n.store.Signer(), Trust: n.store.Keyring(),
		VerifiedCache: filepath.Join(n.dir, "verified.cache")})
	if err != nil {
		nc.Close()
		return err
	}
	n.nc, n.store = nc, store
	return nil
}

// stop shuts the server down and lets go of its directory, keeping what
// restart needs to serve the same log again.
func (n *node) stop() {
	n.nc.Close()
	n.emb.Shutdown()
}

// restart serves the stopped node's directory again with the same keys.
func (n *node) restart(ctx context.Context) error {
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{StoreDir: n.dir, NoSync: true})
	if err != nil {
		return err
	}
	n.emb = emb
	return n.reopen(ctx)
}

func (n *node) close() {
	n.nc.Close()
	n.emb.Shutdown()
}

// latencies collects per-operation durations from any goroutine.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// percentile returns the p-th percentile (0..100), nearest rank.
func (l *latencies) percentile(p float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	k := int(float64(len(s))*p/100+0.999999) - 1
	return s[min(max(k, 0), len(s)-1)]
}

// rss reads the process's resident set (VmRSS) and its peak (VmHWM), in
// bytes; 0 where /proc is not there.
func rss() (cur, peak int64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		field := func(prefix string) int64 {
			v := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, prefix), "kB"))
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n * 1024
		}
		switch {
		case strings.HasPrefix(line, "VmRSS:"):
			cur = field("VmRSS:")
		case strings.HasPrefix(line, "VmHWM:"):
			peak = field("VmHWM:")
		}
	}
	return cur, peak
}

// resetPeakRSS returns what the process holds to the OS and restarts the
// kernel's peak count, so a measurement's peak is its own.
func resetPeakRSS() {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// dirSize sums the sizes of the files under dir.
func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// sampleHeap watches the Go heap's live objects every 50 ms until the
// returned function is called, which returns the largest seen.
func sampleHeap() func() int64 {
	stop, done := make(chan struct{}), make(chan int64)
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak int64
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			peak = max(peak, int64(sample[0].Value.Uint64()))
			select {
			case <-stop:
				done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 { close(stop); return <-done }
}
