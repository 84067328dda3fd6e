package docstest

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

// reportedTime is the record time on the audit trail's `reported` line:
// the instant the README has the reader copy.
func reportedTime(last string) (string, error) {
	for _, l := range strings.Split(last, "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[1] == "reported" {
			return f[0], nil
		}
	}
	return "", fmt.Errorf("no reported line in %q", last)
}

var eventIDRe = regexp.MustCompile(`"event_id": "([0-9a-f-]{36})"`)

// eventIDAbove is the first event id the previous command printed (the
// figure `kpitrail figures` lists first).
func eventIDAbove(last string) (string, error) {
	m := eventIDRe.FindStringSubmatch(last)
	if m == nil {
		return "", fmt.Errorf("no event_id in %q", last)
	}
	return m[1], nil
}

// TestReadmeQuickStart runs the README's quick start as printed, against a
// real serve --demo: every command must succeed, print something, and
// print what the README shows. Then docs/readmodels.md's starting queries
// run on the read models it built, and each must find rows.
func TestReadmeQuickStart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds kpitrail and drives a server")
	}
	md, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	steps := consoleSteps(t, string(md), "## Quick start")
	s := newSession(t, "README.md", map[string]resolver{
		"<the token printed above>":       tokenAbove,
		"<the time on its reported line>": reportedTime,
		"<the event_id printed above>":    eventIDAbove,
	})
	s.run(steps)
	if t.Failed() {
		return
	}
	// The time-travel example must show a real before and after.
	for _, want := range []string{"--as-of <the time on its reported line>", "indicator.report_figure", "serve --demo"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("the quick start no longer has %q", want)
		}
	}
	if s.commands < 10 {
		t.Fatalf("only %d commands ran from the README", s.commands)
	}
	readModelQueries(t, filepath.Join(s.dir, "kpitrail-data", "readmodels.db"))
}

// readModelQueries runs every statement of docs/readmodels.md's "Queries
// to start from" on a demo's read models.
func readModelQueries(t *testing.T, path string) {
	t.Helper()
	md, err := os.ReadFile("../docs/readmodels.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(md), "## Queries to start from\n\n```sql\n")
	if !ok {
		t.Fatal("docs/readmodels.md has no SQL block under Queries to start from")
	}
	block, _, _ = strings.Cut(block, "```")
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	for _, q := range strings.Split(block, ";") {
		var lines []string
		for _, l := range strings.Split(q, "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "--") {
				lines = append(lines, l)
			}
		}
		if len(lines) == 0 {
			continue
		}
		stmt := strings.Join(lines, " ")
		n++
		rows, err := db.Query(stmt)
		if err != nil {
			t.Errorf("docs/readmodels.md: %s: %v", stmt, err)
			continue
		}
		found := rows.Next()
		rows.Close()
		if !found {
			t.Errorf("docs/readmodels.md: %s: no rows on the demo", stmt)
		}
	}
	if n < 4 {
		t.Fatalf("docs/readmodels.md: only %d queries read", n)
	}
}
