package domain

import (
	"errors"
	"testing"
)

func registeredUnit(t *testing.T, id string, e UnitRegistered) *AssessedUnit {
	t.Helper()
	u := NewAssessedUnit(id)
	u.Apply(Recorded{Envelope: Envelope{AggregateVersion: 1}, Data: &e})
	return u
}

// Given a city and a district, when units and tasks are registered, then a
// unit takes its parent's ancestry, an unregistered parent (the default
// unit too) is refused, a task lands only in a known unit, and a task
// without one is the default unit's.
func TestUnitsPlaceUnitsAndTasks(t *testing.T) {
	city := registeredUnit(t, "bj", UnitRegistered{Name: "北京市", Level: UnitLevelCity})
	evs, err := Decide(RegisterUnit{UnitID: "da", Name: "甲区", Level: UnitLevelDistrict, Parent: "bj"}, NewAssessedUnit("da"), []Aggregate{city})
	if err != nil {
		t.Fatal(err)
	}
	e := evs[0].(*UnitRegistered)
	district := registeredUnit(t, "da", *e)
	if p := district.Path(); len(p) != 2 || !p.Within("bj") || !p.Within("da") || p.Within("db") || p.Unit() != "da" {
		t.Fatalf("path %v", district.Path())
	}
	if _, err := Decide(RegisterUnit{UnitID: "x", Name: "某局", Level: UnitLevelDepartment, Parent: DefaultUnitID}, NewAssessedUnit("x"),
		[]Aggregate{NewAssessedUnit(DefaultUnitID)}); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("under the unregistered default unit: %v", err)
	}
	if _, err := Decide(RegisterUnit{UnitID: "da", Name: "甲区", Level: UnitLevelDistrict, Parent: "bj"}, district, []Aggregate{city}); ErrorCode(err) != ECONFLICT {
		t.Fatalf("registered twice: %v", err)
	}
	if _, err := Decide(RegisterUnit{UnitID: "y", Name: "某区", Level: "province"}, NewAssessedUnit("y"), nil); ErrorCode(err) != EINVALID {
		t.Fatalf("unknown level: %v", err)
	}
	var perr *Error
	if _, err := Decide(RegisterUnit{UnitID: ReservedUnitID, Name: "全局", Level: UnitLevelCity}, NewAssessedUnit(ReservedUnitID), nil); !errors.As(err, &perr) || perr.Field != "unit_id" || perr.Rule != "reserved" {
		t.Fatalf("the reserved unit id: %v", err)
	}
	reg := RegisterTask{TaskID: "t1", Year: 2022, Title: "安全生产", LeadDepartment: "区应急局", UnitID: "zz"}
	if _, err := Decide(reg, NewTask("t1"), []Aggregate{NewAssessedUnit("zz")}); ErrorCode(err) != ENOTFOUND {
		t.Fatalf("a task in an unknown unit: %v", err)
	}
	reg.UnitID = "da"
	evs, err = Decide(reg, NewTask("t1"), []Aggregate{district})
	if err != nil || evs[0].(*TaskRegistered).Unit() != "da" {
		t.Fatalf("a task in da: %v %v", evs, err)
	}
	reg.UnitID = ""
	evs, err = Decide(reg, NewTask("t1"), nil)
	if err != nil || evs[0].(*TaskRegistered).UnitID != "" || evs[0].(*TaskRegistered).Unit() != DefaultUnitID {
		t.Fatalf("a task without a unit: %v %v", evs, err)
	}
	if !NewAssessedUnit(DefaultUnitID).Known() || NewAssessedUnit("zz").Known() {
		t.Fatal("the default unit is known unregistered; no other unit is")
	}
}
