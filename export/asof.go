package export

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"kpitrail/domain"
	"kpitrail/projections"
)

// AsOf is a read-model file replayed from the log up to a position, for
// an export of the past. It is built from scratch (a full replay), so
// callers serving it over HTTP should limit how many run at once.
type AsOf struct {
	DB       *projections.DB
	Position uint64
	dir      string
}

// OpenAsOf replays log positions 1..position into a new file under
// tempDir ("" is the system's temporary directory). Close removes it.
// Deadline statuses in it are judged on today's date, as in any replay.
func OpenAsOf(ctx context.Context, log Log, position uint64, tempDir string) (*AsOf, error) {
	if position == 0 {
		return nil, domain.Invalid("position", "min", "an export as of a position needs a position of at least 1")
	}
	last, err := log.LastPosition(ctx)
	if err != nil {
		return nil, fmt.Errorf("export as of %d: %w", position, err)
	}
	if position > last {
		// The log may still grow up to it; exporting now would publish a
		// "past" that is not final.
		return nil, domain.Invalid("position", "max", "position %d is beyond the log's last position %d", position, last)
	}
	dir, err := os.MkdirTemp(tempDir, "kpitrail-asof-*")
	if err != nil {
		return nil, fmt.Errorf("export as of %d: %w", position, err)
	}
	path := filepath.Join(dir, "readmodels.db")
	if err := projections.ReplayToPosition(ctx, log, position, path); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("export as of %d: %w", position, err)
	}
	db, err := projections.Open(path)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("export as of %d: %w", position, err)
	}
	return &AsOf{DB: db, Position: position, dir: dir}, nil
}

// Close closes the replayed file and removes it.
func (a *AsOf) Close() error {
	return errors.Join(a.DB.Close(), os.RemoveAll(a.dir))
}
