package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"

	"kpitrail/domain"
)

// MaxImportBytes bounds an uploaded table or figure sheet.
const MaxImportBytes = 20 << 20

// ImportRequest is one uploaded file.
type ImportRequest struct {
	Kind     string // "table" (自查表) or "figures" (structured figures)
	Format   string // tsv, csv, xlsx; "" to detect from Filename and content
	Filename string
	Data     []byte
	DryRun   bool
	Year     int
	Lead     string
	// Key makes the batch id retry-safe (the Idempotency-Key header).
	Key string
}

// Imports runs imports; the importer and the data directory are wired in cmd.
type Imports interface {
	Import(ctx context.Context, req ImportRequest) (any, error)
	Undo(ctx context.Context, batchID string) (any, error)
	Template(format string) (data []byte, contentType string, err error)
}

func (s *Server) importRoutes() {
	s.handle("POST /v1/imports", "write", func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		year, err := intParam(q.Get("year"), "year")
		if err != nil {
			return err
		}
		data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxImportBytes))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return &domain.Error{Code: domain.ETOOLARGE, Field: "body", Rule: "max_bytes", Message: "an import file may be at most 20 MiB"}
			}
			return domain.Invalid("body", "readable", "cannot read the file: %v", err)
		}
		kind := q.Get("kind")
		if kind == "" {
			kind = "table"
		}
		dry := false
		if v := q.Get("dry_run"); v != "" {
			if dry, err = strconv.ParseBool(v); err != nil {
				return domain.Invalid("dry_run", "bool", "must be true or false, got %q", v)
			}
		}
		out, err := s.cfg.Imports.Import(r.Context(), ImportRequest{Kind: kind, Format: q.Get("format"), Filename: q.Get("filename"),
			Data: data, DryRun: dry, Year: year, Lead: q.Get("lead_department"), Key: r.Header.Get("Idempotency-Key")})
		if err != nil {
			return err
		}
		status := http.StatusCreated
		if dry {
			status = http.StatusOK
		}
		writeJSON(w, status, out)
		return nil
	})
	s.handle("POST /v1/imports/{batch}/undo", "write", func(w http.ResponseWriter, r *http.Request) error {
		out, err := s.cfg.Imports.Undo(r.Context(), r.PathValue("batch"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	})
	s.handle("GET /v1/imports/templates/{file}", "read", func(w http.ResponseWriter, r *http.Request) error {
		format := map[string]string{"figures.csv": "csv", "figures.xlsx": "xlsx"}[r.PathValue("file")]
		if format == "" {
			return domain.NotFound("templates are figures.csv and figures.xlsx")
		}
		data, ct, err := s.cfg.Imports.Template(format)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Content-Disposition", `attachment; filename="`+r.PathValue("file")+`"`)
		_, err = w.Write(data)
		return err
	})
}
