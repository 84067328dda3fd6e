package eventstore

import (
	"testing"

	"kpitrail/domain"
)

// TestCacheLacksOnlyWhatItKnows: the write model's command index may rule
// a command out only for a state it reaches at least as far as; a state
// it is behind (dropped, then refilled from an older read) or does not
// hold must still be searched.
func TestCacheLacksOnlyWhatItKnows(t *testing.T) {
	ref := domain.AggregateRef{Type: domain.AggregateTask, ID: "t"}
	env := func(v uint64, cmd string) domain.Envelope {
		return domain.Envelope{AggregateType: ref.Type, AggregateID: ref.ID, AggregateVersion: v, CommandID: cmd, Position: v}
	}
	c := newAggCache(10)
	if c.lacks(ref, "c1", 0) {
		t.Fatal("an aggregate not cached was said to lack a command")
	}
	c.put(ref, &aggState{events: []domain.Envelope{env(1, "c1")}, lastSeq: 1})
	c.extend(ref, placement{}, 1, 2, []domain.Envelope{env(2, "c2")})
	for _, tc := range []struct {
		cmd  string
		seq  uint64
		want bool
	}{
		{"c1", 1, false}, // held
		{"c2", 2, false}, // held, added by the extension
		{"c3", 2, true},  // a new command, the cache as far as the state
		{"c3", 1, true},  // the cache further than the state
		{"c3", 3, false}, // the state further than the cache: not known
	} {
		if got := c.lacks(ref, tc.cmd, tc.seq); got != tc.want {
			t.Errorf("lacks(%s, %d) = %v, want %v", tc.cmd, tc.seq, got, tc.want)
		}
	}
	c.forget(ref)
	if c.lacks(ref, "c3", 1) {
		t.Fatal("a forgotten aggregate was said to lack a command")
	}
}
