package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"kpitrail/eventstore"
	"kpitrail/internal/datadir"
	"kpitrail/projections"
)

// offlineFlags let an operation work on a data directory directly (no
// server running on it) or on an external cluster, instead of asking a
// running server.
type offlineFlags struct {
	data, natsURL, keyring *string
}

func addOfflineFlags(fs *pflag.FlagSet) offlineFlags {
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

func (m *Main) rebuildCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "rebuild",
		Short: "Rebuild the read models from position 1 (on the server, or offline with --data)",
		Long: "Rebuild the read models from the log's first position. Without --data the running server rebuilds\n" +
			"its own and swaps them in; with --data, a stopped server's data directory is rebuilt in place.",
		Args: exactArgs(0),
	}
	fs := c.Flags()
	reason := fs.String("reason", "", "why the rebuild is run, recorded with its job")
	off := addOfflineFlags(fs)
	limit := fs.Int64("memory-limit", projections.RebuildMemoryLimit, "offline: Go's soft memory limit for the process, embedded server included, in bytes (0: none; GOMEMLIMIT wins)")
	budget := fs.Int64("build-memory", projections.DefaultMemoryBudget, "offline: what the build holds for itself (batches, folded state, page cache), in bytes")
	newClient := m.clientFlags(fs)
	c.RunE = func(c *cobra.Command, _ []string) error {
		ctx := c.Context()
		cl := newClient()
		if !off.set() {
			j, err := m.startJob(ctx, cl, "POST", "/v1/admin/rebuild"+reasonQuery(*reason), nil)
			if err != nil {
				return err
			}
			var res map[string]any
			if err := json.Unmarshal(j.Result, &res); err != nil {
				return err
			}
			return m.printJSONOr(cl.asJSON, res, func() {
				fmt.Fprintf(m.Stdout, "rebuilt to position %v in %.1fs\n", res["position"], res["seconds"])
			})
		}
		if *off.data == "" {
			return usageErrorf(c, "offline rebuild needs --data: the read models live in the data directory")
		}
		defer m.setMemoryLimit(*limit)()
		store, closeFn, err := m.openOffline(ctx, off, "rebuild", true, "run `kpitrail rebuild` without --data to have the running server rebuild")
		if err != nil {
			return err
		}
		defer closeFn()
		start := time.Now()
		path := filepath.Join(*off.data, "readmodels.db")
		if err := projections.Rebuild(ctx, store, path, projections.RebuildOptions{Progress: m.progress(ctx, store, "rebuild"),
			MemoryBudget: *budget}); err != nil {
			return err
		}
		res := map[string]any{"file": path, "seconds": time.Since(start).Seconds()}
		return m.printJSONOr(cl.asJSON, res, func() { fmt.Fprintf(m.Stdout, "rebuilt %s in %.1fs\n", path, res["seconds"]) })
	}
	return c
}

func (m *Main) replayCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "replay --out <file> (--as-of <instant> | --position <n>)",
		Short: "Write the read models as known at an instant (or up to a log position) to a new SQLite file",
		Long: "Write the read models as known at an instant of record time (or up to a log position) to a new SQLite\n" +
			"file. Without --data or --nats-url the running server replays as a job and this command downloads\n" +
			"the file and checks it against its manifest.",
		Args: exactArgs(0),
	}
	fs := c.Flags()
	asOf := fs.String("as-of", "", "the instant of record time to replay to (RFC 3339), e.g. 2022-12-31T23:59:59+08:00")
	position := fs.Uint64("position", 0, "replay to this log position instead")
	out := fs.String("out", "", "the read-model file to write (must not exist)")
	reason := fs.String("reason", "", "why the replay is run, recorded with its job (on the server)")
	off := addOfflineFlags(fs)
	newClient := m.clientFlags(fs)
	c.RunE = func(c *cobra.Command, _ []string) error {
		ctx := c.Context()
		if *out == "" || (*asOf == "") == (*position == 0) {
			return usageErrorf(c, "replay needs --out and exactly one of --as-of or --position")
		}
		cl := newClient()
		asJSON := &cl.asJSON
		if !off.set() {
			return m.replayOnServer(ctx, cl, *out, *asOf, *position, *reason)
		}
		store, closeFn, err := m.openOffline(ctx, off, "replay", false, "run `kpitrail replay` without --data to have the running server replay")
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
				return usageErrorf(c, "--as-of: %v", perr)
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
		return m.printJSONOr(*asJSON, map[string]any{"file": *out}, func() { fmt.Fprintf(m.Stdout, "wrote %s\n", *out) })
	}
	return c
}

func (m *Main) snapshotCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "snapshot --year <year>",
		Short: "Freeze the read models of a year and record their hash as an event (封存)",
		Args:  exactArgs(0),
	}
	fs := c.Flags()
	year := fs.Int("year", 0, "the assessment year to freeze")
	note := fs.String("note", "", "a note recorded with the snapshot")
	newClient := m.clientFlags(fs)
	c.RunE = func(c *cobra.Command, _ []string) error {
		if *year == 0 {
			return usageErrorf(c, "snapshot needs --year")
		}
		cl := newClient()
		var res map[string]any
		if err := cl.do(c.Context(), "POST", "/v1/snapshots", map[string]any{"year": *year, "note": *note}, &res); err != nil {
			return err
		}
		return m.printJSONOr(cl.asJSON, res, func() {
			fmt.Fprintf(m.Stdout, "snapshot of %d at position %v\ncontent hash %v\nroot %v over %v aggregates\nfile %v\n",
				*year, res["position"], res["content_hash"], res["root"], res["aggregates"], res["file"])
		})
	}
	return c
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
