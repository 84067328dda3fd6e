-- Assessed units, schema version 6: the hierarchy of units (市 → 区/县 →
-- 部门) from unit.registered, and the unit every task belongs to. A task
-- registered without a unit (every task before units) belongs to the
-- default unit (domain.DefaultUnitID, 怀柔区, the seed's district); the
-- column's default says the same for a file migrated from version 5, and
-- the projector writes the default unit's row when a task first names it,
-- so a file migrated and a file rebuilt hold the same rows.
--
-- path is the unit's ancestry and the unit itself, '/beijing/huairou/':
-- a subtree is every path starting with its unit's path. A unit never
-- moves; the default unit's path changes once, if it is registered under
-- a parent (before that it is a root, and it has no children).

CREATE TABLE units (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    level         TEXT NOT NULL,
    parent_id     TEXT,
    path          TEXT NOT NULL,
    depth         INTEGER NOT NULL,
    registered    INTEGER NOT NULL,   -- 0 for the default unit while only tasks name it
    event_id      TEXT,
    last_position INTEGER NOT NULL    -- 0 until registered
) WITHOUT ROWID;
CREATE INDEX units_path ON units (path);

ALTER TABLE tasks ADD COLUMN unit_id TEXT NOT NULL DEFAULT 'huairou';
CREATE INDEX tasks_unit ON tasks (unit_id);

INSERT INTO units (id, name, level, parent_id, path, depth, registered, event_id, last_position)
SELECT 'huairou', '怀柔区', 'district', NULL, '/huairou/', 1, 0, NULL, 0 WHERE EXISTS (SELECT 1 FROM tasks);
