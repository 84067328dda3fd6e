package domain

import (
	"fmt"
	"slices"
)

// AggregateUnit is one assessed unit (被考核单位): a city (市), a district or
// county (区/县) or a department (部门), placed in the hierarchy under its
// parent. Tasks belong to a unit, and an indicator to its task's unit.
const AggregateUnit = "unit"

// EvUnitRegistered places a unit in the hierarchy. A unit never moves: its
// ancestry is fixed when it is registered, so a task's place in the
// hierarchy, and every token's reach over it, never changes under it.
const EvUnitRegistered = "unit.registered"

// Unit levels, from the top.
const (
	UnitLevelCity       = "city"       // 市
	UnitLevelDistrict   = "district"   // 区/县
	UnitLevelDepartment = "department" // 部门
)

// DefaultUnitID is the unit of every task registered without one: the
// district whose self-check table is kpitrail's first data set (the seed,
// 怀柔区政府2022年度日常履职考核事项完成情况自查表). Logs written before
// units existed hold no unit at all; their tasks read as this unit's (a
// default on decode, never a rewrite of stored events). Until it is
// registered it is a root of the hierarchy; it may be registered once,
// under a parent, like any other unit.
const (
	DefaultUnitID   = "huairou"
	DefaultUnitName = "怀柔区"
)

// ReservedUnitID is no unit's id: the event log's subjects carry a unit
// token, and this one stands for what belongs to the whole deployment
// (years, units themselves, audits).
const ReservedUnitID = "_"

// UnitRegistered is unit.registered. Ancestors are the unit's ancestry
// from the root down to its parent (empty for a root).
type UnitRegistered struct {
	Name      string   `json:"name"`
	Level     string   `json:"level"`
	Parent    string   `json:"parent,omitempty"`
	Ancestors []string `json:"ancestors,omitempty"`
}

func (UnitRegistered) EventName() string { return EvUnitRegistered }

func init() {
	register(AggregateUnit, 1, func() Event { return &UnitRegistered{} }, nil)
}

// UnitRef is the aggregate reference of a unit.
func UnitRef(id string) AggregateRef { return AggregateRef{Type: AggregateUnit, ID: id} }

// UnitPath is a unit's ancestry from the root down to the unit itself.
type UnitPath []string

// Within reports whether the path lies in the subtree of unit: unit is the
// path's unit or one of its ancestors. This is the one rule that scopes
// tokens to a unit's subtree; the write side (auth.Permits) and the read
// side (auth.ReadScope, over the read models' unit paths) both ask it.
func (p UnitPath) Within(unit string) bool { return slices.Contains(p, unit) }

// Unit returns the path's own unit ("" for an empty path).
func (p UnitPath) Unit() string {
	if len(p) == 0 {
		return ""
	}
	return p[len(p)-1]
}

// AssessedUnit is a unit of the hierarchy.
type AssessedUnit struct {
	id         string
	version    uint64
	registered bool
	name       string
	level      string
	parent     string
	ancestors  []string
}

// NewAssessedUnit returns an empty unit ready to rehydrate.
func NewAssessedUnit(id string) *AssessedUnit { return &AssessedUnit{id: id} }

func (u *AssessedUnit) Ref() AggregateRef { return UnitRef(u.id) }
func (u *AssessedUnit) Version() uint64   { return u.version }
func (u *AssessedUnit) Registered() bool  { return u.registered }
func (u *AssessedUnit) Name() string      { return u.name }
func (u *AssessedUnit) Level() string     { return u.level }
func (u *AssessedUnit) Parent() string    { return u.parent }

// Known reports whether tasks may belong to the unit: it is registered, or
// it is the default unit, which exists without being registered.
func (u *AssessedUnit) Known() bool { return u.registered || u.id == DefaultUnitID }

// Path is the unit's ancestry and the unit itself. The default unit,
// unregistered, is a root.
func (u *AssessedUnit) Path() UnitPath {
	return append(slices.Clone(u.ancestors), u.id)
}

func (u *AssessedUnit) Apply(r Recorded) {
	u.version = r.AggregateVersion
	if e, ok := r.Data.(*UnitRegistered); ok {
		u.registered = true
		u.name, u.level, u.parent = e.Name, e.Level, e.Parent
		u.ancestors = slices.Clone(e.Ancestors)
	}
}

// RegisterUnit is unit.register.
type RegisterUnit struct {
	UnitID string `json:"unit_id"`
	Name   string `json:"name"`
	Level  string `json:"level"`
	Parent string `json:"parent,omitempty"`
}

func (c RegisterUnit) Target() AggregateRef { return UnitRef(c.UnitID) }
func (c RegisterUnit) Requires() []AggregateRef {
	if c.Parent != "" && ValidateID("parent", c.Parent) == nil {
		return []AggregateRef{UnitRef(c.Parent)}
	}
	return nil
}
func (c RegisterUnit) CommandName() string { return "unit.register" }
func (c RegisterUnit) decide(a Aggregate, deps []Aggregate) ([]Event, error) {
	var parent *AssessedUnit
	if len(deps) > 0 {
		parent = deps[0].(*AssessedUnit)
	}
	return a.(*AssessedUnit).Register(c, parent)
}

func (c RegisterUnit) validate() error {
	if c.UnitID == ReservedUnitID {
		return Invalid("unit_id", "reserved", "%q is reserved for what belongs to the whole deployment", ReservedUnitID)
	}
	if err := CheckText("name", c.Name, true, MaxShortText); err != nil {
		return err
	}
	switch c.Level {
	case UnitLevelCity, UnitLevelDistrict, UnitLevelDepartment:
	default:
		return Invalid("level", "enum", "must be one of city, district, department; got %q", c.Level)
	}
	if c.Parent != "" {
		if err := ValidateID("parent", c.Parent); err != nil {
			return err
		}
		if c.Parent == c.UnitID {
			return Invalid("parent", "not_self", "a unit is not its own parent")
		}
	}
	return nil
}

// maxUnitDepth bounds the hierarchy (市 → 区/县 → 部门 and a level to spare):
// every token check walks a path, and a path is stored in every unit.
const maxUnitDepth = 6

// Register decides unit.registered. The parent must be registered (the
// default unit too, before it can have children): a unit's ancestry is
// taken from its parent's once and never changes.
func (u *AssessedUnit) Register(c RegisterUnit, parent *AssessedUnit) ([]Event, error) {
	if u.registered {
		return nil, &Error{Code: ECONFLICT, Field: "unit_id", Rule: "exists", Version: u.version, Message: "unit " + u.id + " is already registered"}
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	var ancestors []string
	if parent != nil {
		if !parent.registered {
			return nil, NotFound("unit %s (parent) is not registered", c.Parent)
		}
		ancestors = parent.Path()
		if slices.Contains(ancestors, u.id) {
			return nil, RuleViolation("parent", "cycle", "unit %s is an ancestor of %s", u.id, c.Parent)
		}
		if len(ancestors) >= maxUnitDepth {
			return nil, RuleViolation("parent", "depth", "the hierarchy is at most %d levels deep", maxUnitDepth)
		}
	}
	return []Event{&UnitRegistered{Name: c.Name, Level: c.Level, Parent: c.Parent, Ancestors: ancestors}}, nil
}

// unitOf is a task's or indicator's unit as stored ("" before units) read
// as the unit it belongs to.
func unitOf(stored string) string {
	if stored == "" {
		return DefaultUnitID
	}
	return stored
}

// UnitOfTask is the unit a task.registered payload places its task in.
func (e TaskRegistered) Unit() string { return unitOf(e.UnitID) }

// checkTaskUnit is the rule that a task is registered into a unit that
// exists (the default unit always does).
func checkTaskUnit(c RegisterTask, unit *AssessedUnit) error {
	if c.UnitID == "" {
		return nil
	}
	if unit == nil || !unit.Known() {
		return NotFound("unit %s is not registered", c.UnitID)
	}
	return nil
}

func (u *AssessedUnit) String() string { return fmt.Sprintf("unit %s (%s)", u.id, u.name) }
