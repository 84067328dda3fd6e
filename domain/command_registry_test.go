package domain

import "testing"

// Every registered name must be the name the command reports, or intake
// subjects and audit logs would disagree.
func TestCommandRegistryNamesMatch(t *testing.T) {
	for _, name := range CommandNames() {
		c, _ := NewCommand(name)
		if got := c.CommandName(); got != name {
			t.Errorf("registered as %q, reports %q", name, got)
		}
	}
	if _, ok := NewCommand("task.explode"); ok {
		t.Error("unknown command name resolved")
	}
}
