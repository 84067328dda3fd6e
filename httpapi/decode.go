package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"kpitrail/domain"
)

// MaxBodyBytes bounds a request body. One command's events travel as one
// NATS message, which the server caps at 1 MiB.
const MaxBodyBytes = 512 << 10

// decodeBody reads one JSON object strictly: the right media type, valid
// UTF-8 (Go's decoder would silently turn bad bytes into U+FFFD, changing
// what a department reported), no unknown fields, no trailing data.
func decodeBody(r *http.Request, dst any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return &domain.Error{Code: domain.EUNSUPPORTED, Field: "Content-Type", Rule: "media_type", Message: "send application/json"}
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return &domain.Error{Code: domain.ETOOLARGE, Field: "body", Rule: "max_bytes", Message: "request body exceeds 512 KiB"}
		}
		return domain.Invalid("body", "readable", "cannot read request body: %v", err)
	}
	if !utf8.Valid(body) {
		return domain.Invalid("body", "utf8", "request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, body)
	}
	if dec.More() {
		return domain.Invalid("body", "single_object", "send exactly one JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return domain.Invalid("body", "single_object", "send exactly one JSON object")
	}
	return nil
}

// jsonError names the field a decoding error is about.
func jsonError(err error, body []byte) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return domain.Invalid(field, "type", "expected %s, got JSON %s", typeErr.Type, typeErr.Value)
	case errors.As(err, &syntaxErr):
		return domain.Invalid("body", "json", "malformed JSON at byte %d: %v", syntaxErr.Offset, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return domain.Invalid("body", "json", "empty or truncated JSON body")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return domain.Invalid(name, "unknown_field", "is not a field of this request")
	}
	// Errors from a field's own UnmarshalJSON (a decimal out of range, say)
	// come back without the field's name; find the field by its value.
	var de *domain.Error
	if errors.As(err, &de) {
		return de
	}
	field := "body"
	var doc any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&doc) == nil {
		if path, ok := findLeaf(doc, "", err.Error()); ok {
			field = path
		}
	}
	return domain.Invalid(field, "value", "%v", err)
}

// findLeaf returns the path of the first scalar whose quoted text appears in
// msg: the value an error message is complaining about.
func findLeaf(v any, path, msg string) (string, bool) {
	switch t := v.(type) {
	case map[string]any:
		for k, child := range t {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if found, ok := findLeaf(child, p, msg); ok {
				return found, true
			}
		}
	case []any:
		for i, child := range t {
			if found, ok := findLeaf(child, fmt.Sprintf("%s[%d]", path, i), msg); ok {
				return found, true
			}
		}
	case json.Number:
		return path, strings.Contains(msg, fmt.Sprintf("%q", string(t)))
	case string:
		return path, t != "" && strings.Contains(msg, fmt.Sprintf("%q", t))
	case bool:
		return path, strings.Contains(msg, fmt.Sprintf("%q", fmt.Sprint(t)))
	}
	return "", false
}
