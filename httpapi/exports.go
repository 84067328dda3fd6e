package httpapi

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"kpitrail/domain"
)

// Exports serves analysts' exports; the export package and the data
// directory are wired in cmd.
type Exports interface {
	// Stream writes one table (or stored_events) in a format, as of a log
	// position (0: now).
	Stream(ctx context.Context, w io.Writer, table, format string, position uint64) error
	ContentType(format string) string
	// Create writes a full export with its manifest and returns the
	// manifest; its files are then served by File.
	Create(ctx context.Context, req ExportRequest) (id string, manifest any, err error)
	File(id, name string) (path string, err error)
	// List returns the finished exports and the budget they live in.
	List(ctx context.Context) (any, error)
	// Replay writes the read models as of a position or an instant to a
	// SQLite file, served like an export's files, and returns its manifest.
	Replay(ctx context.Context, req ReplayRequest) (id string, manifest any, err error)
}

// ReplayRequest is the body of POST /v1/replays: exactly one of Position
// and AsOf (RFC 3339 record time).
type ReplayRequest struct {
	Position uint64 `json:"position,omitempty"`
	AsOf     string `json:"as_of,omitempty"`
}

// ExportRequest is the body of POST /v1/exports.
type ExportRequest struct {
	Formats  []string `json:"formats,omitempty"`
	Tables   []string `json:"tables,omitempty"`
	Position uint64   `json:"position,omitempty"`
	CSVBOM   bool     `json:"csv_bom,omitempty"`
}

func (s *Server) exportRoutes() {
	s.handle("GET /v1/exports", "read", func(w http.ResponseWriter, r *http.Request) error {
		out, err := s.cfg.Exports.List(r.Context())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	})
	s.handle("GET /v1/exports/{file}", "read", func(w http.ResponseWriter, r *http.Request) error {
		if err := s.wholeTables(r); err != nil {
			return err
		}
		table, format, ok := strings.Cut(r.PathValue("file"), ".")
		if !ok {
			return domain.NotFound("exports are /v1/exports/<table>.<csv|jsonl|parquet>")
		}
		pos, err := uintParam(r.URL.Query().Get("position"), 0, "position")
		if err != nil {
			return err
		}
		// Errors before the first byte still get a problem document; once
		// the stream has started the status is sent, and a failure can only
		// cut the body short (the manifest of POST /v1/exports is the way
		// to verify a download).
		w.Header().Set("Content-Type", s.cfg.Exports.ContentType(format))
		w.Header().Set("Content-Disposition", `attachment; filename="`+table+"."+format+`"`)
		lw := &lazyHeader{w: w}
		err = s.cfg.Exports.Stream(r.Context(), lw, table, format, pos)
		if err != nil && !lw.started {
			retryLater(w, err)
		}
		if err != nil && lw.started {
			s.log.Error("export stream cut short", "file", r.PathValue("file"), "err", err)
			return nil
		}
		return err
	})
	s.handle("POST /v1/exports", "read", func(w http.ResponseWriter, r *http.Request) error {
		if err := s.wholeTables(r); err != nil {
			return err
		}
		var req ExportRequest
		if err := decodeBody(r, &req); err != nil {
			return err
		}
		if wantsJob(r) {
			return s.startJob(w, r, "export", func(ctx context.Context) (any, error) {
				id, manifest, err := s.cfg.Exports.Create(ctx, req)
				if err != nil {
					return nil, err
				}
				return map[string]any{"id": id, "manifest": manifest}, nil
			})
		}
		id, manifest, err := s.cfg.Exports.Create(r.Context(), req)
		if err != nil {
			retryLater(w, err)
			return err
		}
		w.Header().Set("Location", "/v1/exports/"+id+"/manifest.json")
		writeJSON(w, http.StatusCreated, map[string]any{"id": id, "manifest": manifest})
		return nil
	})
	// A replay is always a job: it reads the whole log up to its point.
	s.handle("POST /v1/replays", "read", func(w http.ResponseWriter, r *http.Request) error {
		if err := s.wholeTables(r); err != nil {
			return err
		}
		var req ReplayRequest
		if err := decodeBody(r, &req); err != nil {
			return err
		}
		if (req.Position == 0) == (req.AsOf == "") {
			return domain.Invalid("position", "one_of", "give exactly one of position and as_of")
		}
		if req.AsOf != "" {
			if _, err := time.Parse(time.RFC3339Nano, req.AsOf); err != nil {
				return domain.Invalid("as_of", "rfc3339", "must be an RFC 3339 instant, got %q", req.AsOf)
			}
		}
		return s.startJob(w, r, "replay", func(ctx context.Context) (any, error) {
			id, manifest, err := s.cfg.Exports.Replay(ctx, req)
			if err != nil {
				return nil, err
			}
			return map[string]any{"id": id, "manifest": manifest}, nil
		})
	})
	s.handle("GET /v1/exports/{id}/{name}", "read", func(w http.ResponseWriter, r *http.Request) error {
		if err := s.wholeTables(r); err != nil {
			return err
		}
		name := r.PathValue("name")
		path, err := s.cfg.Exports.File(r.PathValue("id"), name)
		if err != nil {
			return err
		}
		// The export's own media types: ServeFile guesses from the host's
		// MIME table, which does not know Parquet or SQL everywhere.
		if ct := s.cfg.Exports.ContentType(strings.TrimPrefix(filepath.Ext(name), ".")); ct != "application/octet-stream" {
			w.Header().Set("Content-Type", ct)
		}
		http.ServeFile(w, r, path)
		return nil
	})
}

// lazyHeader lets a handler fail with a problem document until it writes
// its first byte.
type lazyHeader struct {
	w       http.ResponseWriter
	started bool
}

func (l *lazyHeader) Write(p []byte) (int, error) {
	if !l.started {
		l.started = true
		l.w.WriteHeader(http.StatusOK)
	}
	return l.w.Write(p)
}

// retryLater says when to come back from a refusal that passes.
func retryLater(w http.ResponseWriter, err error) {
	e, _ := domain.AsError(err)
	switch {
	case e != nil && e.Rule == "max_concurrent_replays":
		w.Header().Set("Retry-After", "2") // a replay takes seconds, and one in progress is shared
	case domain.ErrorCode(err) == domain.ETOOMANY:
		w.Header().Set("Retry-After", "10")
	case domain.ErrorCode(err) == domain.ESTORAGE:
		w.Header().Set("Retry-After", "3600")
	}
}
