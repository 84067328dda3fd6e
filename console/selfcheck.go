package console

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"

	"kpitrail/export"
	"kpitrail/projections"
)

// The self-check table (自查表) as XLSX, of the board's filters or of one
// task: the export package's table, as GET /v1/tasks/selfcheck.xlsx gives
// it, as of the page's instant, holding only the tasks the reader may read.

func (c *Console) boardSelfCheck(w http.ResponseWriter, r *http.Request, v *view) error {
	q := r.URL.Query()
	year, err := boardYear(q.Get("year"), nil)
	if err != nil {
		return err
	}
	f := projections.TaskFilter{Year: year, Dimension: q.Get("dimension"), Department: q.Get("department"), Status: q.Get("status")}
	name := "自查表.xlsx"
	if year != 0 {
		name = fmt.Sprintf("%d年度自查表.xlsx", year)
	}
	return c.selfCheck(w, v, f, "", name)
}

func (c *Console) taskSelfCheck(w http.ResponseWriter, r *http.Request, v *view) error {
	return c.selfCheck(w, v, projections.TaskFilter{}, r.PathValue("id"), "自查表-"+r.PathValue("id")+".xlsx")
}

func (c *Console) selfCheck(w http.ResponseWriter, v *view, f projections.TaskFilter, taskID, name string) error {
	var buf bytes.Buffer
	err := v.read(func(ctx context.Context, db *projections.DB) error {
		if taskID != "" {
			if err := v.readableTask(ctx, db, taskID); err != nil {
				return err
			}
		}
		rows, err := export.SelfCheckRows(ctx, db, f, taskID, v.visible)
		if err != nil {
			return err
		}
		return export.WriteSelfCheckXLSX(&buf, rows)
	})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", export.SelfCheckContentType)
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
	w.Header().Set("Cache-Control", "no-store")
	_, err = w.Write(buf.Bytes())
	return err
}
