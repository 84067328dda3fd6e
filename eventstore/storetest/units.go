package storetest

import (
	"fmt"
	"strings"
	"testing"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// unitToken is the unit token of a stored subject in the unit layout,
// <prefix>.<unit>.<type>.<id>, whatever the store's prefix.
func unitToken(t *testing.T, subject string) string {
	t.Helper()
	parts := strings.Split(subject, ".")
	if len(parts) < 4 {
		t.Fatalf("subject %q has no unit token", subject)
	}
	return parts[len(parts)-3]
}

func inUnit(title, unit string) domain.Event {
	return &domain.TaskRegistered{Year: 2022, Dimension: "高效率 落实", Title: title, LeadDepartment: "区发改委", UnitID: unit}
}

// testSubjectsCarryUnit: a task's and an indicator's messages are on
// their unit's subjects (the default unit when the first event names
// none), deployment-wide aggregates on "_", and one unit's subjects hold
// exactly that unit's history.
func testSubjectsCarryUnit(t *testing.T, s eventstore.Store) {
	mustAppend(t, s, task("a"), 0, "a1", inUnit("甲区任务", "d1"))
	mustAppend(t, s, task("b"), 0, "b1", inUnit("乙区任务", "d2"))
	mustAppend(t, s, task("c"), 0, "c1", registered("默认单位任务"))
	mustAppend(t, s, task("a"), 1, "a2", narrative("甲区进展"))
	mustAppend(t, s, task("b"), 1, "b2", narrative("乙区进展"))
	ind := domain.AggregateRef{Type: domain.AggregateIndicator, ID: "i1"}
	mustAppend(t, s, ind, 0, "i1", &domain.IndicatorDefined{TaskID: "b", Key: "k", Name: "乙区指标", Unit: "%",
		Direction: domain.HigherIsBetter, UnitID: "d2"})
	mustAppend(t, s, task("c"), 1, "c2", narrative("默认单位进展"))
	unit := domain.UnitRef("d1")
	mustAppend(t, s, unit, 0, "u1", &domain.UnitRegistered{Name: "甲区", Level: domain.UnitLevelDistrict})

	want := map[domain.AggregateRef]string{task("a"): "d1", task("b"): "d2", ind: "d2", task("c"): domain.DefaultUnitID,
		unit: eventstore.DeploymentUnit}
	byUnit := map[string][]domain.AggregateRef{}
	positions := map[string][]uint64{}
	for _, m := range readAll(t, s, 0) {
		ref := m.Events[0].Ref()
		got := unitToken(t, m.Subject)
		if got != want[ref] {
			t.Fatalf("message %d of %s on %s: unit token %q, want %q", m.Position, ref, m.Subject, got, want[ref])
		}
		byUnit[got] = append(byUnit[got], ref)
		positions[got] = append(positions[got], m.Position)
	}
	// A read of one unit gives exactly its messages, at their positions,
	// and ends (it does not wait for a message of that unit to come).
	for _, unit := range []string{"d1", "d2", domain.DefaultUnitID, eventstore.DeploymentUnit, "d9"} {
		var got []uint64
		if err := s.Read(ctxT(t), 0, eventstore.ReadOptions{Unit: unit}, func(m eventstore.Message) error {
			if m.Err != nil || m.Foreign != nil {
				t.Fatalf("unit %s, message %d: %v / %v", unit, m.Position, m.Err, m.Foreign)
			}
			got = append(got, m.Position)
			return nil
		}); err != nil {
			t.Fatalf("read unit %s: %v", unit, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(positions[unit]) {
			t.Fatalf("read of unit %s: positions %v, want %v", unit, got, positions[unit])
		}
	}
	var after []uint64
	if err := s.Read(ctxT(t), positions["d1"][0], eventstore.ReadOptions{Unit: "d1", Limit: 1}, func(m eventstore.Message) error {
		after = append(after, m.Position)
		return nil
	}); err != nil || len(after) != 1 || after[0] != positions["d1"][1] {
		t.Fatalf("read of unit d1 after its first message, one message: %v, %v", after, err)
	}
	if got := byUnit["d1"]; len(got) != 2 || got[0] != task("a") || got[1] != task("a") {
		t.Fatalf("unit d1's subjects hold %v, want task a's two messages only", got)
	}
	if got := byUnit["d2"]; len(got) != 3 || got[2] != ind {
		t.Fatalf("unit d2's subjects hold %v, want task b's two messages and the indicator's", got)
	}
}

// testSameIDInTwoUnitsConflicts: an id lives in one unit; starting it
// again in another is the conflict any second creation is, and stores
// nothing.
func testSameIDInTwoUnitsConflicts(t *testing.T, s eventstore.Store) {
	mustAppend(t, s, task("t"), 0, "first", inUnit("甲区任务", "d1"))
	_, err := s.Append(ctxT(t), task("t"), 0, meta("second"), pending(t, inUnit("乙区任务", "d2"))...)
	if domain.ErrorCode(err) != domain.ECONFLICT {
		t.Fatalf("creating t again in another unit: %v, want a conflict", err)
	}
	msgs := readAll(t, s, 0)
	if len(msgs) != 1 || unitToken(t, msgs[0].Subject) != "d1" {
		t.Fatalf("the log holds %d messages, want the first unit's one", len(msgs))
	}
	envs := mustAppend(t, s, task("t"), 1, "third", narrative("仍在甲区"))
	if got := readAll(t, s, 1); len(got) != 1 || got[0].Position != envs[0].Position || unitToken(t, got[0].Subject) != "d1" {
		t.Fatalf("a later append to t: %+v, want it on unit d1's subject", got)
	}
}

// testReservedUnitRefused: a task cannot be placed in the deployment's
// token, and the refusal appends nothing.
func testReservedUnitRefused(t *testing.T, s eventstore.Store) {
	_, err := s.Append(ctxT(t), task("r"), 0, meta("r1"), pending(t, inUnit("任务", eventstore.DeploymentUnit))...)
	if domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("a task in unit %q: %v, want invalid", eventstore.DeploymentUnit, err)
	}
	if msgs := readAll(t, s, 0); len(msgs) != 0 {
		t.Fatalf("the refused append stored %d messages", len(msgs))
	}
}
