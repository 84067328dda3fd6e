package domain

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
)

// DecodeAppended returns what Decode(env) returns for an envelope the
// store has just appended, without decoding its payload when that can be
// shown to give back the decided event: the command service moves its
// cached aggregates forward with it, and decoding what it had just encoded
// was a sixth of a command's cost.
//
// encoded must be the payload NewPending made of decided. The event is
// taken as decided only when env carries exactly those bytes under the
// current schema version of decided's name and aggregate (so Decode would
// read them, with no upcast, into a fresh value of decided's type), and
// when decided's type and value are of the kinds whose JSON encoding
// decodes back to an equal value: booleans, integers, valid UTF-8 strings,
// Decimals (written in plain notation with their scale, read back the
// same), structs of exported, uniquely named fields without custom
// encodings, pointers and slices of these. What it returns is then a copy
// equal to what Decode returns: field by field, Decimals equal in value
// and scale, nil and empty slices as encoding/json leaves them, and
// sharing no pointer or slice with decided. Anything else is decoded.
func DecodeAppended(env Envelope, decided Event, encoded []byte) (Event, error) {
	if decided != nil && bytes.Equal(env.Payload, encoded) {
		if spec, ok := registry[env.Name]; ok && spec.aggregate == env.AggregateType && env.SchemaVersion == spec.version {
			if ev, ok := replicaOf(decided, env.Name, spec); ok {
				return ev, nil
			}
		}
	}
	return Decode(env)
}

// A value is copied whole (reflect's Set: one memory copy, sharing
// strings, Decimal coefficients, pointers and slices), then fixed up where
// the copy must differ from a plain one or where JSON must be checked: a
// fixer replaces shared pointers and slices with copies of their own,
// leaves out what omitempty would, and checks that strings are valid
// UTF-8. It returns false when it cannot show the copy equals what
// decoding gives (the caller decodes instead).
type fixer func(dst, src reflect.Value) bool

// typePlan says whether values of a type can be copied (ok) and how to fix
// the whole copy up (fix; nil when the plain copy is already right).
type typePlan struct {
	ok  bool
	fix fixer
}

type eventPlan struct {
	typ  reflect.Type // the pointer type Decode decodes into
	plan typePlan     // of the struct it points to
}

var eventPlans sync.Map // event name -> eventPlan

func replicaOf(decided Event, name string, spec eventSpec) (Event, bool) {
	p, ok := eventPlans.Load(name)
	if !ok {
		p, _ = eventPlans.LoadOrStore(name, planEvent(spec))
	}
	plan := p.(eventPlan)
	v := reflect.ValueOf(decided)
	if !plan.plan.ok || v.Type() != plan.typ || v.IsNil() || decided.EventName() != name {
		return nil, false
	}
	out := reflect.New(plan.typ.Elem())
	out.Elem().Set(v.Elem())
	if plan.plan.fix != nil && !plan.plan.fix(out.Elem(), v.Elem()) {
		return nil, false
	}
	ev, ok := out.Interface().(Event)
	return ev, ok
}

// planEvent plans the copy of a registered event's type. Decode reads
// into spec.new(): that must be a pointer to a zero struct, or fields the
// payload leaves out would not read as zero.
func planEvent(spec eventSpec) eventPlan {
	fresh := spec.new()
	v := reflect.ValueOf(fresh)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct || !v.Elem().IsZero() {
		return eventPlan{}
	}
	return eventPlan{typ: v.Type(), plan: planOf(v.Type().Elem(), map[reflect.Type]bool{})}
}

var (
	decimalType         = reflect.TypeFor[Decimal]()
	jsonMarshalerType   = reflect.TypeFor[json.Marshaler]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func customCodec(t reflect.Type) bool {
	for _, c := range []reflect.Type{t, reflect.PointerTo(t)} {
		if c.Implements(jsonMarshalerType) || c.Implements(jsonUnmarshalerType) ||
			c.Implements(textMarshalerType) || c.Implements(textUnmarshalerType) {
			return true
		}
	}
	return false
}

// planOf plans the copy of t; not ok when t is not a kind whose encoding
// is known to decode back to an equal value. visiting refuses recursive
// types.
func planOf(t reflect.Type, visiting map[reflect.Type]bool) typePlan {
	if t == decimalType {
		// Immutable: the copy shares the coefficient. MarshalJSON writes
		// String() (plain notation, exactly scale digits after the point)
		// and refuses what ParseDecimal would not read back, so the value
		// read is the same coefficient at the same scale.
		return typePlan{ok: true}
	}
	if t.Kind() == reflect.Pointer {
		// A pointer is written as what it points to, or null; it has no
		// codec of its own.
		elem := planOf(t.Elem(), visiting)
		if !elem.ok {
			return typePlan{}
		}
		return typePlan{ok: true, fix: func(dst, src reflect.Value) bool {
			if src.IsNil() {
				return true // null or left out: nil, as copied
			}
			p := reflect.New(t.Elem())
			p.Elem().Set(src.Elem())
			if elem.fix != nil && !elem.fix(p.Elem(), src.Elem()) {
				return false
			}
			dst.Set(p)
			return true
		}}
	}
	if customCodec(t) || visiting[t] {
		return typePlan{}
	}
	visiting[t] = true
	defer delete(visiting, t)
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return typePlan{ok: true}
	case reflect.String:
		// Invalid UTF-8 is written as U+FFFD: not the same string.
		return typePlan{ok: true, fix: func(_, src reflect.Value) bool { return utf8.ValidString(src.String()) }}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return typePlan{} // base64
		}
		elem := planOf(t.Elem(), visiting)
		if !elem.ok {
			return typePlan{}
		}
		return typePlan{ok: true, fix: func(dst, src reflect.Value) bool {
			if src.IsNil() {
				return true // null: nil, as copied
			}
			s := reflect.MakeSlice(t, src.Len(), src.Len()) // [] reads as empty, not nil
			reflect.Copy(s, src)
			for i := 0; elem.fix != nil && i < src.Len(); i++ {
				if !elem.fix(s.Index(i), src.Index(i)) {
					return false
				}
			}
			dst.Set(s)
			return true
		}}
	case reflect.Struct:
		return structPlan(t, visiting)
	}
	return typePlan{} // floats, maps, arrays, interfaces and the rest: decoded
}

func structPlan(t reflect.Type, visiting map[reflect.Type]bool) typePlan {
	type fieldFix struct {
		index     int
		omitEmpty bool // an omitempty slice: left out when empty
		fix       fixer
	}
	var fixes []fieldFix
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Anonymous {
			return typePlan{}
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || (opts != "" && opts != "omitempty") || !plainJSONName(name) {
			return typePlan{}
		}
		if name == "" {
			name = f.Name
		}
		for _, n := range names {
			// The decoder matches keys case-insensitively: keep clear of it.
			if strings.EqualFold(n, name) {
				return typePlan{}
			}
		}
		names = append(names, name)
		p := planOf(f.Type, visiting)
		if !p.ok {
			return typePlan{}
		}
		omitEmptySlice := opts == "omitempty" && f.Type.Kind() == reflect.Slice
		if p.fix != nil || omitEmptySlice {
			fixes = append(fixes, fieldFix{index: i, omitEmpty: omitEmptySlice, fix: p.fix})
		}
	}
	if len(fixes) == 0 {
		return typePlan{ok: true}
	}
	return typePlan{ok: true, fix: func(dst, src reflect.Value) bool {
		for _, f := range fixes {
			sv := src.Field(f.index)
			if f.omitEmpty && sv.Len() == 0 {
				// Left out, and read as nil; every other empty value left
				// out reads as itself, the zero value.
				dst.Field(f.index).SetZero()
				continue
			}
			if f.fix != nil && !f.fix(dst.Field(f.index), sv) {
				return false
			}
		}
		return true
	}}
}

// plainJSONName accepts the tag names kpitrail uses (and the empty name):
// letters, digits and underscores, which encoding/json takes as they are.
func plainJSONName(s string) bool {
	for _, c := range s {
		if !(c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')) {
			return false
		}
	}
	return true
}
