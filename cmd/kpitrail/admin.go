package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"kpitrail/app"
	"kpitrail/audit"
	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/httpapi"
	"kpitrail/jobs"
	"kpitrail/projections"
)

// admin carries out the operations behind /v1/admin: they span the event
// store, the read models and the command service, so they are wired here.
type admin struct {
	dataDir string
	sys     *System
	live    *projections.Live
}

var _ httpapi.Admin = (*admin)(nil)

func (a *admin) Rebuild(ctx context.Context) (httpapi.RebuildResult, error) {
	start := time.Now()
	last, err := a.sys.Store.LastPosition(ctx)
	if err != nil {
		return httpapi.RebuildResult{}, err
	}
	progress := func(pos uint64) { jobs.Report(ctx, int64(pos), int64(last), "events") }
	if err := a.live.Rebuild(ctx, projections.RebuildOptions{Progress: progress}); err != nil {
		if ctx.Err() != nil {
			// The live read models are untouched: a rebuild swaps its new
			// file in only once it is complete.
			return httpapi.RebuildResult{}, jobs.CancelledError("rebuild cancelled; the read models in use are unchanged", nil)
		}
		return httpapi.RebuildResult{}, domain.Internal(err, "rebuild")
	}
	var cp projections.Checkpoint
	err = a.live.With(ctx, nil, func(db *projections.DB) error {
		var err error
		cp, err = db.Checkpoint(ctx)
		return err
	})
	return httpapi.RebuildResult{Position: cp.Position, Seconds: time.Since(start).Seconds()}, err
}

// Snapshot freezes the read models at the log's current end: a replay of
// positions 1..P into its own file, its content hash, and the checkpoint
// root at P, recorded as a snapshot.recorded event.
func (a *admin) Snapshot(ctx context.Context, year int, note string) (httpapi.SnapshotResult, error) {
	p, _ := auth.FromContext(ctx)
	// Checked before the replay, which is the expensive part.
	if year < 1990 || year > 2200 {
		return httpapi.SnapshotResult{}, domain.Invalid("year", "range", "must be between 1990 and 2200, got %d", year)
	}
	if err := domain.CheckText("note", note, false, domain.MaxLongText); err != nil {
		return httpapi.SnapshotResult{}, err
	}
	pos, err := a.sys.Store.LastPosition(ctx)
	if err != nil {
		return httpapi.SnapshotResult{}, err
	}
	if pos == 0 {
		return httpapi.SnapshotResult{}, domain.RuleViolation("position", "empty_log", "there is nothing to snapshot yet")
	}
	// A snapshot freezes its year, and the freeze comes first: nothing can
	// change the year between the two, and the frozen read models show it
	// frozen. A year frozen already (a second snapshot) stays as it is.
	freeze := domain.Meta{Actor: p.Actor(), ActorTokenID: p.TokenID, CommandID: fmt.Sprintf("freeze-%d-%d", year, pos), Source: "api"}
	if _, err := a.sys.Service.Execute(ctx, freeze, domain.FreezeYear{Year: year, Note: note}, app.Options{}); err != nil {
		if e, ok := domain.AsError(err); !ok || e.Rule != "already_frozen" {
			return httpapi.SnapshotResult{}, err
		}
	}
	if pos, err = a.sys.Store.LastPosition(ctx); err != nil {
		return httpapi.SnapshotResult{}, err
	}
	dir := filepath.Join(a.dataDir, "snapshots")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return httpapi.SnapshotResult{}, err
	}
	name := fmt.Sprintf("%d-%d.db", year, pos)
	file := filepath.Join(dir, name)
	if _, err := os.Stat(file); err != nil {
		if err := projections.ReplayToPosition(ctx, a.sys.Store, pos, file); err != nil {
			return httpapi.SnapshotResult{}, domain.Internal(err, "freeze read models")
		}
	}
	hash, err := fileHash(ctx, file)
	if err != nil {
		return httpapi.SnapshotResult{}, err
	}
	cp, err := audit.CheckpointAt(ctx, a.sys.Store, a.sys.Store.Keyring(), pos)
	if err != nil {
		return httpapi.SnapshotResult{}, err
	}
	meta := domain.Meta{Actor: p.Actor(), ActorTokenID: p.TokenID, CommandID: fmt.Sprintf("snapshot-%d-%d", year, pos), Source: "api"}
	res, err := a.sys.Service.Execute(ctx, meta, domain.RecordSnapshot{Year: year, Position: pos, ContentHash: hash,
		Root: cp.Root, Aggregates: cp.Aggregates, File: filepath.Join("snapshots", name), Note: note}, app.Options{})
	if err != nil {
		return httpapi.SnapshotResult{}, err
	}
	// The office lists its snapshot right after taking it.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_ = a.live.Wait(wctx, res.Position)
	return httpapi.SnapshotResult{Year: year, Position: pos, ContentHash: hash, Root: cp.Root, Aggregates: cp.Aggregates,
		File: filepath.Join("snapshots", name), EventID: res.EventIDs[0], EventPosition: res.Position}, nil
}

func fileHash(ctx context.Context, path string) (string, error) {
	db, err := projections.Open(path)
	if err != nil {
		return "", err
	}
	defer db.Close()
	return projections.ContentHash(ctx, db)
}
