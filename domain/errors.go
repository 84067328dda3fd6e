package domain

import (
	"errors"
	"fmt"
)

// Code classifies an error for every edge (HTTP status, NATS reply, CLI exit).
// The mapping to transport codes lives with each transport, in one table each.
type Code string

const (
	EINVALID      Code = "invalid"        // input is malformed or breaks a field rule
	ERULE         Code = "rule_violation" // well-formed, but a domain rule refuses it
	ECONFLICT     Code = "conflict"       // optimistic concurrency: the aggregate moved on
	ENOTFOUND     Code = "not_found"
	EFORBIDDEN    Code = "forbidden"
	EUNAUTHORIZED Code = "unauthorized"
	ETOOLARGE     Code = "too_large"
	EUNSUPPORTED  Code = "unsupported_media_type"
	ETOOMANY      Code = "too_many_requests" // a concurrency cap is reached: retry later
	EBUSY         Code = "busy"              // another operation that excludes this one is running
	ESTORAGE      Code = "insufficient_storage"
	EINTERNAL     Code = "internal"
	// EUNAVAILABLE: kpitrail refuses writes until an operator acts (the
	// event stream failed its guard).
	EUNAVAILABLE Code = "unavailable"
)

// Error is the one application error type. Field and Rule say exactly what
// was refused so a department's system can fix its input without guessing.
type Error struct {
	Code    Code
	Field   string // JSON path of the offending field, "" when not about one field
	Rule    string // short stable rule id, e.g. "required", "max_length"
	Message string
	// Version is the aggregate's current version on a conflict, so a client
	// can reload and retry without another round trip.
	Version uint64
	// Details, when set, travels to the caller with the error (e.g. what a
	// partly applied import did store before it stopped).
	Details any
	Err     error
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Field != "" && e.Rule != "" {
		msg = fmt.Sprintf("%s: %s (%s)", e.Field, e.Message, e.Rule)
	} else if e.Field != "" {
		msg = fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Invalid reports input that breaks a field rule.
func Invalid(field, rule, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Rule: rule, Message: fmt.Sprintf(format, args...)}
}

// RuleViolation reports well-formed input that the domain refuses in the
// aggregate's current state (HTTP 422).
func RuleViolation(field, rule, format string, args ...any) *Error {
	return &Error{Code: ERULE, Field: field, Rule: rule, Message: fmt.Sprintf(format, args...)}
}

// Conflict reports that the aggregate is at another version than expected.
func Conflict(current uint64, format string, args ...any) *Error {
	return &Error{Code: ECONFLICT, Rule: "version", Version: current, Message: fmt.Sprintf(format, args...)}
}

func NotFound(format string, args ...any) *Error {
	return &Error{Code: ENOTFOUND, Message: fmt.Sprintf(format, args...)}
}

func Forbidden(format string, args ...any) *Error {
	return &Error{Code: EFORBIDDEN, Message: fmt.Sprintf(format, args...)}
}

func Unauthorized(format string, args ...any) *Error {
	return &Error{Code: EUNAUTHORIZED, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected failure; only these are logged at the edge.
func Internal(err error, format string, args ...any) *Error {
	return &Error{Code: EINTERNAL, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// AsError returns the first *Error in err's chain.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
