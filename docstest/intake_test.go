package docstest

import (
	"os"
	"strings"
	"testing"
)

// TestIntakeExamples runs docs/intake.md as printed: a serve that listens
// for NATS with a department identity, the office's set-up over the CLI,
// then the department's requests through the real nats CLI with its nkey
// and inbox prefix. Every reply must be what the page shows.
func TestIntakeExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds kpitrail and drives a server and the nats CLI")
	}
	md, err := os.ReadFile("../docs/intake.md")
	if err != nil {
		t.Fatal(err)
	}
	// What the page must show a department: each header on both
	// transports' names, each kind of answer.
	var requests []string
	for _, st := range consoleSteps(t, string(md), "") {
		if strings.HasPrefix(st.cmd, "nats req") {
			requests = append(requests, st.cmd+"\n"+strings.Join(st.want, "\n"))
		}
	}
	all := strings.Join(requests, "\n")
	for _, want := range []string{"--inbox-prefix _INBOX.kewei", "Authorization:Bearer", "Idempotency-Key:", "If-Match:",
		"Kpitrail-Status: 200", "Kpitrail-Status: 409", "Kpitrail-Status: 400", "Kpitrail-Status: 401", `"created":{"problem_id"`} {
		if !strings.Contains(all, want) {
			t.Errorf("docs/intake.md has no nats req example with %q", want)
		}
	}
	s := newSession(t, "docs/intake.md", map[string]resolver{"<the token printed above>": tokenAbove})
	s.run(consoleSteps(t, string(md), ""))
	if !t.Failed() && s.commands < 10 {
		t.Fatalf("only %d commands ran from docs/intake.md", s.commands)
	}
}
