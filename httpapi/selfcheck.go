package httpapi

import (
	"bytes"
	"fmt"
	"net/http"
	"time"

	"kpitrail/export"
	"kpitrail/projections"
)

// The self-check table (自查表) in the layout the office hands in, as XLSX:
// the board's filters select the tasks, or the path names one; a
// reporter's table holds only the tasks it may read (scope.go), and a task
// it may not read answers as a missing one. The
// workbook is built whole before the first byte is sent, so a failure is
// still a problem document.
func (s *Server) selfCheckRoutes() {
	s.handle("GET /v1/tasks/selfcheck.xlsx", "read", func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		year, err := intParam(q.Get("year"), "year")
		if err != nil {
			return err
		}
		f := projections.TaskFilter{Year: year, Dimension: q.Get("dimension"), Department: q.Get("department"), Status: q.Get("status")}
		name := "selfcheck.xlsx"
		if year != 0 {
			name = fmt.Sprintf("selfcheck-%d.xlsx", year)
		}
		return s.selfCheck(w, r, f, "", name)
	})
	s.handle("GET /v1/tasks/{id}/selfcheck.xlsx", "read", func(w http.ResponseWriter, r *http.Request) error {
		return s.selfCheck(w, r, projections.TaskFilter{}, r.PathValue("id"), "selfcheck-"+r.PathValue("id")+".xlsx")
	})
}

func (s *Server) selfCheck(w http.ResponseWriter, r *http.Request, f projections.TaskFilter, taskID, name string) error {
	asOf, err := asOfParam(r)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	err = s.cfg.Reads.With(r.Context(), asOf, func(db *projections.DB) error {
		sc := s.scope(r)
		if taskID != "" {
			if err := ReadableTask(r.Context(), db, sc, taskID); err != nil {
				return err
			}
		}
		rows, err := export.SelfCheckRows(r.Context(), db, f, taskID, func(ts []projections.Task) []projections.Task {
			return VisibleTasks(sc, ts)
		})
		if err != nil {
			return err
		}
		return export.WriteSelfCheckXLSX(&buf, rows)
	})
	if err != nil {
		return err
	}
	if asOf != nil {
		w.Header().Set("Kpitrail-As-Of", asOf.UTC().Format(time.RFC3339Nano))
	}
	w.Header().Set("Content-Type", export.SelfCheckContentType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, err = w.Write(buf.Bytes())
	return err
}
