// Package jsonin decodes request bodies strictly, the same way for every
// transport: valid UTF-8, one object, no unknown fields, no key twice or in
// another case, no broken UTF-16 escapes, and errors that name the field
// and the rule.
package jsonin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"

	"kpitrail/domain"
)

// Decode reads exactly one JSON object from body into dst. UTF-8 is checked
// first because encoding/json silently turns bad bytes into U+FFFD, which
// would change what a department reported; then keys given twice, keys in
// another case than the field's and escapes that are not valid UTF-16 are
// refused (strict.go).
func Decode(body []byte, dst any) error {
	if !utf8.Valid(body) {
		return domain.Invalid("body", "utf8", "request body is not valid UTF-8")
	}
	if err := strict(body, reflect.TypeOf(dst)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, body)
	}
	if _, err := dec.Token(); err != io.EOF {
		return domain.Invalid("body", "single_object", "send exactly one JSON object")
	}
	return nil
}

// decodeError names the field a decoding error is about.
func decodeError(err error, body []byte) error {
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
		if name == "" {
			return domain.Invalid("body", "unknown_field", "a field with an empty name is not part of any request")
		}
		return domain.Invalid(name, "unknown_field", "is not a field of this request")
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return de
	}
	// Errors from a field's own UnmarshalJSON (a decimal out of range, say)
	// come back without the field's name; find the field by its value.
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
