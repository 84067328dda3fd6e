package export

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"

	"kpitrail/domain"
)

// writeFiles writes one table in every requested format from a single
// scan, and adds the table and its files to the manifest.
func writeFiles(m *Manifest, stage, table string, cols []Column, opts Options, scan scanFunc) error {
	outs := make([]*fileOut, 0, len(opts.Formats))
	sinks := make([]sink, 0, len(opts.Formats))
	defer func() {
		for _, o := range outs {
			o.f.Close() // after finish this is a no-op; on error it frees the handle
		}
	}()
	for _, format := range opts.Formats {
		o, err := createFile(filepath.Join(stage, table+"."+format))
		if err != nil {
			return err
		}
		outs = append(outs, o)
		if format == FormatCSV && opts.CSVBOM {
			o.Write([]byte(BOM))
		}
		s, err := newSink(format, o, table, cols)
		if err != nil {
			return err
		}
		sinks = append(sinks, s)
	}
	rows, err := scan(func(vals []any) error {
		for _, s := range sinks {
			if err := s.row(vals); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, s := range sinks {
		if err := s.close(); err != nil {
			return fmt.Errorf("export %s: %w", table, err)
		}
		if err := outs[i].finish(); err != nil {
			return fmt.Errorf("export %s: %w", table, err)
		}
		f := File{Name: filepath.Base(outs[i].f.Name()), Table: table, Format: opts.Formats[i],
			Rows: rows, Bytes: outs[i].n, SHA256: hex.EncodeToString(outs[i].h.Sum(nil))}
		if ps, ok := s.(*parquetSink); ok {
			f.OutOfRange = ps.outOfRange
		}
		m.Files = append(m.Files, f)
	}
	m.Tables = append(m.Tables, Table{Name: table, Rows: rows, Columns: cols})
	return nil
}

// fileOut hashes and counts what it writes, so the manifest needs no
// second read of a file.
type fileOut struct {
	f  *os.File
	bw *bufio.Writer
	h  hash.Hash
	n  int64
}

func createFile(path string) (*fileOut, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return &fileOut{f: f, bw: bufio.NewWriterSize(f, 256<<10), h: sha256.New()}, nil
}

func (o *fileOut) Write(p []byte) (int, error) {
	o.h.Write(p)
	o.n += int64(len(p))
	return o.bw.Write(p)
}

// finish makes the file durable before the export is published.
func (o *fileOut) finish() error {
	if err := o.bw.Flush(); err != nil {
		return err
	}
	if err := o.f.Sync(); err != nil {
		return err
	}
	return o.f.Close()
}

func writeManifest(stage string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	o, err := createFile(filepath.Join(stage, ManifestName))
	if err != nil {
		return err
	}
	defer o.f.Close()
	o.Write(append(b, '\n'))
	return o.finish()
}

// checkTarget refuses a Dir that holds anything: an export never mixes
// with, or overwrites, files of another one.
func checkTarget(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if len(entries) > 0 {
		return domain.Invalid("dir", "empty", "%s is not empty: give every export a new directory", dir)
	}
	return nil
}

// publish moves the finished export into place in one rename, so Dir
// either does not exist or holds a complete export with its manifest.
func publish(stage, dir string) error {
	if err := syncDir(stage); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	// An empty Dir is removed first (a rename onto a directory is not
	// portable); Remove fails if anything appeared in it meanwhile.
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("export: %w", err)
	}
	if err := os.Rename(stage, dir); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return syncDir(filepath.Dir(dir))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
