-- The token behind each freeze and reopen of a year, schema version 5, as
-- figure_changes keeps it (0003) for the audit trail that joins the two.
-- Its own migration, after 0004, so that a file whose frozen years came in
-- under the number 3 (see renumberedMigrations) gains it too.

ALTER TABLE year_changes ADD COLUMN actor_token_id TEXT;
