package main

import (
	"encoding/json"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"kpitrail/bench"
)

// benchCommand measures kpitrail next to the raw limits of the same
// machine in the same run (docs/BENCHMARKS.md).
func (m *Main) benchCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "bench",
		Short: "Measure appends, import, rebuild, replay and queries next to the raw limits (--quick: under a minute)",
		Args:  exactArgs(0),
	}
	fs := c.Flags()
	quick := fs.Bool("quick", false, "a reduced run (about 10,000 events) in under a minute")
	dir := fs.String("dir", "", "where the servers' and read models' files go (default: a temporary directory); durable figures are this disk's")
	events := fs.Int("events", 0, "log size for rebuild and queries (default 1,000,000; 10,000 with --quick)")
	only := fs.StringArray("only", nil, "run only this measurement (repeat the flag for more): "+strings.Join(bench.Names, ", "))
	profile := fs.String("profile", "", "write a CPU profile per measurement into this directory")
	report := fs.String("report", "", "also write the report as JSON to this file")
	asJSON := jsonFlag(fs)
	_ = c.RegisterFlagCompletionFunc("only", cobra.FixedCompletions(bench.Names, cobra.ShellCompDirectiveNoFileComp))
	c.RunE = func(c *cobra.Command, _ []string) error {
		var out io.Writer = m.Stdout
		if *asJSON {
			out = io.Discard // the report alone goes to stdout
		}
		rep, err := bench.Run(c.Context(), bench.Options{Quick: *quick, Dir: *dir, Out: out, Events: *events, Only: *only, ProfileDir: *profile})
		if err != nil {
			return err
		}
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if *report != "" {
			if err := os.WriteFile(*report, append(b, '\n'), 0o644); err != nil {
				return err
			}
		}
		if *asJSON {
			_, err = m.Stdout.Write(append(b, '\n'))
		}
		return err
	}
	return c
}
