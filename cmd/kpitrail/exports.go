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

	"kpitrail/domain"
	"kpitrail/export"
	"kpitrail/httpapi"
	"kpitrail/projections"
)

// exports runs analysts' exports against the live read models and the log.
// Exports as of a position replay the log into a temporary file, a full
// rebuild each: one runs at a time.
type exports struct {
	dir   string
	live  *projections.Live
	log   export.Log
	slots chan struct{}
}

var _ httpapi.Exports = (*exports)(nil)

func newExports(dir string, live *projections.Live, log export.Log) *exports {
	return &exports{dir: dir, live: live, log: log, slots: make(chan struct{}, 1)}
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
	if table == export.StoredEvents {
		_, err := export.WriteStoredEvents(ctx, w, e.log, position, format)
		return err
	}
	if position == 0 {
		return e.live.With(ctx, nil, func(db *projections.DB) error {
			_, err := export.WriteTable(ctx, w, db, table, format)
			return err
		})
	}
	release, err := e.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	asOf, err := export.OpenAsOf(ctx, e.log, position, e.dir)
	if err != nil {
		return err
	}
	defer asOf.Close()
	_, err = export.WriteTable(ctx, w, asOf.DB, table, format)
	return err
}

func (e *exports) Create(ctx context.Context, req httpapi.ExportRequest) (string, any, error) {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	id := "x-" + hex.EncodeToString(b)
	if err := os.MkdirAll(e.dir, 0o750); err != nil {
		return "", nil, err
	}
	opts := export.Options{Dir: filepath.Join(e.dir, id), Log: e.log, Formats: req.Formats, Tables: req.Tables,
		Position: req.Position, CSVBOM: req.CSVBOM, TempDir: e.dir}
	var m *export.Manifest
	var err error
	if req.Position > 0 {
		release, aerr := e.acquire(ctx)
		if aerr != nil {
			return "", nil, aerr
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
	if err != nil {
		return "", nil, err
	}
	return id, m, nil
}

var exportIDPattern = regexp.MustCompile(`^x-[0-9a-f]{16}$`)
var exportFilePattern = regexp.MustCompile(`^[a-z_]+\.(csv|jsonl|parquet|json|sql)$`)

func (e *exports) File(id, name string) (string, error) {
	if !exportIDPattern.MatchString(id) || !exportFilePattern.MatchString(name) {
		return "", domain.NotFound("export file %s/%s", id, name)
	}
	path := filepath.Join(e.dir, id, name)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return "", domain.NotFound("export file %s/%s", id, name)
	}
	return path, nil
}
