package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"kpitrail/domain"
	"kpitrail/internal/problem"
)

//go:embed templates
var templateFiles embed.FS

// pages holds one parsed template per view, each with the shared layout:
// a view defines "title" and "content", the layout the rest.
type pages struct {
	views map[string]*template.Template
}

func mustParsePages() *pages {
	p, err := parsePages()
	if err != nil {
		panic(err)
	}
	return p
}

func parsePages() (*pages, error) {
	names, err := fs.Glob(templateFiles, "templates/views/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{views: map[string]*template.Template{}}
	for _, name := range names {
		view := strings.TrimSuffix(path.Base(name), ".html")
		t, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFiles, "templates/layout.html", "templates/partials/*.html", name)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", view, err)
		}
		p.views[view] = t
	}
	return p, nil
}

// pageData is what every template gets: the request's view and the page's
// own data.
type pageData struct {
	V     *view
	D     any
	Title string
	// Refresh, when above 0, reloads the page after that many seconds
	// (a meta refresh: no script, so the CSP stays as strict).
	Refresh int
}

// refresher is page data that asks to be reloaded while it may change.
type refresher interface{ refreshSeconds() int }

// render executes a view into a buffer first, so a template error is an
// error page instead of half a page.
func (c *Console) render(w http.ResponseWriter, v *view, status int, name, title string, data any) error {
	t, ok := c.pages.views[name]
	if !ok {
		return domain.Internal(nil, "no view %s", name)
	}
	var buf bytes.Buffer
	pd := pageData{V: v, D: data, Title: title}
	if rf, ok := data.(refresher); ok {
		pd.Refresh = rf.refreshSeconds()
	}
	if err := t.Execute(&buf, pd); err != nil {
		return domain.Internal(err, "render %s", name)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages carry a session's data: never cached, by the browser or any
	// proxy in between.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// errorPage is what an error shows: the status, and the detail the API's
// problem document would carry.
type errorPage struct {
	Status int
	Code   string
	Detail string
	Field  string
	Rule   string
}

func (c *Console) renderError(w http.ResponseWriter, v *view, err error) {
	if domain.ErrorCode(err) == domain.EINTERNAL {
		c.log.Error("console request failed", "method", v.r.Method, "path", v.Path, "err", err)
	}
	c.renderProblem(w, v, problem.From(err, v.Path))
}

// renderProblem shows an answer the API would give as problem+json (the
// same status, code and detail) as an error page.
func (c *Console) renderProblem(w http.ResponseWriter, v *view, p problem.Problem) {
	data := errorPage{Status: p.Status, Code: p.Code, Detail: p.Detail, Field: p.Field, Rule: p.Rule}
	if rerr := c.render(w, v, p.Status, "error", errorTitle(p.Status), data); rerr != nil {
		c.log.Error("console: error page failed", "err", rerr)
		http.Error(w, p.Detail, p.Status)
	}
}

func errorTitle(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "请先登录"
	case http.StatusForbidden:
		return "无权操作"
	case http.StatusNotFound:
		return "未找到"
	case http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusConflict:
		return "未能保存"
	case http.StatusTooManyRequests:
		return "请求过于频繁"
	case http.StatusServiceUnavailable:
		return "暂停写入"
	}
	return "出错了"
}

var templateFuncs = template.FuncMap{
	"status":     statusLabel,
	"statusTone": statusTone,
	"taskStatus": taskStatusLabel,
	"deadline":   deadlineLabel,
	"quality":    qualityLabel,
	"source":     sourceLabel,
	"direction":  directionLabel,
	"rect":       rectLabel,
	"kind":       changeKindLabel,
	"figState":   figureStateLabel,
	"review":     reviewLabel,
	"reviewTone": reviewTone,
	"rule":       ruleLabel,
	"severity":   severityTone,
	"period":     periodLabel,
	"role":       roleLabel,
	"jobState":   jobStateLabel,
	"unit":       unitLabel,
	"signed":     signed,
	"pct":        pct,
	"window":     windowLabel,
	"date":       dateOnly,
	"join":       strings.Join,
	"short":      shortHash,
	"add":        func(a, b int) int { return a + b },
	"seq": func(n int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = i + 1
		}
		return s
	},
	"chart": func(c chart) template.HTML { return c.SVG() },
}

func dateOnly(s string) string {
	if len(s) >= 10 {
		return s[:10]
	}
	return s
}

// signed writes a decimal's sign as typography has it: a true minus
// (−18.8), a plus on a rise.
func signed(s string) string {
	switch {
	case strings.HasPrefix(s, "-"):
		return "−" + s[1:]
	case s == "" || s == "0" || strings.Trim(s, "0.") == "":
		return s
	}
	return "+" + s
}

// pct is a stored display percentage with its sign mark.
func pct(s string) string {
	if s == "" {
		return ""
	}
	if strings.HasPrefix(s, "-") {
		return "−" + s[1:] + "%"
	}
	return s + "%"
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}
