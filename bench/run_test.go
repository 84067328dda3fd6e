package bench

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRun runs the benchmark when KPITRAIL_BENCH is set ("quick" or
// "full"), the same run as `kpitrail bench [--quick]` with profiles and
// sizes from the environment:
//
//	KPITRAIL_BENCH=quick go test ./bench -run TestRun -v -timeout 0
//
// KPITRAIL_BENCH_ONLY (comma-separated names), KPITRAIL_BENCH_EVENTS,
// KPITRAIL_BENCH_DIR, KPITRAIL_BENCH_PROFILE (a directory for CPU
// profiles) and KPITRAIL_BENCH_JSON (a file for the report) tune it.
func TestRun(t *testing.T) {
	mode := os.Getenv("KPITRAIL_BENCH")
	if mode == "" {
		t.Skip("set KPITRAIL_BENCH=quick or full to run the benchmark")
	}
	opts := Options{Quick: mode == "quick", Out: os.Stdout, Dir: os.Getenv("KPITRAIL_BENCH_DIR"),
		ProfileDir: os.Getenv("KPITRAIL_BENCH_PROFILE")}
	if only := os.Getenv("KPITRAIL_BENCH_ONLY"); only != "" {
		opts.Only = strings.Split(only, ",")
	}
	if ev := os.Getenv("KPITRAIL_BENCH_EVENTS"); ev != "" {
		n, err := strconv.Atoi(ev)
		if err != nil {
			t.Fatal(err)
		}
		opts.Events = n
	}
	rep, err := Run(context.Background(), opts)
	t.Logf("took %s", rep.Duration.Round(time.Second))
	if path := os.Getenv("KPITRAIL_BENCH_JSON"); path != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestQuickRunsAndMeasuresSomething keeps the harness itself working at a
// tiny scale: the bulk import (through importer.Apply as serve runs it),
// a rebuild and the queries.
func TestQuickRunsAndMeasuresSomething(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	profiles := filepath.Join(t.TempDir(), "not", "there", "yet")
	only := []string{"import-durable", "rebuild", "queries"}
	rep, err := Run(context.Background(), Options{Quick: true, Events: 2000, Dir: t.TempDir(), Only: only, ProfileDir: profiles})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if r.Err != "" || r.Value <= 0 {
			t.Errorf("%s", r.Line())
		}
	}
	// --profile names a directory that did not exist: it is made, and each
	// measurement's CPU profile is in it.
	for _, name := range only {
		if fi, err := os.Stat(filepath.Join(profiles, name+".pprof")); err != nil || fi.Size() == 0 {
			t.Errorf("profile of %s: %v", name, err)
		}
	}
}

// TestProfileDirectoryThatCannotBeMadeIsRefused: a --profile under a file
// is an error before anything runs, not a run without profiles.
func TestProfileDirectoryThatCannotBeMadeIsRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), Options{Quick: true, Dir: t.TempDir(), Only: []string{"append-durable"},
		ProfileDir: filepath.Join(file, "profiles")})
	if err == nil || !strings.Contains(err.Error(), "profile directory") || len(rep.Results) != 0 {
		t.Fatalf("profile directory under a file: %d results, %v; want a refusal naming the profile directory", len(rep.Results), err)
	}
}

// TestAppendInstancesLine runs the multi-instance line at its quick size:
// three instances and one, on an in-process three-node cluster.
func TestAppendInstancesLine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	rep, err := Run(context.Background(), Options{Quick: true, Dir: t.TempDir(), Only: []string{"append-instances"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 1 || rep.Results[0].Value <= 0 || rep.Results[0].Raw <= 0 {
		t.Fatalf("%+v", rep.Results)
	}
	t.Log(rep.Results[0].Line())
}

// TestAppendConcurrentLine runs the 64-writer line at its quick size: each
// path's rounds add up to its whole share, and every kpitrail figure is
// divided by the raw figure of the same rounds.
func TestAppendConcurrentLine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	rep, err := Run(context.Background(), Options{Quick: true, Dir: t.TempDir(), Only: []string{"append-concurrent"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 3 {
		t.Fatalf("%d results, want 3: %+v", len(rep.Results), rep.Results)
	}
	raw := rep.Results[0].Raw
	for _, r := range rep.Results {
		if r.Err != "" || r.Value <= 0 || r.Raw <= 0 || r.Raw != raw {
			t.Errorf("%s", r.Line())
		}
		if want := r.Value / r.Raw; r.Ratio != want {
			t.Errorf("%s: ratio %v, want %v", r.What, r.Ratio, want)
		}
		t.Log(r.Line())
	}
	for _, r := range rep.Results[:2] {
		if len(r.Notes) == 0 || !strings.HasSuffix(r.Notes[0], "appends per sync") || strings.HasPrefix(r.Notes[0], "0.0 ") {
			t.Errorf("%s: notes %q, want the appends per sync", r.What, r.Notes)
		}
	}
}
