// Package bench measures kpitrail against the raw limits of what it is
// built on, in the same run and on the same machine: each measurement runs
// kpitrail's full path and the bare JetStream or SQLite operation it rests
// on side by side, and reports both with their ratio and the target the
// issue set. `kpitrail bench` runs it; docs/BENCHMARKS.md keeps the figures.
//
// Every server is embedded and every file lives under Options.Dir. Durable
// measurements run on a server that syncs before every acknowledgement,
// kpitrail's default; logs that are only loaded to be read back (rebuild,
// replay, queries) are written with the sync off, which the report says.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"
)

// Options tune a run. Zero values take the defaults.
type Options struct {
	// Quick runs a reduced version (about 10,000 events) in under a minute.
	Quick bool
	// Dir holds the servers' and read models' files; default a temporary
	// directory, removed afterwards. Use a directory on the disk kpitrail
	// runs from: durable figures are the disk's sync latency.
	Dir string
	// Out receives one line per measurement as it completes; nil: discard.
	Out io.Writer
	// Events is the log size of the rebuild and query measurements. Default
	// 1,000,000; 10,000 with Quick.
	Events int
	// Only runs the named measurements (see Names); empty runs all.
	Only []string
	// ProfileDir, when set, receives a CPU profile per measurement
	// (<name>.pprof), for `go tool pprof`; the rebuild's process writes its
	// build's CPU profile (rebuild-build.pprof) and its live heap halfway
	// (rebuild.heap.pprof).
	ProfileDir string
}

// Names are the measurements, in run order.
var Names = []string{"append-durable", "append-concurrent", "append-instances", "import-durable", "append-nosync", "rebuild", "replay-asof", "queries", "pages"}

// Report is the whole run.
type Report struct {
	Started  time.Time     `json:"started"`
	Duration time.Duration `json:"duration"`
	Machine  Machine       `json:"machine"`
	Quick    bool          `json:"quick"`
	Results  []Result      `json:"results"`
}

// Machine is what the figures were measured on.
type Machine struct {
	CPUs      int    `json:"cpus"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	MemTotal  string `json:"mem_total,omitempty"`
}

// Result is one line of the report: kpitrail's figure, the raw limit it is
// compared with, and the target.
type Result struct {
	Name  string  `json:"name"`
	What  string  `json:"what"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	P50   float64 `json:"p50_ms,omitempty"`
	P95   float64 `json:"p95_ms,omitempty"`
	P99   float64 `json:"p99_ms,omitempty"`
	// Raw is the bare operation's figure in the same unit (0: none).
	Raw     float64 `json:"raw,omitempty"`
	RawWhat string  `json:"raw_what,omitempty"`
	RawP50  float64 `json:"raw_p50_ms,omitempty"`
	RawP99  float64 `json:"raw_p99_ms,omitempty"`
	Ratio   float64 `json:"ratio,omitempty"`
	Target  string  `json:"target,omitempty"`
	// Met is nil for an informational line.
	Met   *bool    `json:"met,omitempty"`
	Notes []string `json:"notes,omitempty"`
	Err   string   `json:"error,omitempty"`
}

// Line renders the result as the one line the report prints.
func (r Result) Line() string {
	var b strings.Builder
	switch {
	case r.Err != "":
		b.WriteString("[FAIL] ")
	case r.Met == nil:
		b.WriteString("[info] ")
	case *r.Met:
		b.WriteString("[met]  ")
	default:
		b.WriteString("[MISS] ")
	}
	fmt.Fprintf(&b, "%s: %s %s %s", r.Name, r.What, num(r.Value), r.Unit)
	switch {
	case r.P95 > 0:
		fmt.Fprintf(&b, " (p50 %.2f ms, p95 %.2f ms, p99 %.2f ms)", r.P50, r.P95, r.P99)
	case r.P50 > 0:
		fmt.Fprintf(&b, " (p50 %.2f ms, p99 %.2f ms)", r.P50, r.P99)
	}
	if r.Raw > 0 {
		fmt.Fprintf(&b, " | raw %s %s %s", r.RawWhat, num(r.Raw), r.Unit)
		if r.RawP50 > 0 {
			fmt.Fprintf(&b, " (p50 %.2f ms, p99 %.2f ms)", r.RawP50, r.RawP99)
		}
		fmt.Fprintf(&b, " | ratio %.2f", r.Ratio)
	}
	if r.Target != "" {
		fmt.Fprintf(&b, " | target %s", r.Target)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, " | %s", n)
	}
	if r.Err != "" {
		fmt.Fprintf(&b, " | error: %s", r.Err)
	}
	return b.String()
}

func num(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func met(ok bool) *bool { return &ok }

// Run performs the measurements and returns the report; the error joins
// every measurement that failed (their lines say so too).
func Run(ctx context.Context, opts Options) (Report, error) {
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Events == 0 {
		opts.Events = 1_000_000
		if opts.Quick {
			opts.Events = 10_000
		}
	}
	for _, n := range opts.Only {
		if !slices.Contains(Names, n) {
			return Report{}, fmt.Errorf("bench: unknown measurement %q (have %s)", n, strings.Join(Names, ", "))
		}
	}
	if opts.ProfileDir != "" {
		// Made here, and refused here if it cannot be: a profile that
		// cannot be written was otherwise skipped without a word.
		if err := os.MkdirAll(opts.ProfileDir, 0o755); err != nil {
			return Report{}, fmt.Errorf("bench: profile directory: %w", err)
		}
	}
	if opts.Dir == "" {
		dir, err := os.MkdirTemp("", "kpitrail-bench-*")
		if err != nil {
			return Report{}, err
		}
		defer os.RemoveAll(dir)
		opts.Dir = dir
	}
	rep := Report{Started: time.Now(), Quick: opts.Quick, Machine: machine()}
	fmt.Fprintf(opts.Out, "kpitrail bench: %d CPUs, %s, %s, %s, dir %s\n", rep.Machine.CPUs, rep.Machine.MemTotal,
		rep.Machine.GoVersion, rep.Machine.OS, opts.Dir)
	r := &runner{opts: opts}
	steps := []struct {
		name string
		fn   func(context.Context, string) ([]Result, error)
	}{
		{"append-durable", r.appendDurable},
		{"append-concurrent", r.appendConcurrent},
		{"append-instances", r.appendInstances},
		{"import-durable", r.importDurable},
		{"append-nosync", r.appendNoSync},
		{"rebuild", r.rebuild},
		{"replay-asof", r.replayAsOf},
		{"queries", r.queries},
		{"pages", r.pages},
	}
	var errs []error
	for _, s := range steps {
		if len(opts.Only) > 0 && !slices.Contains(opts.Only, s.name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		dir := filepath.Join(opts.Dir, s.name)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return rep, err
		}
		if s.name == "rebuild" || s.name == "queries" || s.name == "pages" {
			// The log is written once and outside the profile.
			if _, err := r.log(ctx); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", s.name, err))
				continue
			}
		}
		stop := r.profile(s.name)
		results, err := s.fn(ctx, dir)
		stop()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.name, err))
			results = append(results, Result{Name: s.name, Err: err.Error()})
		}
		for _, res := range results {
			fmt.Fprintln(opts.Out, res.Line())
		}
		rep.Results = append(rep.Results, results...)
		os.RemoveAll(dir)
	}
	r.closeLog()
	rep.Duration = time.Since(rep.Started)
	return rep, errors.Join(errs...)
}

type runner struct {
	opts Options
	// loaded is a log written once and read by rebuild, replay and
	// queries: its directory and size.
	loaded *loadedLog
}

func (r *runner) profile(name string) func() {
	if r.opts.ProfileDir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(r.opts.ProfileDir, name+".pprof"))
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// heapProfile writes the live heap to <name>.heap.pprof in ProfileDir.
func (r *runner) heapProfile(name string) {
	if r.opts.ProfileDir == "" {
		return
	}
	f, err := os.Create(filepath.Join(r.opts.ProfileDir, name+".heap.pprof"))
	if err != nil {
		return
	}
	defer f.Close()
	runtime.GC()
	pprof.Lookup("heap").WriteTo(f, 0)
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kb int64
				fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
				m.MemTotal = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return m
}

// scale returns quick when Options.Quick, else full.
func (r *runner) scale(quick, full int) int {
	if r.opts.Quick {
		return quick
	}
	return full
}
