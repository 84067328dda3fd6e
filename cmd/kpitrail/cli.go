package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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

// Command groups, in the order the root's help lists them.
const (
	groupReads    = "reads"
	groupCommands = "commands"
	groupJobs     = "jobs"
	groupOps      = "ops"
)

// Run parses args as the shell gives them and runs the command. Help goes
// to Stdout and is not an error; errors are returned for main to print.
func (m *Main) Run(ctx context.Context, args []string) error {
	root := m.rootCommand()
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

// rootCommand builds the whole command tree. Each Run builds its own, so
// flag values never leak from one run to the next (tests run many).
//
// cobra replaces our own flag parsing and help: usage lines with their
// positional arguments, help on stdout, `help <command>`, suggestions for
// a mistyped command, and shell completion generated from the same tree.
func (m *Main) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "kpitrail",
		Short: "Track performance-assessment tasks (专项任务) and indicators (指标) as events",
		Long: "kpitrail tracks performance-assessment tasks (专项任务) and indicators (指标) as events.\n\n" +
			"`kpitrail serve` runs the server; every other command talks to a running server (--server,\n" +
			"KPITRAIL_SERVER; token in KPITRAIL_TOKEN) or, where it says so, works on a stopped server's data\n" +
			"directory (--data). Reads print tables; --json prints the server's JSON instead.",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(m.Stdout)
	root.SetErr(m.Stderr)
	root.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q", args[0])
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return usageErrorf(c, "%s", msg)
	}
	// Runnable, so that the check above runs: kpitrail alone prints help.
	root.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
	root.AddGroup(
		&cobra.Group{ID: groupReads, Title: "Reads (from a running server):"},
		&cobra.Group{ID: groupCommands, Title: "Domain commands (sent to a running server; --help on each lists its fields):"},
		&cobra.Group{ID: groupJobs, Title: "Long operations (run on the server as jobs):"},
		&cobra.Group{ID: groupOps, Title: "Operating:"},
	)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf(c, "%v", err)
	})
	for _, c := range m.readCommandsCobra() {
		c.GroupID = groupReads
		root.AddCommand(c)
	}
	for _, c := range m.domainCommands() {
		c.GroupID = groupCommands
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{m.importCommand(), m.exportCommand(), m.rebuildCommand(), m.replayCommand(), m.jobCommand()} {
		c.GroupID = groupJobs
		root.AddCommand(c)
	}
	for _, c := range []*cobra.Command{m.serveCommand(), m.snapshotCommand(), m.selfCheckCommand(), m.auditCommand(), m.keysCommand(),
		m.streamCommand(), m.tokenCommand(), m.benchCommand()} {
		c.GroupID = groupOps
		root.AddCommand(c)
	}
	root.SetHelpCommandGroupID(groupOps)
	root.SetCompletionCommandGroupID(groupOps)
	forEachCommand(root, func(c *cobra.Command) {
		// Flags keep the order they are registered in: the command's own
		// first, then the shared ones (--server, --token, --json).
		c.Flags().SortFlags = false
		if c.Args != nil {
			c.Args = withUsageHint(c.Args)
		}
	})
	return root
}

// forEachCommand calls fn for c and every command below it.
func forEachCommand(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		forEachCommand(sub, fn)
	}
}

// UsageError is a command line the command cannot run: a flag or an
// argument wrong or missing. main exits 2 for it, as Go's flag package
// does.
type UsageError struct {
	Err  error
	Path string // the command, e.g. "kpitrail import"
}

func (e *UsageError) Error() string {
	return fmt.Sprintf("%v\nrun '%s --help' for usage", e.Err, e.Path)
}

func (e *UsageError) Unwrap() error { return e.Err }

func usageErrorf(c *cobra.Command, format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...), Path: c.CommandPath()}
}

func withUsageHint(validate cobra.PositionalArgs) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if err := validate(c, args); err != nil {
			var u *UsageError
			if errors.As(err, &u) {
				return err
			}
			return &UsageError{Err: err, Path: c.CommandPath()}
		}
		return nil
	}
}

// exactArgs wants n positional arguments, named in the usage line.
func exactArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf(c, "%s: want %d argument(s) (%s), got %d", c.CommandPath(), n, c.Use, len(args))
		}
		return nil
	}
}

// jsonFlag adds --json: every command that prints a result prints JSON
// with it, and a table or plain lines without.
func jsonFlag(fs *pflag.FlagSet) *bool {
	return fs.Bool("json", false, "print the result as JSON instead of a table or lines")
}

// DetachedError ends a command that Ctrl-C detached from a job it was
// following: the job runs on, and the command has said how to follow or
// cancel it.
type DetachedError struct {
	JobID string
}

func (e *DetachedError) Error() string {
	return "detached from job " + e.JobID + "; it keeps running on the server"
}
