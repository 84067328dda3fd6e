package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"

	"kpitrail/domain"
)

// Main is the testable program: tests construct it with buffers and a fake
// environment and call Run like the shell would.
type Main struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Logger         *slog.Logger
}

func NewMain(stdout, stderr io.Writer, getenv func(string) string) *Main {
	return &Main{Stdout: stdout, Stderr: stderr, Getenv: getenv,
		Logger: slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
}

type subcommand struct {
	summary string
	run     func(m *Main, ctx context.Context, args []string) error
}

func (m *Main) commands() map[string]subcommand {
	cmds := map[string]subcommand{
		"serve":     {"run the server: embedded NATS, projections, the HTTP API and the web console", (*Main).runServe},
		"rebuild":   {"rebuild the read models from position 1 (server, or --data offline)", (*Main).runRebuild},
		"replay":    {"write the read models as known at --as-of (or --position) to --out", (*Main).runReplay},
		"snapshot":  {"freeze the read models of --year and record their hash as an event", (*Main).runSnapshot},
		"audit":     {"audit verify | root | keys | acknowledge: check the log's signatures, chains and roots; sign a root to keep", (*Main).runAudit},
		"keys":      {"keys rotate: replace the instance's signing key (admin)", (*Main).runKeys},
		"stream":    {"stream status | adopt: the event stream against its record (the restore runbook, docs/reliability.md)", (*Main).runStream},
		"token":     {"token issue | list | revoke (admin)", (*Main).runToken},
		"bench":     {"measure appends, import, rebuild, replay and queries next to the raw limits (--quick: under a minute)", (*Main).runBench},
		"export":    {"export the read models and the event log as CSV, JSON Lines and Parquet with a manifest", (*Main).runExport},
		"import":    {"import a self-check table or figure sheet (--dry-run); import undo BATCH; import template", (*Main).runImport},
		"selfcheck": {"download the self-check table (自查表) as XLSX: --year ... --out FILE, or --task ID", (*Main).runSelfCheck},
	}
	for name, rc := range readCommands() {
		cmds[name] = subcommand{rc.summary, func(m *Main, ctx context.Context, args []string) error {
			return m.runRead(ctx, name, rc, args)
		}}
	}
	return cmds
}

// Run dispatches a subcommand.
func (m *Main) Run(ctx context.Context, args []string) error {
	cmds := m.commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		m.usage(cmds)
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return nil
	}
	c, ok := cmds[args[0]]
	if !ok {
		if _, isCommand := domain.NewCommand(args[0]); isCommand {
			return helpIsNotAnError(m.runCommand(ctx, args[0], args[1:]))
		}
		m.usage(cmds)
		return fmt.Errorf("unknown command %q", args[0])
	}
	return helpIsNotAnError(c.run(m, ctx, args[1:]))
}

func helpIsNotAnError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func (m *Main) usage(cmds map[string]subcommand) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(m.Stderr, "usage: kpitrail <command> [flags]\n\ncommands:")
	for _, n := range names {
		fmt.Fprintf(m.Stderr, "  %-28s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(m.Stderr, "\ndomain commands (sent to a running server; --help on each lists its fields):")
	for _, n := range domain.CommandNames() {
		fmt.Fprintf(m.Stderr, "  %s\n", n)
	}
}
