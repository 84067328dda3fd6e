package asyncapi

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"kpitrail/domain"
)

// direction says who writes a message, which decides what its schema
// promises.
type direction int

const (
	// in: a request kpitrail decodes strictly (internal/jsonin): unknown
	// fields are refused, so objects are closed.
	in direction = iota
	// out: a message kpitrail writes. Fields are only ever added, so
	// readers must tolerate ones they do not know: objects stay open.
	out
)

// Schema is a JSON Schema (draft-07, the dialect of AsyncAPI 3.0.0's
// default schema format) as a JSON object.
type Schema = map[string]any

var (
	decimalType = reflect.TypeFor[domain.Decimal]()
	dateType    = reflect.TypeFor[domain.Date]()
	timeType    = reflect.TypeFor[time.Time]()
	rawType     = reflect.TypeFor[json.RawMessage]()
	marshaler   = reflect.TypeFor[json.Marshaler]()
	textMarsh   = reflect.TypeFor[encoding.TextMarshaler]()
)

// Decimals: the domain parses "12", "-3.50", "+7", "1.5e3" or a JSON
// number read from its text (domain.ParseDecimal), and always writes a
// string in plain notation with the reported scale kept.
const (
	decimalInPattern  = `^[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$`
	decimalOutPattern = `^-?[0-9]+(\.[0-9]+)?$`
)

// reflectSchema describes how encoding/json writes or reads values of t,
// from the Go type itself: field names from the json tags, the domain's
// own types (Decimal, Date) by their JSON forms; in what kpitrail writes,
// every field without omitempty is required.
func reflectSchema(t reflect.Type, dir direction) (Schema, error) {
	r := reflector{dir: dir}
	return r.schema(t)
}

type reflector struct {
	dir   direction
	stack []reflect.Type // the structs being described, to refuse a cycle
}

func (r *reflector) schema(t reflect.Type) (Schema, error) {
	switch t {
	case decimalType:
		if r.dir == in {
			return Schema{"description": "an exact decimal: a string such as \"77.50\" (the scale written is kept) or a JSON number, read from its text, never as a float",
				"type": []any{"string", "number"}, "pattern": decimalInPattern}, nil
		}
		return Schema{"type": "string", "pattern": decimalOutPattern, "description": "an exact decimal in plain notation, with the scale it was reported with"}, nil
	case dateType:
		return Schema{"type": "string", "format": "date", "description": "a calendar day YYYY-MM-DD"}, nil
	case timeType:
		return Schema{"type": "string", "format": "date-time"}, nil
	case rawType:
		return Schema{}, nil
	}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
		if t.Implements(marshaler) || reflect.PointerTo(t).Implements(marshaler) {
			return nil, fmt.Errorf("%s has its own JSON form: describe it in asyncapi/schema.go", t)
		}
		if t.Implements(textMarsh) || reflect.PointerTo(t).Implements(textMarsh) {
			return Schema{"type": "string"}, nil
		}
	}
	switch t.Kind() {
	case reflect.Bool:
		return Schema{"type": "boolean"}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return Schema{"type": "integer"}, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Schema{"type": "integer", "minimum": 0}, nil
	case reflect.Float32, reflect.Float64:
		return Schema{"type": "number"}, nil
	case reflect.String:
		return Schema{"type": "string"}, nil
	case reflect.Interface:
		return Schema{}, nil
	case reflect.Pointer:
		return r.schema(t.Elem())
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return Schema{"type": "string", "contentEncoding": "base64"}, nil
		}
		items, err := r.schema(t.Elem())
		if err != nil {
			return nil, err
		}
		return Schema{"type": "array", "items": items}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("%s: map keys must be strings", t)
		}
		values, err := r.schema(t.Elem())
		if err != nil {
			return nil, err
		}
		return Schema{"type": "object", "additionalProperties": values}, nil
	case reflect.Struct:
		return r.object(t)
	}
	return nil, fmt.Errorf("%s: no JSON form", t)
}

// object describes a struct as encoding/json writes it: exported fields,
// embedded structs' fields inlined, names and omitempty from the tags.
func (r *reflector) object(t reflect.Type) (Schema, error) {
	for _, s := range r.stack {
		if s == t {
			return nil, fmt.Errorf("%s contains itself", t)
		}
	}
	r.stack = append(r.stack, t)
	defer func() { r.stack = r.stack[:len(r.stack)-1] }()
	props := Schema{}
	required := []any{}
	if err := r.fields(t, props, &required); err != nil {
		return nil, err
	}
	s := Schema{"type": "object", "properties": props}
	switch {
	case r.dir == in:
		// Which fields a request must send is the command's rules' to
		// say (a year-only window is complete, a blank dimension fine),
		// and they refuse a missing one naming the field: the Go type
		// cannot tell, so the schema does not guess. Unknown fields are
		// refused by the decoder itself.
		s["additionalProperties"] = false
	case len(required) > 0:
		s["required"] = required // encoding/json always writes these
	}
	return s, nil
}

func (r *reflector) fields(t reflect.Type, props Schema, required *[]any) error {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				if err := r.fields(et, props, required); err != nil {
					return err
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		optional := hasOpt(opts, "omitempty") || hasOpt(opts, "omitzero")
		fs, err := r.schema(f.Type)
		if err != nil {
			return fmt.Errorf("%s.%s: %w", t, f.Name, err)
		}
		if hasOpt(opts, "string") {
			fs = Schema{"type": "string", "description": "a JSON string holding the value"}
		}
		if nilable(f.Type) && (optional == (r.dir == in)) {
			// Written: a nil value without omitempty is null. Read: an
			// optional value may be sent as null, which reads as absent.
			fs = Schema{"anyOf": []any{fs, Schema{"type": "null"}}}
		}
		props[name] = fs
		if !optional {
			*required = append(*required, name)
		}
	}
	return nil
}

func nilable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map:
		return t != rawType
	}
	return false
}

func hasOpt(opts, want string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}
