package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"

	"kpitrail/domain"
	"kpitrail/internal/problem"
)

// writeError answers with a problem document. Only internal errors are
// logged: everything else is the caller's to fix and is in the response.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	p := problem.From(err, r.URL.Path)
	switch domain.ErrorCode(err) {
	case domain.EINTERNAL:
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	case domain.ECONFLICT:
		if p.CurrentVersion != nil {
			w.Header().Set("ETag", etag(*p.CurrentVersion))
		}
	case domain.EUNAUTHORIZED:
		w.Header().Set("WWW-Authenticate", `Bearer realm="kpitrail"`)
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p problem.Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	writeBody(w, p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	writeBody(w, v)
}

func writeBody(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	// Chinese text and full-width punctuation go out as themselves, and
	// HTML-looking text is not mangled into \u003c escapes.
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
