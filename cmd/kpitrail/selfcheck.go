package main

import (
	"fmt"
	"net/url"
	"os"
	"strconv"

	"github.com/spf13/cobra"
)

// selfCheckCommand downloads the self-check table (自查表) as XLSX, in
// the layout the office hands in: the board's tasks, or one task.
func (m *Main) selfCheckCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "selfcheck --out <file.xlsx>",
		Short: "Download the self-check table (自查表) as XLSX: the board's tasks (--year …), or one task (--task)",
		Args:  exactArgs(0),
	}
	fs := c.Flags()
	year := fs.Int("year", 0, "assessment year")
	dim := fs.String("dimension", "", "assessment dimension (考评维度)")
	dep := fs.String("department", "", "lead or co-department")
	status := fs.String("status", "", "task status")
	task := fs.String("task", "", "one task's row instead of the board")
	asOf := fs.String("as-of", "", "the table as known at this instant of record time (RFC 3339)")
	out := fs.String("out", "", "write the workbook to this file (required)")
	newClient := m.clientFlags(fs)
	c.RunE = func(c *cobra.Command, _ []string) error {
		if *out == "" {
			return usageErrorf(c, "selfcheck: --out FILE is required (the table is an .xlsx workbook)")
		}
		q := url.Values{}
		setIf(q, "year", *year != 0, strconv.Itoa(*year))
		setIf(q, "dimension", *dim != "", *dim)
		setIf(q, "department", *dep != "", *dep)
		setIf(q, "status", *status != "", *status)
		setIf(q, "as_of", *asOf != "", *asOf)
		path := "/v1/tasks/selfcheck.xlsx"
		if *task != "" {
			path = "/v1/tasks/" + url.PathEscape(*task) + "/selfcheck.xlsx"
		}
		if len(q) > 0 {
			path += "?" + q.Encode()
		}
		cl := newClient()
		data, err := cl.raw(c.Context(), "GET", path)
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, data, 0o644); err != nil {
			return err
		}
		return m.printJSONOr(cl.asJSON, map[string]any{"file": *out, "bytes": len(data)}, func() {
			fmt.Fprintf(m.Stdout, "wrote %s (%d bytes)\n", *out, len(data))
		})
	}
	return c
}
