package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"kpitrail/eventstore"
	"kpitrail/export"
	"kpitrail/internal/datadir"
	"kpitrail/projections"
)

// offlineFlags let an operation work on a data directory directly (no
// server running on it) or on an external cluster, instead of asking a
// running server.
type offlineFlags struct {
	data, natsURL, keyring *string
}

func addOfflineFlags(fs *flag.FlagSet) offlineFlags {
	return offlineFlags{
		data:    fs.String("data", "", "work on this data directory directly (no server may be running on it)"),
		natsURL: fs.String("nats-url", "", "work on the event log of this NATS cluster directly"),
		keyring: fs.String("keyring", "", "keys trusted to have signed the log (default DATA/keys/keyring.json; required with --nats-url alone)"),
	}
}

func (o offlineFlags) set() bool { return *o.data != "" || *o.natsURL != "" }

// openOffline returns the event store and a function to close it.
//
// A tool given --data without --nats-url starts the embedded server on the
// directory's JetStream files, which writes them (nats-server recovers
// and rewrites its indexes on start, and has no lock of its own), so it
// takes the directory's lock like serve does: with a server running it
// refuses at once, naming that server, instead of corrupting its store.
// writes says whether the tool writes into --data itself (rebuild), which
// needs the lock even when the log is read from a cluster. hint tells the
// operator how to do the same through the running server.
func (m *Main) openOffline(ctx context.Context, o offlineFlags, command string, writes bool, hint string) (*eventstore.JetStream, func(), error) {
	// Offline tools judge the log with the keyring and append nothing, so
	// they open it without the private key.
	cfg := ServeConfig{DataDir: *o.data, NATSURL: *o.natsURL, Replicas: 1, offline: true, Keyring: *o.keyring, ReadOnlyKeys: true,
		NATSUser: m.Getenv("KPITRAIL_NATS_USER"), NATSPass: m.Getenv("KPITRAIL_NATS_PASSWORD"), NATSToken: m.Getenv("KPITRAIL_NATS_TOKEN"),
		NATSNkey: m.Getenv("KPITRAIL_NATS_NKEY"), NATSCreds: m.Getenv("KPITRAIL_NATS_CREDS")}
	if cfg.DataDir == "" && cfg.Keyring == "" {
		return nil, nil, fmt.Errorf("give --keyring: the keys trusted to have signed the log on %s", cfg.NATSURL)
	}
	var lock *datadir.Lock
	if *o.data != "" && (*o.natsURL == "" || writes) {
		var err error
		if lock, err = datadir.Acquire(*o.data, datadir.Holder{Command: command}); err != nil {
			if errors.Is(err, datadir.ErrHeld) {
				return nil, nil, fmt.Errorf("%w; stop it first, or %s", err, hint)
			}
			return nil, nil, err
		}
	}
	sys, err := OpenSystem(ctx, cfg, m.Logger)
	if err != nil {
		lock.Release()
		return nil, nil, err
	}
	return sys.Store, func() { sys.Close(); lock.Release() }, nil
}

// interactive reports whether stderr is a terminal: progress bars are for
// people, and would only clutter a script's log.
func (m *Main) interactive() bool {
	f, ok := m.Stderr.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress shows a bar on the terminal while a long operation reads the log.
func (m *Main) progress(ctx context.Context, store *eventstore.JetStream, what string) func(position uint64) {
	if !m.interactive() {
		return nil
	}
	last, _ := store.LastPosition(ctx)
	bar := progressbar.NewOptions64(int64(last), progressbar.OptionSetWriter(m.Stderr), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
	return func(position uint64) { _ = bar.Set64(int64(position)) }
}

func (m *Main) runRebuild(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("rebuild", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	newClient := m.clientFlags(fs)
	off := addOfflineFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !off.set() {
		var res map[string]any
		if err := newClient().do(ctx, "POST", "/v1/admin/rebuild", nil, &res); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "rebuilt to position %v in %.1fs\n", res["position"], res["seconds"])
		return nil
	}
	if *off.data == "" {
		return fmt.Errorf("offline rebuild needs --data: the read models live in the data directory")
	}
	store, closeFn, err := m.openOffline(ctx, off, "rebuild", true, "run `kpitrail rebuild` without --data to have the running server rebuild")
	if err != nil {
		return err
	}
	defer closeFn()
	start := time.Now()
	path := filepath.Join(*off.data, "readmodels.db")
	if err := projections.Rebuild(ctx, store, path, projections.RebuildOptions{Progress: m.progress(ctx, store, "rebuild")}); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "rebuilt %s in %.1fs\n", path, time.Since(start).Seconds())
	return nil
}

func (m *Main) runReplay(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	off := addOfflineFlags(fs)
	asOf := fs.String("as-of", "", "record time to replay to (RFC 3339), e.g. 2022-12-31T23:59:59+08:00")
	position := fs.Uint64("position", 0, "replay to this log position instead")
	out := fs.String("out", "", "read-model file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || (*asOf == "") == (*position == 0) {
		return fmt.Errorf("replay needs --out and exactly one of --as-of or --position")
	}
	if !off.set() {
		return fmt.Errorf("replay reads the log directly: give --data DIR (no server running on it) or --nats-url (e.g. a server's --nats-listen)")
	}
	store, closeFn, err := m.openOffline(ctx, off, "replay", false, "read the log through the running server's NATS with --nats-url (its --nats-listen)")
	if err != nil {
		return err
	}
	defer closeFn()
	if _, err := os.Stat(*out); err == nil {
		return fmt.Errorf("%s exists; replay writes a new file", *out)
	}
	if *position > 0 {
		err = projections.ReplayToPosition(ctx, store, *position, *out)
	} else {
		t, perr := time.Parse(time.RFC3339Nano, *asOf)
		if perr != nil {
			return fmt.Errorf("--as-of: %w", perr)
		}
		// Snapshots in the data directory (the office's and serve's
		// automatic ones) spare the replay the history before them.
		var bases []string
		if *off.data != "" {
			bases = append(projections.SnapshotFiles(filepath.Join(*off.data, "snapshots")),
				projections.SnapshotFiles(filepath.Join(*off.data, "snapshots", "auto"))...)
		}
		err = projections.ReplayAsOfFrom(ctx, store, t, *out, bases)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "wrote %s\n", *out)
	return nil
}

func (m *Main) runSnapshot(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("snapshot", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	newClient := m.clientFlags(fs)
	year := fs.Int("year", 0, "assessment year")
	note := fs.String("note", "", "note recorded with the snapshot")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *year == 0 {
		return fmt.Errorf("snapshot needs --year")
	}
	c := newClient()
	var res map[string]any
	if err := c.do(ctx, "POST", "/v1/snapshots", map[string]any{"year": *year, "note": *note}, &res); err != nil {
		return err
	}
	return m.printJSONOr(c.asJSON, res, func() {
		fmt.Fprintf(m.Stdout, "snapshot of %d at position %v\ncontent hash %v\nroot %v over %v aggregates\nfile %v\n",
			*year, res["position"], res["content_hash"], res["root"], res["aggregates"], res["file"])
	})
}

type multiFlag []string

func (f *multiFlag) String() string     { return strings.Join(*f, ",") }
func (f *multiFlag) Set(s string) error { *f = append(*f, s); return nil }

func (m *Main) printJSONOr(asJSON bool, v any, human func()) error {
	if asJSON || human == nil {
		enc := json.NewEncoder(m.Stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	human()
	return nil
}

func (m *Main) runImport(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "undo" {
		fs := flag.NewFlagSet("import undo", flag.ContinueOnError)
		fs.SetOutput(m.Stderr)
		newClient := m.clientFlags(fs)
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return fmt.Errorf("usage: kpitrail import undo BATCH_ID")
		}
		var out any
		if err := newClient().do(ctx, "POST", "/v1/imports/"+fs.Arg(0)+"/undo", nil, &out); err != nil {
			return err
		}
		return m.printJSONOr(true, out, nil)
	}
	if len(args) > 0 && args[0] == "template" {
		fs := flag.NewFlagSet("import template", flag.ContinueOnError)
		fs.SetOutput(m.Stderr)
		newClient := m.clientFlags(fs)
		format := fs.String("format", "csv", "csv or xlsx")
		out := fs.String("out", "", "file to write (default figures.<format>)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *out == "" {
			*out = "figures." + *format
		}
		data, err := newClient().raw(ctx, "GET", "/v1/imports/templates/figures."+*format)
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, data, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "wrote %s\n", *out)
		return nil
	}
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	newClient := m.clientFlags(fs)
	dry := fs.Bool("dry-run", false, "show what the import would do and append nothing")
	kind := fs.String("kind", "table", "table (自查表) or figures (structured figure sheet)")
	format := fs.String("format", "", "tsv, csv or xlsx (default: from the file)")
	year := fs.Int("year", 0, "assessment year when the title names none")
	lead := fs.String("lead", "", "lead department for rows that name none")
	key := fs.String("idempotency-key", "", "retry-safe key: a retried upload is the same batch")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: kpitrail import [--dry-run] [--kind table|figures] FILE | import undo BATCH | import template")
	}
	data, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return err
	}
	q := fmt.Sprintf("/v1/imports?kind=%s&dry_run=%t&filename=%s", *kind, *dry, urlEscape(filepath.Base(fs.Arg(0))))
	if *format != "" {
		q += "&format=" + *format
	}
	if *year != 0 {
		q += fmt.Sprintf("&year=%d", *year)
	}
	if *lead != "" {
		q += "&lead_department=" + urlEscape(*lead)
	}
	c := newClient()
	var res ImportResult
	var body io.Reader = bytes.NewReader(data)
	if m.interactive() {
		// The bar follows the upload; the server answers once the batch is
		// applied and visible in the read models.
		bar := progressbar.DefaultBytes(int64(len(data)), "importing "+filepath.Base(fs.Arg(0)))
		r := progressbar.NewReader(body, bar)
		body = &r
	}
	err = c.send(ctx, "POST", q, body, "application/octet-stream", &res, "Idempotency-Key", *key)
	if err != nil {
		return err
	}
	return m.printJSONOr(c.asJSON, res, func() {
		s := res.Summary
		if res.DryRun {
			fmt.Fprintln(m.Stdout, "dry run: nothing was appended")
		} else {
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
	})
}

func urlEscape(s string) string { return url.QueryEscape(s) }

func (m *Main) runExport(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	newClient := m.clientFlags(fs)
	dir := fs.String("dir", "", "directory to write (must not exist or be empty)")
	formats := fs.String("format", "csv,jsonl,parquet", "formats, comma-separated")
	tables := fs.String("tables", "", "tables, comma-separated (default: all)")
	position := fs.Uint64("position", 0, "export as of this log position (default: now)")
	bom := fs.Bool("bom", false, "start CSV files with a UTF-8 BOM (for Excel)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return fmt.Errorf("export needs --dir")
	}
	if entries, err := os.ReadDir(*dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty", *dir)
	}
	req := map[string]any{"formats": splitList(*formats), "position": *position, "csv_bom": *bom}
	if *tables != "" {
		req["tables"] = splitList(*tables)
	}
	c := newClient()
	var res struct {
		ID       string `json:"id"`
		Manifest struct {
			Position uint64 `json:"position"`
			Files    []struct {
				Name string `json:"name"`
				Rows int64  `json:"rows"`
			} `json:"files"`
		} `json:"manifest"`
	}
	if err := c.do(ctx, "POST", "/v1/exports", req, &res); err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o750); err != nil {
		return err
	}
	names := []string{"manifest.json"}
	for _, f := range res.Manifest.Files {
		names = append(names, f.Name)
	}
	for _, name := range names {
		data, err := c.raw(ctx, "GET", "/v1/exports/"+res.ID+"/"+name)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(*dir, name), data, 0o644); err != nil {
			return err
		}
	}
	if err := export.VerifyManifest(*dir); err != nil {
		return fmt.Errorf("downloaded export does not verify: %w", err)
	}
	fmt.Fprintf(m.Stdout, "exported %d files at position %d into %s (manifest verified)\n", len(res.Manifest.Files), res.Manifest.Position, *dir)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
