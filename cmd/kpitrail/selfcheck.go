package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"strconv"
)

// runSelfCheck downloads the self-check table (自查表) as XLSX, in the
// layout the office hands in: the board's tasks, or one task.
func (m *Main) runSelfCheck(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("selfcheck", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	newClient := m.clientFlags(fs)
	year := fs.Int("year", 0, "assessment year")
	dim := fs.String("dimension", "", "考评维度")
	dep := fs.String("department", "", "lead or co-department")
	status := fs.String("status", "", "task status")
	task := fs.String("task", "", "one task's row instead of the board")
	asOf := fs.String("as-of", "", "the table as known at this time (RFC 3339)")
	out := fs.String("out", "", "write the workbook to this file (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("selfcheck: --out FILE is required (the table is an .xlsx workbook)")
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
	data, err := newClient().raw(ctx, "GET", path)
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "wrote %s (%d bytes)\n", *out, len(data))
	return nil
}
