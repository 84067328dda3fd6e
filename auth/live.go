package auth

import (
	"context"
	"fmt"
)

// LiveCounts counts the stored tokens that authenticate now (neither
// revoked nor expired), all of them and the admin ones. The bootstrap
// token lives in the environment and is not counted. serve asks before it
// starts: with none live and no bootstrap token, nobody could use it.
func (t *Tokens) LiveCounts(ctx context.Context) (live, admins int, err error) {
	rows, err := t.db.QueryContext(ctx, `SELECT id, role, expires_at FROM tokens WHERE revoked_at IS NULL`)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	now := t.cfg.Now()
	for rows.Next() {
		var id, role, expires string
		if err := rows.Scan(&id, &role, &expires); err != nil {
			return 0, 0, err
		}
		exp, err := parseTime(expires)
		if err != nil {
			return 0, 0, fmt.Errorf("token %s: expires_at: %w", id, err)
		}
		if now.Before(exp) {
			live++
			if Role(role) == RoleAdmin {
				admins++
			}
		}
	}
	return live, admins, rows.Err()
}
