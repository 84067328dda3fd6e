package projections

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"
)

// TestMigratedV6EqualsRebuiltV7: testdata/pinned_v6.sql is the file that
// schema version 6's projector built from pinnedLog (sqlite3 .dump). Opened
// by this build it is migrated to the current schema, and it must then
// hold exactly what a rebuild of the same log holds: same content hash,
// same schema.
func TestMigratedV6EqualsRebuiltV7(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("testdata", "pinned_v6.sql"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	old := filepath.Join(dir, "v6.db")
	raw, err := sql.Open("sqlite3", old)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(string(script)); err != nil {
		t.Fatal(err)
	}
	var version int
	if err := raw.QueryRow(`SELECT MAX(version) FROM schema_migrations`).Scan(&version); err != nil || version != 6 {
		t.Fatalf("the fixture is at schema version %d (%v), want 6", version, err)
	}
	raw.Close()

	migrated := openDB(t, old)
	rebuilt := filepath.Join(dir, "v7.db")
	if err := Rebuild(ctxT(t), pinnedLog(t), rebuilt, RebuildOptions{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	fresh := openDB(t, rebuilt)
	sameContent(t, fresh, migrated)
	want, err := ContentHash(ctxT(t), fresh)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ContentHash(ctxT(t), migrated)
	if err != nil {
		t.Fatal(err)
	}
	if got != want || want != pinnedContentHash {
		t.Errorf("migrated %s, rebuilt %s, pinned %s", got, want, pinnedContentHash)
	}
	const q = `SELECT group_concat(type || ' ' || name || ': ' || COALESCE(sql, ''), char(10))
		FROM (SELECT * FROM sqlite_master ORDER BY type, name)`
	if a, b := queryString(t, migrated, q), queryString(t, fresh, q); a != b {
		t.Errorf("migrated schema:\n%s\nrebuilt schema:\n%s", a, b)
	}
}
