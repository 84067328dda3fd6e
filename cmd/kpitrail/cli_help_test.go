package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// noJSON are the commands that print no result to format: serve logs,
// completion prints a script, and stream's reports are for an operator at
// a stopped server. Every other runnable command takes --json.
var noJSON = []string{"kpitrail", "kpitrail serve", "kpitrail stream status", "kpitrail stream adopt", "kpitrail help"}

// commandPaths walks the command tree as the shell sees it (help and
// completion included), so a command added anywhere is covered.
func commandPaths(t *testing.T) [][]string {
	t.Helper()
	root := NewMain(io.Discard, io.Discard, func(string) string { return "" }).rootCommand()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var paths [][]string
	forEachCommand(root, func(c *cobra.Command) {
		if c == root || c.IsAvailableCommand() || c.Name() == "help" {
			paths = append(paths, strings.Fields(c.CommandPath())[1:])
		}
	})
	// 9 reads, 16 domain commands, and the rest: far fewer means the walk
	// no longer sees the tree.
	if len(paths) < 50 {
		t.Fatalf("walked only %d commands", len(paths))
	}
	return paths
}

// TestHelpConformance runs every command with --help, as a user would, and
// holds its help to the conventions: exit 0 (no error), the help on stdout
// and nothing on stderr, a usage line that names the positional arguments
// a command needs, every flag described by more than its type, and --json
// on every command that prints a result.
func TestHelpConformance(t *testing.T) {
	for _, path := range commandPaths(t) {
		name := strings.Join(append([]string{"kpitrail"}, path...), " ")
		t.Run(name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			m := NewMain(&out, &errOut, func(string) string { return "" })
			if err := m.Run(context.Background(), append(slices.Clone(path), "--help")); err != nil {
				t.Fatalf("--help failed: %v", err)
			}
			if errOut.Len() > 0 {
				t.Fatalf("--help wrote to stderr:\n%s", errOut.String())
			}
			help := out.String()
			usage := usageLine(help)
			if usage == "" {
				t.Fatalf("no usage line in:\n%s", help)
			}
			c := findCommand(t, path)
			if c.Runnable() && c.Args != nil && c.Args(c, nil) != nil && !strings.Contains(usage, "<") {
				t.Errorf("%s needs positional arguments, but its usage line does not name them: %q", name, usage)
			}
			c.Flags().VisitAll(func(f *pflag.Flag) {
				if d := strings.TrimSpace(f.Usage); d == "" || d == f.Value.Type() {
					t.Errorf("--%s is described only by %q", f.Name, d)
				}
				if !strings.Contains(help, "--"+f.Name) && !f.Hidden {
					t.Errorf("--%s is missing from the help", f.Name)
				}
			})
			if c.Runnable() && !slices.Contains(noJSON, name) && !strings.HasPrefix(name, "kpitrail completion") && c.Flags().Lookup("json") == nil {
				t.Errorf("%s prints a result but has no --json", name)
			}
		})
	}
}

// usageLine is the first line under "Usage:".
func usageLine(help string) string {
	_, after, ok := strings.Cut(help, "Usage:\n")
	if !ok {
		return ""
	}
	line, _, _ := strings.Cut(after, "\n")
	return strings.TrimSpace(line)
}

func findCommand(t *testing.T, path []string) *cobra.Command {
	t.Helper()
	root := NewMain(io.Discard, io.Discard, func(string) string { return "" }).rootCommand()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	c, _, err := root.Find(path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A read in the registry that needs an argument names it in its usage
// line: a new read that takes an id without declaring it fails here.
func TestReadsNameTheirArguments(t *testing.T) {
	m := NewMain(io.Discard, io.Discard, func(string) string { return "" })
	for name, rc := range readCommands() {
		fs := flag.NewFlagSet(name, flag.ContinueOnError)
		build := rc.flags(fs)
		_, err := build(nil)
		use := m.readCommand(name, rc).Use
		if needs := err != nil; needs != strings.Contains(use, "<") {
			t.Errorf("%s: without arguments the path builder says %v, and the usage line is %q", name, err, use)
		}
	}
}

// Help is also `kpitrail help <command>`, and a mistake on the command
// line is a usage error (exit 2) that points at the help.
func TestHelpAndUsageErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	m := NewMain(&out, &errOut, func(string) string { return "" })
	if err := m.Run(context.Background(), []string{"help", "import"}); err != nil || !strings.Contains(out.String(), "kpitrail import <file>") {
		t.Fatalf("help import: %v\n%s", err, out.String())
	}
	for _, args := range [][]string{{"import"}, {"audit-trail", "a", "b"}, {"tasks", "--no-such-flag"}, {"indicator.report_figure", "--window.year", "x"}} {
		err := m.Run(context.Background(), args)
		var u *UsageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), "--help") {
			t.Errorf("%v: want a usage error pointing at --help, got %v", args, err)
		}
		if code := exitCode(err, devNull(t)); code != 2 {
			t.Errorf("%v: exit code %d, want 2", args, code)
		}
	}
	if err := m.Run(context.Background(), []string{"indicator.report_figur"}); err == nil || exitCode(err, devNull(t)) != 2 ||
		!strings.Contains(err.Error(), "did you mean indicator.report_figure") {
		t.Errorf("a mistyped command: %v", err)
	}
}

func devNull(t *testing.T) *os.File {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// Shell completion is generated from the same tree: the scripts for each
// shell, and the values of an enum field offered for its flag.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		var out bytes.Buffer
		m := NewMain(&out, io.Discard, func(string) string { return "" })
		if err := m.Run(context.Background(), []string{"completion", shell}); err != nil || !strings.Contains(out.String(), "kpitrail") {
			t.Fatalf("completion %s: %v\n%.300s", shell, err, out.String())
		}
	}
	var out bytes.Buffer
	m := NewMain(&out, io.Discard, func(string) string { return "" })
	if err := m.Run(context.Background(), []string{"__complete", "indicator.report_figure", "--quality", ""}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"estimate", "provisional", "final"} {
		if !strings.Contains(out.String(), want+"\n") {
			t.Errorf("completing --quality does not offer %s:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := m.Run(context.Background(), []string{"__complete", "indicator.re"}); err != nil ||
		!strings.Contains(out.String(), "indicator.report_figure") || strings.Contains(out.String(), "task.register") {
		t.Errorf("completing a command name: %v\n%s", err, out.String())
	}
}
