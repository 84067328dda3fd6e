package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"kpitrail/audit"
	"kpitrail/projections"
	"kpitrail/signing"
)

func (m *Main) auditCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "audit",
		Short: "Check the log's signatures, chains and roots; sign a root to keep; acknowledge a finding",
	}
	c.AddCommand(m.auditVerifyCommand(), m.auditRootCommand(), m.auditKeysCommand(), m.auditAcknowledgeCommand())
	return c
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

func (m *Main) auditVerifyCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "verify",
		Short: "Verify every message's signature, the hash chains and the checkpoint roots (exit 1 on a finding)",
		Long: "Verify the log: on the running server, or offline on a stopped server's data directory (--data) or a\n" +
			"cluster (--nats-url) with the keyring alone. --root-file or --root checks the log against a root kept\n" +
			"outside the system.",
		Args: exactArgs(0),
	}
	fs := c.Flags()
	rootFile := fs.String("root-file", "", "a root statement from `kpitrail audit root`, kept outside the system, to check the log against")
	root := fs.String("root", "", "a published checkpoint root to check the log against")
	position := fs.Uint64("position", 0, "the checkpoint's position (with --root)")
	aggregates := fs.Int("aggregates", 0, "the checkpoint's aggregate count (with --root)")
	record := fs.String("record", "", "offline: the record of the last verification to check against and move on (default DATA/audit/verified.json)")
	off := addOfflineFlags(fs)
	newClient := m.clientFlags(fs)
	c.RunE = func(cc *cobra.Command, _ []string) error {
		return m.auditVerify(cc.Context(), off, newClient(), verifyClaims{*rootFile, *root, *position, *aggregates}, *record)
	}
	return c
}

// verifyClaims are the roots kept outside the system to check the log
// against.
type verifyClaims struct {
	rootFile, root string
	position       uint64
	aggregates     int
}

func (m *Main) auditVerify(ctx context.Context, off offlineFlags, c *client, v verifyClaims, record string) error {
	rootFile, root, position, aggregates := &v.rootFile, &v.root, &v.position, &v.aggregates
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
	switch {
	case off.set():
		a, closeFn, err := m.offlineAuditor(ctx, off, record)
		if err != nil {
			return err
		}
		defer closeFn()
		if rep, err = a.Verify(ctx, claims); err != nil {
			return err
		}
	case record != "" || *off.keyring != "":
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
			path += fmt.Sprintf("?root=%s&position=%d&aggregates=%d", url.QueryEscape(*root), *position, *aggregates)
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

func (m *Main) auditRootCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "root",
		Short: "Sign the log's current checkpoint root: a statement to keep outside the system",
		Args:  exactArgs(0),
	}
	fs := c.Flags()
	data := fs.String("data", "", "sign with the key of this data directory directly (no server may be running on it)")
	out := fs.String("out", "", "write the statement to this file as well")
	newClient := m.clientFlags(fs)
	c.RunE = func(cc *cobra.Command, _ []string) error {
		return m.auditRoot(cc.Context(), newClient(), *data, *out)
	}
	return c
}

func (m *Main) auditRoot(ctx context.Context, cl *client, dataDir, outFile string) error {
	data, out := &dataDir, &outFile
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
	} else if err := cl.do(ctx, "GET", "/v1/audit/root", nil, &st); err != nil {
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
	return m.printJSONOr(cl.asJSON, st, nil)
}

func (m *Main) auditKeysCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "keys",
		Short: "List the keys trusted to have signed the log (the keyring)",
		Args:  exactArgs(0),
	}
	newClient := m.clientFlags(c.Flags())
	c.RunE = func(cc *cobra.Command, _ []string) error {
		cl := newClient()
		var out json.RawMessage
		if err := cl.do(cc.Context(), "GET", "/v1/audit/keys", nil, &out); err != nil {
			return err
		}
		if cl.asJSON {
			return m.printIndented(out)
		}
		return m.printGeneric(out)
	}
	return c
}

func (m *Main) auditAcknowledgeCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "acknowledge --position <n> --kind <kind> --reason <text>",
		Short: "Accept a finding of verify, recorded with who and why (it then no longer fails verify)",
		Args:  exactArgs(0),
	}
	fs := c.Flags()
	position := fs.Uint64("position", 0, "the finding's log position")
	kind := fs.String("kind", "", "the finding's kind, as verify names it")
	reason := fs.String("reason", "", "why the finding is accepted")
	newClient := m.clientFlags(fs)
	c.RunE = func(cc *cobra.Command, _ []string) error {
		cl := newClient()
		var out json.RawMessage
		body := map[string]any{"position": *position, "kind": *kind, "reason": *reason}
		if err := cl.do(cc.Context(), "POST", "/v1/audit/acknowledgements", body, &out); err != nil {
			return err
		}
		if cl.asJSON {
			return m.printIndented(out)
		}
		return m.printGeneric(out)
	}
	return c
}

func (m *Main) keysCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "keys",
		Short: "Manage the instance's signing key (admin)",
	}
	rotate := &cobra.Command{
		Use:   "rotate --reason <text>",
		Short: "Replace the instance's signing key; the keyring keeps trusting the old one for what it signed",
		Args:  exactArgs(0),
	}
	fs := rotate.Flags()
	reason := fs.String("reason", "", "why the key is rotated")
	newClient := m.clientFlags(fs)
	rotate.RunE = func(cc *cobra.Command, _ []string) error {
		cl := newClient()
		var out json.RawMessage
		if err := cl.do(cc.Context(), "POST", "/v1/admin/keys/rotate", map[string]any{"reason": *reason}, &out); err != nil {
			return err
		}
		if cl.asJSON {
			return m.printIndented(out)
		}
		return m.printGeneric(out)
	}
	c.AddCommand(rotate)
	return c
}
