package main

import (
	"context"
	"encoding/json"
	"flag"
	"os"

	"kpitrail/bench"
)

// runBench measures kpitrail next to the raw limits of the same machine in
// the same run (docs/BENCHMARKS.md).
func (m *Main) runBench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	quick := fs.Bool("quick", false, "a reduced run (about 10,000 events) in under a minute")
	dir := fs.String("dir", "", "where the servers' and read models' files go (default: a temporary directory); durable figures are this disk's")
	events := fs.Int("events", 0, "log size for rebuild and queries (default 1,000,000; 10,000 with --quick)")
	var only multiFlag
	fs.Var(&only, "only", "run only this measurement (repeatable): "+joinNames())
	profile := fs.String("profile", "", "write a CPU profile per measurement into this directory")
	jsonOut := fs.String("json", "", "also write the report as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rep, err := bench.Run(ctx, bench.Options{Quick: *quick, Dir: *dir, Out: m.Stdout, Events: *events, Only: only, ProfileDir: *profile})
	if err != nil {
		return err
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		return os.WriteFile(*jsonOut, b, 0o644)
	}
	return nil
}

func joinNames() string {
	s := ""
	for i, n := range bench.Names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}
