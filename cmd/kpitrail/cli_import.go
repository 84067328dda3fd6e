package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

func (m *Main) importCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "import <file>",
		Short: "Import a self-check table (自查表) or a figure sheet; undo a batch; get the template",
		Long: "Import a self-check table (自查表, --kind table) or a structured figure sheet (--kind figures) from a\n" +
			"TSV, CSV or XLSX file. --dry-run shows what the import would do and appends nothing.",
		Args: exactArgs(1),
	}
	fs := c.Flags()
	dry := fs.Bool("dry-run", false, "show what the import would do and append nothing")
	kind := fs.String("kind", "table", "table (自查表) or figures (structured figure sheet)")
	format := fs.String("format", "", "tsv, csv or xlsx (default: from the file)")
	year := fs.Int("year", 0, "the assessment year, when the table's title names none")
	lead := fs.String("lead", "", "the lead department of rows that name none")
	key := fs.String("idempotency-key", "", "retry-safe key: a retried upload is the same batch")
	reason := fs.String("reason", "", "why this import is run, recorded with its job")
	newClient := m.clientFlags(fs)
	_ = c.RegisterFlagCompletionFunc("kind", cobra.FixedCompletions([]string{"table", "figures"}, cobra.ShellCompDirectiveNoFileComp))
	_ = c.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"tsv", "csv", "xlsx"}, cobra.ShellCompDirectiveNoFileComp))
	c.ValidArgsFunction = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"tsv", "csv", "xlsx"}, cobra.ShellCompDirectiveFilterFileExt
	}
	c.RunE = func(c *cobra.Command, args []string) error {
		file := args[0]
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		q := fmt.Sprintf("/v1/imports?kind=%s&dry_run=%t&filename=%s", url.QueryEscape(*kind), *dry, url.QueryEscape(filepath.Base(file)))
		if *format != "" {
			q += "&format=" + url.QueryEscape(*format)
		}
		if *year != 0 {
			q += fmt.Sprintf("&year=%d", *year)
		}
		if *lead != "" {
			q += "&lead_department=" + url.QueryEscape(*lead)
		}
		if *reason != "" {
			q += "&reason=" + url.QueryEscape(*reason)
		}
		cl := newClient()
		var res ImportResult
		if *dry {
			if err := cl.send(c.Context(), "POST", q, bytes.NewReader(data), "application/octet-stream", &res); err != nil {
				return err
			}
			return m.printJSONOr(cl.asJSON, res, func() { m.printImport(res) })
		}
		var body io.Reader = bytes.NewReader(data)
		if m.interactive() {
			bar := progressbar.DefaultBytes(int64(len(data)), "uploading "+filepath.Base(file))
			r := progressbar.NewReader(body, bar)
			body = &r
		}
		// The server runs the import as a job; this command follows it
		// (Ctrl-C detaches, the import runs on).
		var j jobRecord
		if err := cl.send(c.Context(), "POST", q, body, "application/octet-stream", &j, "Idempotency-Key", *key, "Prefer", "respond-async"); err != nil {
			return m.interrupted(c.Context(), err)
		}
		fmt.Fprintf(m.Stderr, "import running as job %s\n", j.ID)
		j, err = m.follow(c.Context(), cl, j.ID)
		if err != nil {
			var p *apiError
			if errors.As(err, &p) && p.Rule == "cancelled" && !cl.asJSON {
				// What a cancelled import stored, and what it did not, is in
				// the problem's text; the lines applied are in its details.
				return fmt.Errorf("%s\nrun the same command again to import the rest", p.Detail)
			}
			return err
		}
		if err := json.Unmarshal(j.Result, &res); err != nil {
			return err
		}
		return m.printJSONOr(cl.asJSON, res, func() { m.printImport(res) })
	}
	c.AddCommand(m.importUndoCommand(), m.importTemplateCommand())
	return c
}

func (m *Main) printImport(res ImportResult) {
	s := res.Summary
	if res.DryRun {
		fmt.Fprintln(m.Stdout, "dry run: nothing was appended")
	} else if res.Report != nil {
		fmt.Fprintf(m.Stdout, "batch %s: %d applied, %d already present, %d existing\n", res.BatchID,
			res.Report.Applied, res.Report.AlreadyPresent, res.Report.Existing)
	}
	fmt.Fprintf(m.Stdout, "dimensions %v\ntasks %d, narrative items %d, problems %d in %d tasks\n", s.Dimensions, s.Tasks,
		s.NarrativeItems, s.Problems, s.TasksWithProblems)
	if s.Indicators+s.Figures > 0 {
		fmt.Fprintf(m.Stdout, "indicators %d, targets %d, figures %d\n", s.Indicators, s.Targets, s.Figures)
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(m.Stdout, "warning line %d [%s] %s\n", w.Line, w.Code, w.Message)
	}
}

func (m *Main) importUndoCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "undo <batch-id>",
		Short: "Undo an import batch with compensating events (nothing is deleted)",
		Args:  exactArgs(1),
	}
	newClient := m.clientFlags(c.Flags())
	c.RunE = func(c *cobra.Command, args []string) error {
		cl := newClient()
		var out any
		if err := cl.do(c.Context(), "POST", "/v1/imports/"+url.PathEscape(args[0])+"/undo", nil, &out); err != nil {
			return err
		}
		return m.printJSONOr(cl.asJSON, out, nil)
	}
	return c
}

func (m *Main) importTemplateCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "template",
		Short: "Download the figure sheet template (CSV or XLSX)",
		Args:  exactArgs(0),
	}
	fs := c.Flags()
	format := fs.String("format", "csv", "csv or xlsx")
	out := fs.String("out", "", "the file to write (default figures.<format>)")
	newClient := m.clientFlags(fs)
	_ = c.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"csv", "xlsx"}, cobra.ShellCompDirectiveNoFileComp))
	c.RunE = func(c *cobra.Command, _ []string) error {
		if *out == "" {
			*out = "figures." + *format
		}
		cl := newClient()
		data, err := cl.raw(c.Context(), "GET", "/v1/imports/templates/figures."+url.PathEscape(*format))
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, data, 0o644); err != nil {
			return err
		}
		return m.printJSONOr(cl.asJSON, map[string]any{"file": *out, "bytes": len(data)}, func() { fmt.Fprintf(m.Stdout, "wrote %s\n", *out) })
	}
	return c
}
