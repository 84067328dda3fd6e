package jsonin

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"

	"kpitrail/domain"
)

// encoding/json is lenient where a request must not be: a key given twice
// keeps the last value ({"value":"5","value":"6"} stores 6), a key matches
// a field whatever its case ("VALUE" sets value), and an escape that is not
// valid UTF-16 ("\ud800") becomes U+FFFD. Each of those lets a client store
// something other than what it (or a proxy, or an auditor reading the body)
// sees. strict walks the body once before it is decoded, beside the
// destination's type, and refuses all three naming the field.

// maxDepth bounds nesting; no request has more than a few levels.
const maxDepth = 32

// strict checks body against t. It returns nil on JSON it cannot parse:
// the decoder then reports the syntax error as it always has.
func strict(body []byte, t reflect.Type) error {
	w := walker{data: body}
	w.space()
	err := w.value(t, "", 0)
	if err == errSyntax {
		return nil
	}
	return err
}

// errSyntax stops the walk on malformed input.
var errSyntax = fmt.Errorf("syntax")

type walker struct {
	data []byte
	pos  int
}

func (w *walker) space() {
	for w.pos < len(w.data) {
		switch w.data[w.pos] {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return
		}
	}
}

func (w *walker) value(t reflect.Type, path string, depth int) error {
	if depth > maxDepth {
		return domain.Invalid(orBody(path), "max_depth", "nested more than %d levels deep", maxDepth)
	}
	if w.pos >= len(w.data) {
		return errSyntax
	}
	t = concrete(t)
	switch w.data[w.pos] {
	case '{':
		return w.object(t, path, depth)
	case '[':
		return w.array(t, path, depth)
	case '"':
		_, err := w.string(path)
		return err
	default:
		// Numbers and literals: the decoder checks them.
		for w.pos < len(w.data) && !strings.ContainsRune(",]} \t\n\r", rune(w.data[w.pos])) {
			w.pos++
		}
		return nil
	}
}

func (w *walker) object(t reflect.Type, path string, depth int) error {
	w.pos++ // {
	var fields map[string]field
	if t != nil && t.Kind() == reflect.Struct {
		fields = fieldsOf(t)
	}
	seen := map[string]string{} // folded key -> key as written
	for first := true; ; first = false {
		w.space()
		if w.pos >= len(w.data) {
			return errSyntax
		}
		if w.data[w.pos] == '}' {
			w.pos++
			return nil
		}
		if !first {
			if w.data[w.pos] != ',' {
				return errSyntax
			}
			w.pos++
			w.space()
		}
		if w.pos >= len(w.data) || w.data[w.pos] != '"' {
			return errSyntax
		}
		key, err := w.string(path)
		if err != nil {
			return err
		}
		if key == "" {
			return domain.Invalid(orBody(path), "unknown_field", "a field with an empty name is not part of any request")
		}
		child := join(path, key)
		folded := strings.ToLower(key)
		if prev, ok := seen[folded]; ok {
			if prev == key {
				return domain.Invalid(child, "duplicate_key", "appears more than once in the object")
			}
			return domain.Invalid(child, "key_case", "differs from key %q only in case; keys are case-sensitive", prev)
		}
		seen[folded] = key
		var ct reflect.Type
		switch {
		case fields != nil:
			f, ok := fields[key]
			if !ok {
				for name := range fields {
					if strings.EqualFold(name, key) {
						return domain.Invalid(child, "key_case", "is spelled %q in this request; keys are case-sensitive", name)
					}
				}
				return domain.Invalid(child, "unknown_field", "is not a field of this request")
			}
			ct = f.typ
		case t != nil && t.Kind() == reflect.Map:
			ct = t.Elem()
		}
		w.space()
		if w.pos >= len(w.data) || w.data[w.pos] != ':' {
			return errSyntax
		}
		w.pos++
		w.space()
		if err := w.value(ct, child, depth+1); err != nil {
			return err
		}
	}
}

func (w *walker) array(t reflect.Type, path string, depth int) error {
	w.pos++ // [
	var et reflect.Type
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		et = t.Elem()
	}
	for i := 0; ; i++ {
		w.space()
		if w.pos >= len(w.data) {
			return errSyntax
		}
		if w.data[w.pos] == ']' {
			w.pos++
			return nil
		}
		if i > 0 {
			if w.data[w.pos] != ',' {
				return errSyntax
			}
			w.pos++
			w.space()
		}
		if err := w.value(et, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
			return err
		}
	}
}

// string reads a string token and returns its value; path names where it
// is, for an escape that is not valid UTF-16.
func (w *walker) string(path string) (string, error) {
	w.pos++ // "
	var b strings.Builder
	for w.pos < len(w.data) {
		c := w.data[w.pos]
		switch {
		case c == '"':
			w.pos++
			return b.String(), nil
		case c == '\\':
			if w.pos+1 >= len(w.data) {
				return "", errSyntax
			}
			e := w.data[w.pos+1]
			if e != 'u' {
				plain, ok := escapes[e]
				if !ok {
					return "", errSyntax
				}
				b.WriteByte(plain)
				w.pos += 2
				continue
			}
			r, ok := w.hex4(w.pos + 2)
			if !ok {
				return "", errSyntax
			}
			w.pos += 6
			switch {
			case utf16.IsSurrogate(r) && r < 0xDC00:
				low, ok := rune(0), false
				if w.pos+1 < len(w.data) && w.data[w.pos] == '\\' && w.data[w.pos+1] == 'u' {
					low, ok = w.hex4(w.pos + 2)
				}
				if !ok || low < 0xDC00 || low > 0xDFFF {
					return "", domain.Invalid(orBody(path), "utf16_escape", "\\u%04x is half of a surrogate pair without its other half; send the character itself or both halves", r)
				}
				w.pos += 6
				b.WriteRune(utf16.DecodeRune(r, low))
			case utf16.IsSurrogate(r):
				return "", domain.Invalid(orBody(path), "utf16_escape", "\\u%04x is the second half of a surrogate pair without the first", r)
			default:
				b.WriteRune(r)
			}
		default:
			_, n := utf8.DecodeRune(w.data[w.pos:])
			b.Write(w.data[w.pos : w.pos+n])
			w.pos += n
		}
	}
	return "", errSyntax
}

var escapes = map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

func (w *walker) hex4(at int) (rune, bool) {
	if at+4 > len(w.data) {
		return 0, false
	}
	var r rune
	for _, c := range w.data[at : at+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orBody(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// concrete strips pointers; a type that decodes itself (Decimal) or holds
// anything (interface) has no fields to check, so it is nil.
func concrete(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() == reflect.Interface || reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	return t
}

type field struct{ typ reflect.Type }

var fieldCache sync.Map // reflect.Type -> map[string]field

// fieldsOf lists the JSON keys of a struct as encoding/json names them:
// the tag's name or the Go name, embedded structs' fields promoted.
func fieldsOf(t reflect.Type) map[string]field {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]field)
	}
	m := map[string]field{}
	collectFields(t, m, 0)
	fieldCache.Store(t, m)
	return m
}

func collectFields(t reflect.Type, m map[string]field, depth int) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := f.Type
		if f.Anonymous && name == "" {
			et := ft
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct && depth < 8 {
				collectFields(et, m, depth+1)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, taken := m[name]; !taken || depth == 0 {
			m[name] = field{typ: ft}
		}
	}
}
