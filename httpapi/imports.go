package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/jobs"
)

// MaxImportBytes is the default bound of an uploaded table or figure
// sheet (Config.ImportMaxBytes).
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
	// Begin waits its turn: one import (or undo) runs at a time per data
	// directory. It returns a domain error when the wait is over.
	Begin(ctx context.Context) (release func(), err error)
	Import(ctx context.Context, req ImportRequest) (any, error)
	Undo(ctx context.Context, batchID string) (any, error)
	Template(format string) (data []byte, contentType string, err error)
}

func (s *Server) importRoutes() {
	s.handle("POST /v1/imports", "write", s.importFile)
	s.handle("POST /v1/imports/{batch}/undo", "write", func(w http.ResponseWriter, r *http.Request) error {
		p, _ := authPrincipal(r)
		if err := auth.MayImport(p.Role, "table"); err != nil && auth.MayImport(p.Role, "figures") != nil {
			e := domain.Forbidden("role %s may not undo an import", p.Role)
			e.Field, e.Rule = "Authorization", "role_may_import"
			return e
		}
		release, err := s.beginImport(w, r)
		if err != nil {
			return err
		}
		defer release()
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

// importFile takes an upload. Everything that can be decided without the
// file is decided before a byte of it is read: the parameters, whether the
// caller's role may import this kind at all, the declared size, and the
// turn (one import at a time). The file is then read within the size
// limit; what it may inflate to is the importer's limit.
func (s *Server) importFile(w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if err != nil && r.ContentLength != 0 {
			// Refused before (or while) the file was read: do not read the
			// rest of it either. net/http would otherwise drain up to 256 KB
			// of the body before answering, waiting on a client that sends
			// slowly; closing the connection afterwards skips that.
			w.Header().Set("Connection", "close")
		}
	}()
	q := r.URL.Query()
	kind := q.Get("kind")
	if kind == "" {
		kind = "table"
	}
	p, _ := authPrincipal(r)
	if err := auth.MayImport(p.Role, kind); err != nil {
		return err
	}
	year, err := intParam(q.Get("year"), "year")
	if err != nil {
		return err
	}
	dry := false
	if v := q.Get("dry_run"); v != "" {
		if dry, err = strconv.ParseBool(v); err != nil {
			return domain.Invalid("dry_run", "bool", "must be true or false, got %q", v)
		}
	}
	limit := s.cfg.ImportMaxBytes
	if r.ContentLength > limit {
		return importTooLarge(limit)
	}
	if wantsJob(r) && !dry {
		return s.importJob(w, r, ImportRequest{Kind: kind, Format: q.Get("format"), Filename: q.Get("filename"),
			Year: year, Lead: q.Get("lead_department"), Key: r.Header.Get("Idempotency-Key")})
	}
	release, err := s.beginImport(w, r)
	if err != nil {
		return err
	}
	defer release()
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return importTooLarge(limit)
		}
		return domain.Invalid("body", "readable", "cannot read the file: %v", err)
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
}

func (s *Server) beginImport(w http.ResponseWriter, r *http.Request) (func(), error) {
	release, err := s.cfg.Imports.Begin(r.Context())
	if err != nil {
		w.Header().Set("Retry-After", "10")
	}
	return release, err
}

func importTooLarge(limit int64) error {
	return &domain.Error{Code: domain.ETOOLARGE, Field: "body", Rule: "max_bytes",
		Message: fmt.Sprintf("an import file may be at most %d MiB", limit>>20)}
}

// importJob reads the file and runs the import as a job. The job waits
// for the import turn as long as it takes (it is queued, not refused); a
// queued import holds its file in memory, so the jobs' queue bounds that
// at Limits.Queued times ImportMaxBytes.
func (s *Server) importJob(w http.ResponseWriter, r *http.Request, req ImportRequest) error {
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, s.cfg.ImportMaxBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return importTooLarge(s.cfg.ImportMaxBytes)
		}
		return domain.Invalid("body", "readable", "cannot read the file: %v", err)
	}
	req.Data = data
	p, _ := authPrincipal(r)
	return s.startJob(w, r, "import", ImportJob(s.cfg.Imports, p, req))
}

// ImportJob is req imported as p, as a job's work: it waits for the
// import turn as long as it takes, then imports. The API's and the
// console's import jobs are this one function.
func ImportJob(imp Imports, p auth.Principal, req ImportRequest) jobs.Func {
	return func(ctx context.Context) (any, error) {
		ctx = auth.WithPrincipal(ctx, p)
		for {
			release, err := imp.Begin(ctx)
			if err == nil {
				defer release()
				break
			}
			if domain.ErrorCode(err) != domain.EBUSY {
				return nil, err
			}
		}
		return imp.Import(ctx, req)
	}
}
