package console

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/httpapi"
	"kpitrail/importer"
	"kpitrail/internal/problem"
)

// Import: upload a self-check table or a figure sheet, see the dry run's
// plan with every row's warning or error, then apply it. Both steps are
// the API's own import (httpapi.Imports, as POST /v1/imports runs it);
// between them the file waits on the server (stash), so it is uploaded
// once and applied exactly as it was checked. The apply runs as a job, as
// POST /v1/imports with Prefer: respond-async does (jobs.go), and the
// browser follows it on the job's page.

type importPage struct {
	Kind, Lead, Filename string
	Year                 int
	Staged               string // stash key of a checked file, ready to apply
	Result               *importResult
	Applied              bool
	RowErrors            []importer.RowError
	Error                string
}

// importResult is the import's answer as the API documents it
// (ImportResult in openapi.json).
type importResult struct {
	BatchID string                `json:"batch_id"`
	DryRun  bool                  `json:"dry_run"`
	Summary importer.Summary      `json:"summary"`
	Report  *importer.ApplyReport `json:"report"`
}

func (c *Console) importForm(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := c.canImport(v); err != nil {
		return err
	}
	return c.render(w, v, http.StatusOK, "import", "导入", importPage{Kind: "table"})
}

func (c *Console) canImport(v *view) error {
	if c.cfg.Imports == nil {
		return domain.NotFound("imports are not available on this server")
	}
	if !v.CanAny("indicator.report_figure") {
		return domain.Forbidden("role %s may not import", v.P.Role)
	}
	return nil
}

func (c *Console) importRun(w http.ResponseWriter, r *http.Request, v *view) error {
	if err := c.canImport(v); err != nil {
		return err
	}
	f := r.PostForm
	p := importPage{Kind: f.Get("kind"), Lead: strings.TrimSpace(f.Get("lead_department"))}
	if p.Kind != "figures" {
		p.Kind = "table"
	}
	if y := strings.TrimSpace(f.Get("year")); y != "" {
		n, err := strconv.Atoi(y)
		if err != nil || n < 0 {
			return domain.Invalid("year", "uint", "must be a year such as 2022, got %q", y)
		}
		p.Year = n
	}
	req := httpapi.ImportRequest{Kind: p.Kind, Year: p.Year, Lead: p.Lead}
	apply := f.Get("apply") != ""
	if apply {
		up, ok := c.stash.take(f.Get("staged"), v.Session.CSRF)
		if !ok {
			return domain.Invalid("staged", "expired", "the checked file is no longer here (it is kept 30 minutes); upload it again")
		}
		req, p.Kind, p.Year, p.Lead, p.Filename = up.req, up.req.Kind, up.req.Year, up.req.Lead, up.req.Filename
		req.Key = up.key
	} else {
		file, hdr, err := r.FormFile("file")
		if err != nil {
			return domain.Invalid("file", "required", "choose a file to import")
		}
		defer file.Close()
		if req.Data, err = io.ReadAll(io.LimitReader(file, httpapi.MaxImportBytes+1)); err != nil {
			return err
		}
		req.Filename, p.Filename = hdr.Filename, hdr.Filename
		req.DryRun = true
	}
	if err := auth.MayImport(v.P.Role, req.Kind); err != nil {
		return err
	}
	if apply && c.cfg.Jobs != nil {
		return c.importAsJob(w, r, v, req, f.Get("staged"))
	}
	out, err := c.cfg.Imports.Import(r.Context(), req)
	status := http.StatusOK
	if err != nil {
		if domain.ErrorCode(err) == domain.EINTERNAL {
			return err
		}
		pd := problem.From(err, r.URL.Path)
		status, p.Error, p.RowErrors = pd.Status, pd.Detail, rowErrors(err, pd.Detail)
		if pd.Details != nil {
			p.Result = decodeImport(pd.Details)
		}
	} else {
		p.Result = decodeImport(out)
		p.Applied = apply
		if !apply {
			p.Staged = c.stash.put(req, v.Session.CSRF)
		}
	}
	return c.render(w, v, status, "import", "导入", p)
}

// decodeImport reads the import's answer through its JSON form, the
// contract the API documents, rather than the Go type of the package that
// implements it.
func decodeImport(v any) *importResult {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var r importResult
	if json.Unmarshal(b, &r) != nil {
		return nil
	}
	return &r
}

// rowLine is how importer.RowError writes itself.
var rowLine = regexp.MustCompile(`^line (\d+)(?:, column ([^:]+))?: (.*)$`)

// rowErrors lists a refused file's rows: from the importer's errors when
// they are at hand, else from the lines of the problem's detail, which
// the importer writes one row error per line.
func rowErrors(err error, detail string) []importer.RowError {
	var rows importer.RowErrors
	if errors.As(err, &rows) {
		return rows
	}
	var out []importer.RowError
	for _, l := range strings.Split(detail, "\n") {
		if m := rowLine.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			n, _ := strconv.Atoi(m[1])
			out = append(out, importer.RowError{Line: n, Column: m[2], Msg: m[3]})
		}
	}
	return out
}

// importTemplate serves a blank figure sheet, as GET
// /v1/imports/templates/{file} does.
func (c *Console) importTemplate(w http.ResponseWriter, r *http.Request, v *view) error {
	if c.cfg.Imports == nil {
		return domain.NotFound("imports are not available on this server")
	}
	format := map[string]string{"figures.csv": "csv", "figures.xlsx": "xlsx"}[r.PathValue("file")]
	if format == "" {
		return domain.NotFound("templates are figures.csv and figures.xlsx")
	}
	data, ct, err := c.cfg.Imports.Template(format)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="`+r.PathValue("file")+`"`)
	_, err = w.Write(data)
	return err
}
