package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"kpitrail/export"
)

func (m *Main) exportCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "export --dir <dir>",
		Short: "Export the read models and the event log as CSV, JSON Lines and Parquet with a manifest",
		Long: "The server writes the export; this command downloads its files into --dir and checks each against\n" +
			"the manifest's size and SHA-256.",
		Args: exactArgs(0),
	}
	fs := c.Flags()
	dir := fs.String("dir", "", "the directory to write (must not exist, or be empty)")
	formats := fs.String("format", "csv,jsonl,parquet", "the formats, comma-separated")
	tables := fs.String("tables", "", "the tables, comma-separated (default: all)")
	position := fs.Uint64("position", 0, "export as of this log position (default: now)")
	bom := fs.Bool("bom", false, "start CSV files with a UTF-8 BOM (for Excel)")
	reason := fs.String("reason", "", "why the export is made, recorded with its job")
	newClient := m.clientFlags(fs)
	_ = c.MarkFlagDirname("dir")
	c.RunE = func(c *cobra.Command, _ []string) error {
		ctx := c.Context()
		if *dir == "" {
			return usageErrorf(c, "export needs --dir")
		}
		if entries, err := os.ReadDir(*dir); err == nil && len(entries) > 0 {
			return fmt.Errorf("%s is not empty", *dir)
		}
		req := map[string]any{"formats": splitList(*formats), "position": *position, "csv_bom": *bom}
		if *tables != "" {
			req["tables"] = splitList(*tables)
		}
		cl := newClient()
		j, err := m.startJob(ctx, cl, "POST", "/v1/exports"+reasonQuery(*reason), req)
		if err != nil {
			return err
		}
		var res exportCreated
		if err := json.Unmarshal(j.Result, &res); err != nil {
			return err
		}
		if err := m.download(ctx, cl, res, *dir); err != nil {
			return err
		}
		return m.printJSONOr(cl.asJSON, res, func() {
			fmt.Fprintf(m.Stdout, "exported %d files at position %d into %s (manifest verified)\n", len(res.Manifest.Files), res.Manifest.Position, *dir)
		})
	}
	return c
}

// exportCreated is the server's answer to POST /v1/exports.
type exportCreated struct {
	ID       string `json:"id"`
	Manifest struct {
		Position uint64 `json:"position"`
		Files    []struct {
			Name string `json:"name"`
			Rows int64  `json:"rows"`
		} `json:"files"`
	} `json:"manifest"`
}

// download fetches an export's files into dir and checks them against its
// manifest.
func (m *Main) download(ctx context.Context, cl *client, res exportCreated, dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	names := []string{"manifest.json"}
	for _, f := range res.Manifest.Files {
		names = append(names, f.Name)
	}
	for _, name := range names {
		data, err := cl.raw(ctx, "GET", "/v1/exports/"+res.ID+"/"+name)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	if err := export.VerifyManifest(dir); err != nil {
		return fmt.Errorf("downloaded export does not verify: %w", err)
	}
	return nil
}

// reasonQuery passes a job's reason to the server.
func reasonQuery(reason string) string {
	if reason == "" {
		return ""
	}
	return "?reason=" + url.QueryEscape(reason)
}

// replayOnServer has the server replay as a job, then downloads the file
// and checks it against the replay's manifest.
func (m *Main) replayOnServer(ctx context.Context, cl *client, out, asOf string, position uint64, reason string) error {
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists; replay writes a new file", out)
	}
	req := map[string]any{}
	if position > 0 {
		req["position"] = position
	} else {
		req["as_of"] = asOf
	}
	j, err := m.startJob(ctx, cl, "POST", "/v1/replays"+reasonQuery(reason), req)
	if err != nil {
		return err
	}
	var res exportCreated
	if err := json.Unmarshal(j.Result, &res); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(out), ".replay-download-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := m.download(ctx, cl, res, tmp); err != nil {
		return err
	}
	if err := os.Rename(filepath.Join(tmp, replayFile), out); err != nil {
		return err
	}
	return m.printJSONOr(cl.asJSON, map[string]any{"file": out, "job": j.ID, "export": res.ID, "position": res.Manifest.Position},
		func() { fmt.Fprintf(m.Stdout, "wrote %s (replayed on the server, job %s)\n", out, j.ID) })
}
