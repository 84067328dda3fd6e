package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"kpitrail/domain"
	"kpitrail/export"
	"kpitrail/httpapi"
	"kpitrail/jobs"
	"kpitrail/projections"
)

// exports runs analysts' exports against the live read models and the log,
// within a disk and concurrency budget (exports_budget.go). Exports as of a
// position replay the log into a temporary file, a full rebuild each: one
// of those runs at a time.
type exports struct {
	dir     string
	live    *projections.Live
	log     export.Log
	slots   chan struct{}
	limits  ExportLimits
	running chan struct{}
	sweepMu sync.Mutex
	now     func() time.Time
}

var _ httpapi.Exports = (*exports)(nil)

func newExports(dir string, live *projections.Live, log export.Log, limits ExportLimits) *exports {
	limits.setDefaults()
	e := &exports{dir: dir, live: live, log: log, slots: make(chan struct{}, 1), limits: limits,
		running: make(chan struct{}, limits.Concurrent), now: time.Now}
	e.cleanStale()
	e.sweep(limits.MaxBytes, "")
	return e
}

func (e *exports) acquire(ctx context.Context) (func(), error) {
	select {
	case e.slots <- struct{}{}:
		return func() { <-e.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (e *exports) ContentType(format string) string { return export.ContentType(format) }

func (e *exports) Stream(ctx context.Context, w io.Writer, table, format string, position uint64) error {
	done, err := e.begin()
	if err != nil {
		return err
	}
	defer done()
	if table == export.StoredEvents {
		_, err := export.WriteStoredEvents(ctx, w, e.log, position, format)
		return err
	}
	if position == 0 {
		return e.live.With(ctx, nil, func(db *projections.DB) error {
			_, err := export.WriteTable(ctx, w, db, e.log, table, format)
			return err
		})
	}
	release, err := e.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	// The replay is the only part on disk.
	return e.budgeted(ctx, "", func(ctx context.Context) error {
		asOf, err := export.OpenAsOf(ctx, e.log, position, e.dir)
		if err != nil {
			return err
		}
		defer asOf.Close()
		_, err = export.WriteTable(ctx, w, asOf.DB, e.log, table, format)
		return err
	})
}

// List answers GET /v1/exports: the finished exports, after the sweep, so
// an export removed for its age is gone from the list as from the disk.
func (e *exports) List(ctx context.Context) (any, error) {
	used := e.sweep(e.limits.MaxBytes, "")
	list := e.finished()
	if list == nil {
		list = []exportInfo{}
	}
	return map[string]any{"exports": list, "budget": map[string]any{"max_bytes": e.limits.MaxBytes, "used_bytes": used,
		"max_age_seconds": int64(e.limits.MaxAge / time.Second), "concurrent": e.limits.Concurrent}}, nil
}

func (e *exports) Create(ctx context.Context, req httpapi.ExportRequest) (string, any, error) {
	done, err := e.begin()
	if err != nil {
		return "", nil, err
	}
	defer done()
	id := newExportID()
	var m *export.Manifest
	err = e.budgeted(ctx, id, func(ctx context.Context) error {
		var err error
		m, err = e.create(ctx, id, req)
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return id, m, nil
}

func newExportID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "x-" + hex.EncodeToString(b)
}

func (e *exports) create(ctx context.Context, id string, req httpapi.ExportRequest) (*export.Manifest, error) {
	if err := os.MkdirAll(e.dir, 0o750); err != nil {
		return nil, err
	}
	opts := export.Options{Dir: filepath.Join(e.dir, id), Log: e.log, Formats: req.Formats, Tables: req.Tables,
		Position: req.Position, CSVBOM: req.CSVBOM, TempDir: e.dir,
		Progress: func(done, total int64) { jobs.Report(ctx, done, total, "rows") }}
	var m *export.Manifest
	var err error
	if req.Position > 0 {
		release, aerr := e.acquire(ctx)
		if aerr != nil {
			return nil, aerr
		}
		defer release()
		m, err = export.Run(ctx, opts)
	} else {
		err = e.live.With(ctx, nil, func(db *projections.DB) error {
			opts.DB = db
			var rerr error
			m, rerr = export.Run(ctx, opts)
			return rerr
		})
	}
	return m, err
}

var exportIDPattern = regexp.MustCompile(`^x-[0-9a-f]{16}$`)
var exportFilePattern = regexp.MustCompile(`^[a-z_]+\.(csv|jsonl|parquet|json|sql|db)$`)

func (e *exports) File(id, name string) (string, error) {
	e.sweep(e.limits.MaxBytes, "")
	if !exportIDPattern.MatchString(id) || !exportFilePattern.MatchString(name) {
		return "", domain.NotFound("export file %s/%s", id, name)
	}
	path := filepath.Join(e.dir, id, name)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return "", domain.NotFound("export file %s/%s", id, name)
	}
	return path, nil
}
