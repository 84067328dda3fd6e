-- The token an actor authenticated with (envelope field actor_token_id),
-- schema version 3. Events stored before token ids have none: NULL.

ALTER TABLE events_log ADD COLUMN actor_token_id TEXT;
ALTER TABLE figure_changes ADD COLUMN actor_token_id TEXT;
