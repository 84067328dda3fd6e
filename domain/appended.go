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

// copier copies src into dst, a zero value of the same type, as
// encoding/json would decode src's encoding; false when it cannot show
// that for this value (the caller decodes instead).
type copier func(dst, src reflect.Value) bool

type eventPlan struct {
	typ  reflect.Type // the pointer type Decode decodes into
	copy copier       // nil: the type is not one DecodeAppended copies
}

var eventPlans sync.Map // event name -> eventPlan

func replicaOf(decided Event, name string, spec eventSpec) (Event, bool) {
	p, ok := eventPlans.Load(name)
	if !ok {
		p, _ = eventPlans.LoadOrStore(name, planEvent(spec))
	}
	plan := p.(eventPlan)
	v := reflect.ValueOf(decided)
	if plan.copy == nil || v.Type() != plan.typ || v.IsNil() || decided.EventName() != name {
		return nil, false
	}
	out := reflect.New(plan.typ.Elem())
	if !plan.copy(out.Elem(), v.Elem()) {
		return nil, false
	}
	ev, ok := out.Interface().(Event)
	return ev, ok
}

// planEvent builds the copier of a registered event's type. Decode reads
// into spec.new(): that must be a pointer to a zero struct, or fields the
// payload leaves out would not read as zero.
func planEvent(spec eventSpec) eventPlan {
	fresh := spec.new()
	v := reflect.ValueOf(fresh)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct || !v.Elem().IsZero() {
		return eventPlan{}
	}
	return eventPlan{typ: v.Type(), copy: copierOf(v.Type().Elem(), map[reflect.Type]bool{})}
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

// copierOf returns the copier of t, or nil when t is not a kind whose
// encoding is known to decode back to an equal value. visiting refuses
// recursive types.
func copierOf(t reflect.Type, visiting map[reflect.Type]bool) copier {
	if t == decimalType {
		// Immutable: the copy shares the coefficient. MarshalJSON writes
		// String() (plain notation, exactly scale digits after the point)
		// and refuses what ParseDecimal would not read back, so the value
		// read is the same coefficient at the same scale.
		return func(dst, src reflect.Value) bool { dst.Set(src); return true }
	}
	if t.Kind() == reflect.Pointer {
		// A pointer is written as what it points to, or null; it has no
		// codec of its own.
		elem := copierOf(t.Elem(), visiting)
		if elem == nil {
			return nil
		}
		return func(dst, src reflect.Value) bool {
			if src.IsNil() {
				return true // null or left out: nil
			}
			p := reflect.New(t.Elem())
			if !elem(p.Elem(), src.Elem()) {
				return false
			}
			dst.Set(p)
			return true
		}
	}
	if customCodec(t) || visiting[t] {
		return nil
	}
	visiting[t] = true
	defer delete(visiting, t)
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return func(dst, src reflect.Value) bool { dst.Set(src); return true }
	case reflect.String:
		// Invalid UTF-8 is written as U+FFFD: not the same string.
		return func(dst, src reflect.Value) bool {
			if !utf8.ValidString(src.String()) {
				return false
			}
			dst.Set(src)
			return true
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return nil // base64
		}
		elem := copierOf(t.Elem(), visiting)
		if elem == nil {
			return nil
		}
		return func(dst, src reflect.Value) bool {
			if src.IsNil() {
				return true // null: nil
			}
			s := reflect.MakeSlice(t, src.Len(), src.Len()) // [] reads as empty, not nil
			for i := range src.Len() {
				if !elem(s.Index(i), src.Index(i)) {
					return false
				}
			}
			dst.Set(s)
			return true
		}
	case reflect.Struct:
		return structCopier(t, visiting)
	}
	return nil // floats, maps, arrays, interfaces and the rest: decoded
}

func structCopier(t reflect.Type, visiting map[reflect.Type]bool) copier {
	type fieldCopier struct {
		index     int
		omitEmpty bool
		slice     bool
		copy      copier
	}
	var fields []fieldCopier
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Anonymous {
			return nil
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || (opts != "" && opts != "omitempty") || !plainJSONName(name) {
			return nil
		}
		if name == "" {
			name = f.Name
		}
		for _, n := range names {
			// The decoder matches keys case-insensitively: keep clear of it.
			if strings.EqualFold(n, name) {
				return nil
			}
		}
		names = append(names, name)
		c := copierOf(f.Type, visiting)
		if c == nil {
			return nil
		}
		fields = append(fields, fieldCopier{index: i, omitEmpty: opts == "omitempty", slice: f.Type.Kind() == reflect.Slice, copy: c})
	}
	return func(dst, src reflect.Value) bool {
		for _, f := range fields {
			sv := src.Field(f.index)
			// An empty slice under omitempty is left out and reads as nil;
			// every other empty value left out reads as itself, the zero.
			if f.omitEmpty && f.slice && sv.Len() == 0 {
				continue
			}
			if !f.copy(dst.Field(f.index), sv) {
				return false
			}
		}
		return true
	}
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
