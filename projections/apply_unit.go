package projections

import (
	"strings"

	"kpitrail/domain"
)

// unitPathText is a unit path as the units table stores it: '/a/b/c/', so
// that a subtree is every path with its unit's path as a prefix.
func unitPathText(p domain.UnitPath) string { return "/" + strings.Join(p, "/") + "/" }

// parseUnitPath reads a stored path back.
func parseUnitPath(s string) domain.UnitPath {
	s = strings.Trim(s, "/")
	if s == "" {
		return nil
	}
	return strings.Split(s, "/")
}

func (p *projector) applyUnit(b *batchTx, r domain.Recorded) error {
	e, ok := r.Data.(*domain.UnitRegistered)
	if !ok {
		return broken("no read model handles %s", r.Name)
	}
	var registered int
	err := b.queryRow(`SELECT registered FROM units WHERE id = ?`, r.AggregateID).Scan(&registered)
	if err == nil && registered == 1 {
		return broken("unit %s is already registered", r.AggregateID)
	}
	path := append(domain.UnitPath(append([]string(nil), e.Ancestors...)), r.AggregateID)
	var parent any
	if e.Parent != "" {
		parent = e.Parent
	}
	// The default unit may have been written already, unregistered, by
	// the first task that named it: registering it places it.
	return b.exec(`INSERT INTO units (id, name, level, parent_id, path, depth, registered, event_id, last_position)
		VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, level = excluded.level, parent_id = excluded.parent_id,
			path = excluded.path, depth = excluded.depth, registered = 1, event_id = excluded.event_id,
			last_position = excluded.last_position`,
		r.AggregateID, e.Name, e.Level, parent, unitPathText(path), len(path), r.ID, r.Position)
}

// noteDefaultUnit writes the default unit's row the first time a task
// belongs to it without it being registered: it is a root until it is.
func noteDefaultUnit(b *batchTx, unit string) error {
	if unit != domain.DefaultUnitID {
		return nil
	}
	return b.exec(`INSERT OR IGNORE INTO units (id, name, level, parent_id, path, depth, registered, event_id, last_position)
		VALUES (?, ?, ?, NULL, ?, 1, 0, NULL, 0)`, domain.DefaultUnitID, domain.DefaultUnitName, domain.UnitLevelDistrict,
		unitPathText(domain.UnitPath{domain.DefaultUnitID}))
}
