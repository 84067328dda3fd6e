package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"kpitrail/eventstore"
	"kpitrail/internal/datadir"
)

// streamCommand is the operator's side of the stream guard: see what the
// guard sees, and adopt a restored (or a new, empty) stream explicitly.
// Both work on a stopped server's data directory, since adopting changes
// the directory's record and may set its read models aside.
func (m *Main) streamCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "stream",
		Short: "The event stream against its record: status, and adopting a restored stream (docs/reliability.md)",
	}
	status := &cobra.Command{
		Use:   "status --data <dir>",
		Short: "Show the stream, its record, the read models' position and the guard's verdict",
		Args:  exactArgs(0),
	}
	adopt := &cobra.Command{
		Use:   "adopt --data <dir> --reason <text>",
		Short: "Make the stream as it now is kpitrail's (after a restore; --empty for a lost one)",
		Args:  exactArgs(0),
	}
	for _, sub := range []*cobra.Command{status, adopt} {
		fs := sub.Flags()
		var reason *string
		var empty *bool
		if sub == adopt {
			reason = fs.String("reason", "", "why the stream is adopted (recorded with who and when)")
			empty = fs.Bool("empty", false, "the stream is lost and no backup exists: start a new, empty log")
		}
		off := addOfflineFlags(fs)
		sub.RunE = func(cc *cobra.Command, _ []string) error {
			return m.runStream(cc.Context(), cc, cc.Name(), off, reason, empty)
		}
	}
	c.AddCommand(status, adopt)
	return c
}

func (m *Main) runStream(ctx context.Context, cc *cobra.Command, action string, off offlineFlags, reason *string, empty *bool) error {
	if *off.data == "" {
		return usageErrorf(cc, "kpitrail stream needs --data: the stream's record and the read models live in the data directory")
	}
	lock, err := datadir.Acquire(*off.data, datadir.Holder{Command: "stream " + action})
	if err != nil {
		if errors.Is(err, datadir.ErrHeld) {
			return fmt.Errorf("%w; stop it first (/readyz on the running server names the stream's fault)", err)
		}
		return err
	}
	defer lock.Release()
	cfg := ServeConfig{DataDir: *off.data, NATSURL: *off.natsURL, Replicas: 1, offline: true, noGuard: true,
		NATSUser: m.Getenv("KPITRAIL_NATS_USER"), NATSPass: m.Getenv("KPITRAIL_NATS_PASSWORD"), NATSToken: m.Getenv("KPITRAIL_NATS_TOKEN"),
		NATSNkey: m.Getenv("KPITRAIL_NATS_NKEY"), NATSCreds: m.Getenv("KPITRAIL_NATS_CREDS")}
	if v := m.Getenv("KPITRAIL_REPLICAS"); v != "" {
		if _, err := fmt.Sscan(v, &cfg.Replicas); err != nil {
			return fmt.Errorf("KPITRAIL_REPLICAS: %w", err)
		}
	}
	sys, err := OpenSystem(ctx, cfg, m.Logger)
	if err != nil {
		return err
	}
	defer sys.Close()
	if action == "status" {
		return m.streamStatus(ctx, sys, *off.data)
	}
	if strings.TrimSpace(*reason) == "" {
		return usageErrorf(cc, "stream adopt needs --reason: the record keeps who adopted the stream, when and why")
	}
	return m.streamAdopt(ctx, sys, *off.data, *reason, *empty)
}

func (m *Main) streamStatus(ctx context.Context, sys *System, data string) error {
	file := filepath.Join(data, streamRecordFile)
	rec, err := eventstore.ReadStreamRecord(file)
	if err != nil {
		return err
	}
	mark, err := readModelsMark(filepath.Join(data, "readmodels.db"))(ctx)
	if err != nil {
		return err
	}
	w := m.Stdout
	if rec == nil {
		fmt.Fprintf(w, "record      none (%s)\n", file)
	} else {
		fmt.Fprintf(w, "record      %s: stream %s created %s, first position %d\n", file, rec.Stream, rec.Created.Format(time.RFC3339Nano), max(rec.FirstSeq, 1))
		for _, h := range rec.History {
			fmt.Fprintf(w, "            %s  %s: %s", h.At.Format(time.RFC3339), h.By, h.Action)
			if h.Reason != "" {
				fmt.Fprintf(w, " (reason: %s)", h.Reason)
			}
			fmt.Fprintln(w)
		}
	}
	name := sys.Store.Config().Stream
	if st, err := sys.Store.JetStreamContext().Stream(ctx, name); errors.Is(err, jetstream.ErrStreamNotFound) {
		fmt.Fprintf(w, "stream      %s is missing\n", name)
	} else if err != nil {
		return err
	} else {
		i := st.CachedInfo()
		discard, _ := i.Config.Discard.MarshalJSON()
		fmt.Fprintf(w, "stream      %s created %s, %d messages, positions %d-%d, max_msgs %d, discard %s, replicas %d\n", name,
			i.Created.UTC().Format(time.RFC3339Nano), i.State.Msgs, i.State.FirstSeq, i.State.LastSeq, i.Config.MaxMsgs,
			strings.Trim(string(discard), `"`), i.Config.Replicas)
	}
	fmt.Fprintf(w, "read models position %d", mark.Position)
	if mark.EventID != "" {
		fmt.Fprintf(w, " (last event %s at position %d)", mark.EventID, mark.EventPosition)
	}
	fmt.Fprintln(w)
	g, err := eventstore.OpenGuard(ctx, sys.Store, eventstore.GuardConfig{File: file, Mark: readModelsMark(filepath.Join(data, "readmodels.db")),
		ReadOnly: true, Logger: quietLogger()})
	if err == nil {
		err = g.Err()
	}
	if err != nil {
		fmt.Fprintf(w, "verdict     %s\n", faultText(err))
		return errors.New("the event stream fails its guard; see the restore runbook in docs/reliability.md")
	}
	fmt.Fprintln(w, "verdict     ok")
	return nil
}

// streamAdopt makes the stream as it now is kpitrail's, on the operator's
// word: after a restore from a backup, or, with empty, over a stream that
// is lost for good. The read models (and the feed's state) are set aside,
// never deleted, when they hold history the stream does not; serve then
// rebuilds them from the stream.
func (m *Main) streamAdopt(ctx context.Context, sys *System, data, reason string, empty bool) error {
	file := filepath.Join(data, streamRecordFile)
	mark, err := readModelsMark(filepath.Join(data, "readmodels.db"))(ctx)
	if err != nil {
		return err
	}
	name := sys.Store.Config().Stream
	var did []string
	setAside := false
	st, err := sys.Store.JetStreamContext().Stream(ctx, name)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		if !empty {
			return fmt.Errorf("the event stream %s is missing. Restore it from a backup (docs/reliability.md, restore runbook) and adopt it, "+
				"or, if no backup exists, adopt --empty to start a new, empty log (the read models are set aside, not deleted)", name)
		}
		did = append(did, "created a new, empty stream: the history before it is not in the log")
		setAside = true
	case err != nil:
		return err
	default:
		if empty {
			return fmt.Errorf("the event stream %s exists; --empty only replaces a missing one (delete it first, with kpitrail's key, if it must go)", name)
		}
		info := st.CachedInfo()
		if cause := eventstore.LostBeginning(info); cause != "" {
			return fmt.Errorf("the event stream %s %s: the log cannot stand on it. Restore a backup that holds those positions, "+
				"or delete the stream and adopt --empty", name, cause)
		}
		did = append(did, fmt.Sprintf("adopted the stream as it is (created %s, positions %d-%d)",
			info.Created.UTC().Format(time.RFC3339), info.State.FirstSeq, info.State.LastSeq))
		if d := eventstore.DiffConfig(info.Config, sys.Store.Config().StreamConfig()); len(d) > 0 {
			did = append(did, "restored kpitrail's configuration (was: "+strings.Join(d, ", ")+")")
		}
		c, err := sys.Store.Contradictions(ctx, info, mark)
		if err != nil {
			return err
		}
		if len(c) > 0 {
			did = append(did, fmt.Sprintf("the read models (at position %d) did not match it: it %s", mark.Position, strings.Join(c, "; ")))
			setAside = true
		} else {
			did = append(did, fmt.Sprintf("the read models (at position %d) agree with it and are kept", mark.Position))
		}
	}
	info, err := sys.Store.EnsureStream(ctx)
	if err != nil {
		return err
	}
	if setAside {
		dir, moved, err := setAsideDerived(data)
		if err != nil {
			return err
		}
		if len(moved) > 0 {
			did = append(did, fmt.Sprintf("set %s aside in %s; serve rebuilds them from the stream", strings.Join(moved, ", "), dir))
		}
	}
	rec, err := eventstore.RecordStream(file, info, eventstore.RecordEntry{By: operator(), Action: strings.Join(did, "; "), Reason: reason})
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "adopted stream %s (created %s, positions %d-%d), recorded in %s:\n", rec.Stream,
		rec.Created.Format(time.RFC3339Nano), info.State.FirstSeq, info.State.LastSeq, file)
	for _, d := range did {
		fmt.Fprintf(m.Stdout, "  - %s\n", d)
	}
	fmt.Fprintf(m.Stdout, "next: start serve, then check the log with `kpitrail audit verify`\n")
	return nil
}

// setAsideDerived moves the files built from the log (the read models, the
// feed's state and replica, cached as-of replays) into
// <data>/set-aside/<time>/, where they stay for the operator to compare or
// recover from.
func setAsideDerived(data string) (string, []string, error) {
	dir := filepath.Join(data, "set-aside", time.Now().UTC().Format("20060102T150405Z"))
	var moved []string
	for _, name := range []string{"readmodels.db", "readmodels.db-wal", "readmodels.db-shm", "feed", "asof"} {
		src := filepath.Join(data, name)
		if _, err := os.Stat(src); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return "", nil, err
		}
		if err := os.Rename(src, filepath.Join(dir, name)); err != nil {
			return "", nil, fmt.Errorf("set aside %s: %w", name, err)
		}
		if !strings.Contains(name, ".db-") {
			moved = append(moved, name)
		}
	}
	return dir, moved, nil
}

// operator names who runs the command, for the record.
func operator() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s@%s (kpitrail stream adopt)", name, host)
}

// faultText is a guard error's message without the advice tail.
func faultText(err error) string {
	s := err.Error()
	if i := strings.Index(s, ". Writes are refused"); i > 0 {
		return s[:i]
	}
	return s
}

// quietLogger drops what a one-shot check would log: the command prints
// its verdict itself.
func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
