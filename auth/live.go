package auth

import "context"

// LiveCounts counts the stored tokens that authenticate now (neither
// revoked nor expired), all of them and the admin ones. The bootstrap
// token lives in the environment and is not counted. serve asks before it
// starts: with none live and no bootstrap token, nobody could use it.
func (t *Tokens) LiveCounts(ctx context.Context) (live, admins int, err error) {
	rows, err := t.store.tokens(ctx)
	if err != nil {
		return 0, 0, err
	}
	now := t.cfg.Now()
	for _, r := range rows {
		if !r.revoked() && now.Before(r.ExpiresAt) {
			live++
			if r.Role == RoleAdmin {
				admins++
			}
		}
	}
	return live, admins, nil
}
