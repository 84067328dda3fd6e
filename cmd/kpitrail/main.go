// Command kpitrail tracks performance-assessment tasks and indicators as
// events. main only wires signals to Main; everything else is testable.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"kpitrail/bench"
)

func main() {
	if bench.IsChild() {
		// `kpitrail bench` measures a rebuild in a process of its own.
		os.Exit(bench.RunChild())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain(os.Stdout, os.Stderr, os.Getenv)
	err := m.Run(ctx, os.Args[1:])
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode prints err and says how to exit: 0 on success, 2 for a command
// line the command cannot run (as Go's flag package), 130 for a client
// that Ctrl-C detached from a job it was following (as a shell reports
// SIGINT; what to do next is printed already), 1 otherwise.
func exitCode(err error, stderr *os.File) int {
	var usage *UsageError
	var detached *DetachedError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &detached):
		return 130
	case errors.As(err, &usage):
		fmt.Fprintln(stderr, "kpitrail:", err)
		return 2
	}
	fmt.Fprintln(stderr, "kpitrail:", err)
	return 1
}
