package console

import (
	"context"
	"net/http"
	"strings"

	"kpitrail/domain"
	"kpitrail/export"
	"kpitrail/httpapi"
	"kpitrail/projections"
)

// Downloads: the self-check table as XLSX, and the analysts' exports of
// each read-model table, streamed by the API's own export (the same files
// GET /v1/exports/{table}.{format} serves, to the same readers: not to a
// reporter whose reads are its own departments').

type exportsPage struct {
	Year    int
	Years   []int
	Tables  []string
	Formats []string
	// Whole is whether the reader may download whole tables.
	Whole bool
}

func (c *Console) exportsPage(w http.ResponseWriter, r *http.Request, v *view) error {
	p := exportsPage{Formats: []string{"csv", "jsonl", "parquet"}}
	err := v.read(func(ctx context.Context, db *projections.DB) error {
		all, err := db.TaskBoard(ctx, projections.TaskFilter{})
		if err != nil {
			return err
		}
		var b boardPage
		b.facets(v.visible(all))
		p.Years = b.Years
		if len(p.Years) > 0 {
			p.Year = p.Years[len(p.Years)-1]
		}
		// The tables are whole: a reporter that reads only its own
		// departments' tasks is not offered them, and is refused them
		// below, as by the API.
		p.Whole = httpapi.WholeTables(v.scope) == nil
		if c.cfg.Exports != nil && p.Whole {
			p.Tables, err = export.Tables(db)
		}
		return err
	})
	if err != nil {
		return err
	}
	if c.cfg.Exports != nil && p.Whole {
		p.Tables = append(p.Tables, export.StoredEvents)
	}
	return c.render(w, v, http.StatusOK, "exports", "下载", p)
}

func (c *Console) exportFile(w http.ResponseWriter, r *http.Request, v *view) error {
	if c.cfg.Exports == nil {
		return domain.NotFound("exports are not available on this server")
	}
	if err := httpapi.WholeTables(v.scope); err != nil {
		return err
	}
	if v.AsOf != nil {
		return domain.Invalid("as_of", "present_only", "table downloads are of the log as it is now; an export as of a position is POST /v1/exports")
	}
	table, format, ok := strings.Cut(r.PathValue("file"), ".")
	if !ok {
		return domain.NotFound("downloads are <table>.<csv|jsonl|parquet>")
	}
	w.Header().Set("Content-Type", c.cfg.Exports.ContentType(format))
	w.Header().Set("Content-Disposition", `attachment; filename="`+table+"."+format+`"`)
	lw := &firstWrite{w: w}
	err := c.cfg.Exports.Stream(r.Context(), lw, table, format, 0)
	if err != nil && lw.started {
		c.log.Error("console: download cut short", "file", r.PathValue("file"), "err", err)
		return nil
	}
	if err != nil {
		w.Header().Del("Content-Disposition")
	}
	return err
}

// firstWrite sends the status with the first byte, so a failure before
// it is still an error page.
type firstWrite struct {
	w       http.ResponseWriter
	started bool
}

func (f *firstWrite) Write(p []byte) (int, error) {
	if !f.started {
		f.started = true
		f.w.WriteHeader(http.StatusOK)
	}
	return f.w.Write(p)
}
