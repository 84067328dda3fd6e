package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"kpitrail/audit"
	"kpitrail/projections"
	"kpitrail/signing"
)

const auditUsage = "usage: kpitrail audit verify [--root-file F] [--root R --position P --aggregates N] [--data DIR | --nats-url URL [--keyring F] [--record F]]\n" +
	"       kpitrail audit root [--out F] [--data DIR]\n" +
	"       kpitrail audit keys\n" +
	"       kpitrail audit acknowledge --position P --kind K --reason R"

func (m *Main) runAudit(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New(auditUsage)
	}
	switch args[0] {
	case "verify":
		return m.auditVerify(ctx, args[1:])
	case "root":
		return m.auditRoot(ctx, args[1:])
	case "keys":
		return m.auditKeys(ctx, args[1:])
	case "acknowledge":
		return m.auditAcknowledge(ctx, args[1:])
	}
	return errors.New(auditUsage)
}

// offlineAuditor opens the log of a data directory or cluster with the
// keyring alone, and what the data directory keeps beside it: the read
// models (when their file exists) and the record of the last verification.
func (m *Main) offlineAuditor(ctx context.Context, off offlineFlags, record string) (*auditor, func(), error) {
	store, closeFn, err := m.openOffline(ctx, off, "audit verify", true, "run `kpitrail audit verify` without --data to have the running server verify")
	if err != nil {
		return nil, nil, err
	}
	a := &auditor{store: store, keyring: store.Keyring(), record: record, now: time.Now}
	if *off.data == "" {
		return a, closeFn, nil
	}
	if a.record == "" {
		a.record = filepath.Join(*off.data, "audit", "verified.json")
	}
	path := filepath.Join(*off.data, "readmodels.db")
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return a, closeFn, nil
	}
	db, err := projections.Open(path)
	if err != nil {
		closeFn()
		return nil, nil, err
	}
	a.readModels = func(_ context.Context, fn func(*projections.DB) error) error { return fn(db) }
	return a, func() { db.Close(); closeFn() }, nil
}

func (m *Main) auditVerify(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	newClient := m.clientFlags(fs)
	off := addOfflineFlags(fs)
	rootFile := fs.String("root-file", "", "a root statement from `kpitrail audit root`, kept outside the system, to check the log against")
	root := fs.String("root", "", "a published checkpoint root to check the log against")
	position := fs.Uint64("position", 0, "the checkpoint's position")
	aggregates := fs.Int("aggregates", 0, "the checkpoint's aggregate count")
	record := fs.String("record", "", "offline: the record of the last verification to check against and move on (default DATA/audit/verified.json)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var claims []audit.Claim
	var statement []byte
	if *rootFile != "" {
		st, err := audit.ReadStatement(*rootFile)
		if err != nil {
			return err
		}
		if statement, err = os.ReadFile(*rootFile); err != nil {
			return err
		}
		claims = append(claims, st.Claim("the root statement in "+*rootFile))
	}
	if *root != "" {
		claims = append(claims, audit.Claim{Source: "--root", Checkpoint: audit.Checkpoint{Position: *position, Root: *root, Aggregates: *aggregates}})
	}
	var rep audit.Report
	c := newClient()
	switch {
	case off.set():
		a, closeFn, err := m.offlineAuditor(ctx, off, *record)
		if err != nil {
			return err
		}
		defer closeFn()
		if rep, err = a.Verify(ctx, claims); err != nil {
			return err
		}
	case *record != "" || *off.keyring != "":
		return errors.New("--record and --keyring are for verifying offline (--data or --nats-url); a server verifies with its own")
	case *rootFile != "" && *root != "":
		return errors.New("give --root-file or --root, not both, to a server")
	case *rootFile != "":
		if err := c.send(ctx, "POST", "/v1/audit/verify", bytes.NewReader(statement), "application/json", &rep); err != nil {
			return err
		}
	default:
		path := "/v1/audit/verify"
		if *root != "" {
			path += fmt.Sprintf("?root=%s&position=%d&aggregates=%d", urlEscape(*root), *position, *aggregates)
		}
		if err := c.do(ctx, "GET", path, nil, &rep); err != nil {
			return err
		}
	}
	err := m.printJSONOr(c.asJSON, rep, func() { m.printReport(rep) })
	if err == nil && !rep.OK() {
		return fmt.Errorf("the log does not verify: %d finding(s)", len(rep.Findings))
	}
	return err
}

func (m *Main) printReport(rep audit.Report) {
	fmt.Fprintf(m.Stdout, "%d messages, %d events, %d aggregates, last position %d\nroot %s\n",
		rep.Messages, rep.Events, rep.Aggregates, rep.Last, rep.Checkpoint.Root)
	for _, c := range rep.Claims {
		state := "holds"
		if !c.Valid {
			state = "DOES NOT HOLD"
		}
		fmt.Fprintf(m.Stdout, "  checked against %s at position %d: %s\n", c.Source, c.Position, state)
	}
	for _, f := range rep.Findings {
		fmt.Fprintf(m.Stdout, "  %-19s position %-8d %s %s\n", f.Kind, f.Position, strings.Trim(f.AggregateType+"/"+f.AggregateID, "/"), f.Detail)
	}
	for _, a := range rep.Acknowledged {
		fmt.Fprintf(m.Stdout, "  acknowledged %-19s position %-8d by %s: %s\n", a.Kind, a.Position, a.By, a.Reason)
	}
}

func (m *Main) auditRoot(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("audit root", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	newClient := m.clientFlags(fs)
	data := fs.String("data", "", "sign with the key of this data directory directly (no server may be running on it)")
	out := fs.String("out", "", "write the statement to this file as well")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var st audit.Statement
	if *data != "" {
		none := ""
		a, closeFn, err := m.offlineAuditor(ctx, offlineFlags{data: data, natsURL: &none, keyring: &none}, "")
		if err != nil {
			return err
		}
		defer closeFn()
		signer, err := signing.LoadSigner(ServeConfig{DataDir: *data}.keyPaths().key)
		if err != nil {
			return err
		}
		a.signer = signer
		if st, err = a.Root(ctx); err != nil {
			return err
		}
	} else if err := newClient().do(ctx, "GET", "/v1/audit/root", nil, &st); err != nil {
		return err
	}
	if *out != "" {
		b, err := json.MarshalIndent(st, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return m.printJSONOr(true, st, nil)
}

func (m *Main) auditKeys(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("audit keys", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	newClient := m.clientFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var out any
	if err := newClient().do(ctx, "GET", "/v1/audit/keys", nil, &out); err != nil {
		return err
	}
	return m.printJSONOr(true, out, nil)
}

func (m *Main) auditAcknowledge(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("audit acknowledge", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	newClient := m.clientFlags(fs)
	position := fs.Uint64("position", 0, "the finding's position")
	kind := fs.String("kind", "", "the finding's kind")
	reason := fs.String("reason", "", "why the finding is accepted")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var out any
	body := map[string]any{"position": *position, "kind": *kind, "reason": *reason}
	if err := newClient().do(ctx, "POST", "/v1/audit/acknowledgements", body, &out); err != nil {
		return err
	}
	return m.printJSONOr(true, out, nil)
}

func (m *Main) runKeys(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "rotate" {
		return errors.New("usage: kpitrail keys rotate --reason R (admin)")
	}
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	newClient := m.clientFlags(fs)
	reason := fs.String("reason", "", "why the key is rotated")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var out any
	if err := newClient().do(ctx, "POST", "/v1/admin/keys/rotate", map[string]any{"reason": *reason}, &out); err != nil {
		return err
	}
	return m.printJSONOr(true, out, nil)
}
