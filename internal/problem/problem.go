// Package problem turns domain errors into RFC 9457 problem documents. The
// code-to-status table lives here once, for every transport (HTTP replies
// and NATS intake replies carry the same status and body).
package problem

import (
	"errors"
	"net/http"

	"kpitrail/domain"
)

var statusOf = map[domain.Code]int{
	domain.EINVALID:      http.StatusBadRequest,
	domain.ERULE:         http.StatusUnprocessableEntity,
	domain.ECONFLICT:     http.StatusConflict,
	domain.ENOTFOUND:     http.StatusNotFound,
	domain.EFORBIDDEN:    http.StatusForbidden,
	domain.EUNAUTHORIZED: http.StatusUnauthorized,
	domain.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	domain.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	domain.ETOOMANY:      http.StatusTooManyRequests,
	domain.EBUSY:         http.StatusConflict,
	domain.ESTORAGE:      http.StatusInsufficientStorage,
	domain.EINTERNAL:     http.StatusInternalServerError,
	domain.EUNAVAILABLE:  http.StatusServiceUnavailable,
}

// aggregateConflict are the conflict rules about an aggregate, whose
// current version the client needs to retry; a conflict over something
// else (a token name in use) has no version to give.
var aggregateConflict = map[string]bool{"version": true, "exists": true}

// Status returns the HTTP status for a domain code.
func Status(code domain.Code) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
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
	// CurrentVersion is set on a conflict so the client can reload and retry.
	CurrentVersion *uint64 `json:"current_version,omitempty"`
	// Details carries what the failed request did accomplish, when it did.
	Details any `json:"details,omitempty"`
}

// New builds a problem with a code that has no domain error behind it.
func New(status int, code, detail, instance string) Problem {
	return Problem{Type: "https://kpitrail.dev/problems/" + code, Title: http.StatusText(status), Status: status,
		Detail: detail, Instance: instance, Code: code}
}

// From describes err. Internal errors get a generic detail: their text may
// name files, hosts or secrets and is for the log, not the caller.
func From(err error, instance string) Problem {
	code := domain.ErrorCode(err)
	status := Status(code)
	p := New(status, string(code), "", instance)
	var e *domain.Error
	if errors.As(err, &e) {
		p.Field, p.Rule, p.Detail, p.Details = e.Field, e.Rule, e.Error(), e.Details
		if code == domain.ECONFLICT && aggregateConflict[e.Rule] {
			v := e.Version
			p.CurrentVersion = &v
		}
	}
	if code == domain.EINTERNAL {
		p.Detail = "internal error"
	}
	return p
}
