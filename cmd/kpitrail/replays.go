package main

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"kpitrail/domain"
	"kpitrail/export"
	"kpitrail/httpapi"
	"kpitrail/jobs"
	"kpitrail/projections"
)

// replayFile is the name of a replay's read-model file in its export
// directory.
const replayFile = "readmodels.db"

// Replay writes the read models as of a position or an instant into an
// export directory of its own (x-…/readmodels.db with a manifest), within
// the exports' disk and concurrency budget and one replay at a time, like
// an export as of a position.
func (e *exports) Replay(ctx context.Context, req httpapi.ReplayRequest) (string, any, error) {
	done, err := e.begin()
	if err != nil {
		return "", nil, err
	}
	defer done()
	release, err := e.acquire(ctx)
	if err != nil {
		return "", nil, err
	}
	defer release()
	id := newExportID()
	var m *export.Manifest
	err = e.budgeted(ctx, id, func(ctx context.Context) error {
		if err := os.MkdirAll(e.dir, 0o750); err != nil {
			return err
		}
		stage, err := os.MkdirTemp(e.dir, ".replay-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(stage)
		last, err := e.log.LastPosition(ctx)
		if err != nil {
			return err
		}
		total := last
		if req.Position > 0 && req.Position < last {
			total = req.Position
		}
		opts := projections.RebuildOptions{Progress: func(pos uint64) { jobs.Report(ctx, int64(pos), int64(total), "events") }}
		out := filepath.Join(stage, replayFile)
		if req.Position > 0 {
			if req.Position > last {
				return domain.Invalid("position", "range", "the log ends at position %d", last)
			}
			err = projections.ReplayToPositionWith(ctx, e.log, req.Position, out, opts)
		} else {
			t, _ := time.Parse(time.RFC3339Nano, req.AsOf)
			err = projections.ReplayAsOfFromWith(ctx, e.log, t, out, nil, opts)
		}
		if err != nil {
			if ctx.Err() != nil {
				return jobs.CancelledError("replay cancelled; nothing was kept", nil)
			}
			return err
		}
		if m, err = export.WriteFileManifest(stage, replayFile, "readmodels", "sqlite", total); err != nil {
			return err
		}
		return os.Rename(stage, filepath.Join(e.dir, id))
	})
	if err != nil {
		return "", nil, err
	}
	return id, m, nil
}
