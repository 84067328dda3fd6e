package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"kpitrail/domain"
)

// statusOf is the one table from domain error codes to HTTP statuses.
var statusOf = map[domain.Code]int{
	domain.EINVALID:      http.StatusBadRequest,
	domain.ERULE:         http.StatusUnprocessableEntity,
	domain.ECONFLICT:     http.StatusConflict,
	domain.ENOTFOUND:     http.StatusNotFound,
	domain.EFORBIDDEN:    http.StatusForbidden,
	domain.EUNAUTHORIZED: http.StatusUnauthorized,
	domain.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	domain.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	domain.EINTERNAL:     http.StatusInternalServerError,
}

// Problem is an RFC 9457 problem document with kpitrail's extensions.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	Code     string `json:"code"`
	Field    string `json:"field,omitempty"`
	Rule     string `json:"rule,omitempty"`
	// CurrentVersion is set on a 409 so the client can reload and retry.
	CurrentVersion *uint64 `json:"current_version,omitempty"`
}

// writeError answers with a problem document. Only internal errors are
// logged: everything else is the caller's to fix and is in the response.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := domain.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	p := Problem{Type: "https://kpitrail.dev/problems/" + string(code), Title: http.StatusText(status), Status: status,
		Instance: r.URL.Path, Code: string(code)}
	var e *domain.Error
	if errors.As(err, &e) {
		p.Field, p.Rule = e.Field, e.Rule
		p.Detail = e.Error()
		if code == domain.ECONFLICT {
			v := e.Version
			p.CurrentVersion = &v
			w.Header().Set("ETag", etag(v))
		}
	}
	if code == domain.EINTERNAL {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		p.Detail = "internal error"
	}
	if code == domain.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kpitrail"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	writeBody(w, p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	writeBody(w, v)
}

func writeBody(w http.ResponseWriter, v any) {
	enc := json.NewEncoder(w)
	// Chinese text and full-width punctuation go out as themselves, and
	// HTML-looking text is not mangled into \u003c escapes.
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
