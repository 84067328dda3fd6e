package domain

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
)

// sameEvent compares two decoded events field by field: Decimals by
// coefficient and scale (what every Decimal method reads), everything else
// as reflect.DeepEqual does, so a nil slice and an empty one differ.
func sameEvent(a, b reflect.Value) bool {
	if a.Type() != b.Type() {
		return false
	}
	if a.Type() == decimalType {
		da, db := a.Interface().(Decimal), b.Interface().(Decimal)
		return da.scale == db.scale && da.coefficient().Cmp(db.coefficient()) == 0
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameEvent(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameEvent(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameEvent(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return a.Uint() == b.Uint()
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// TestDecodeAppendedIsDecode is the proof obligation of DecodeAppended:
// for every registered event, on values of every shape, it returns what
// Decode returns; and it does so without decoding for every event type
// kpitrail has today, on valid text.
func TestDecodeAppendedIsDecode(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for _, name := range EventNames() {
		spec := registry[name]
		if plan := planEvent(spec); !plan.plan.ok {
			t.Errorf("%s: no copier, every append of it is decoded again", name)
		}
		typ := reflect.TypeOf(spec.new()).Elem()
		copied := 0
		for n := range 2000 {
			ev := randValue(r, typ).Addr().Interface().(Event)
			p, err := NewPending(ev)
			if err != nil {
				continue // not storable: never appended
			}
			env := Envelope{Name: p.Name, SchemaVersion: p.SchemaVersion, AggregateType: spec.aggregate, Payload: p.Payload}
			got, err := DecodeAppended(env, ev, p.Payload)
			if err != nil {
				t.Fatalf("%s case %d: %v", name, n, err)
			}
			want, err := Decode(env)
			if err != nil {
				t.Fatalf("%s case %d: Decode: %v", name, n, err)
			}
			if !sameEvent(reflect.ValueOf(got), reflect.ValueOf(want)) {
				t.Fatalf("%s case %d: DecodeAppended %#v\nDecode %#v\npayload %s", name, n, got, want, p.Payload)
			}
			if _, ok := replicaOf(ev, name, spec); ok {
				copied++
			}
		}
		if copied == 0 {
			t.Errorf("%s: never copied", name)
		}
	}
}

// TestDecodeAppendedSharesNothing: the aggregate keeps what it was given,
// whatever the caller later does to the command the event came from.
func TestDecodeAppendedSharesNothing(t *testing.T) {
	num := MustDecimal("3")
	src := &Source{Kind: SourceAgency, Name: "市科委"}
	ev := &TaskNarrativeRecorded{Items: []string{"（一）", "（二）"}, Source: src}
	p, err := NewPending(ev)
	if err != nil {
		t.Fatal(err)
	}
	env := Envelope{Name: p.Name, SchemaVersion: p.SchemaVersion, AggregateType: AggregateTask, Payload: p.Payload}
	got, err := DecodeAppended(env, ev, p.Payload)
	if err != nil {
		t.Fatal(err)
	}
	ev.Items[0], src.Name = "changed", "changed"
	if n := got.(*TaskNarrativeRecorded); n.Items[0] != "（一）" || n.Source.Name != "市科委" || n.Source == src {
		t.Fatalf("copy shares the decided event's memory: %+v", n)
	}

	fig := &FigureReported{Window: YearWindow(2024), Value: MustDecimal("1.5"), Numerator: &num, Quality: QualityFinal,
		Source: Source{Kind: SourceStatistics}}
	p, err = NewPending(fig)
	if err != nil {
		t.Fatal(err)
	}
	env = Envelope{Name: p.Name, SchemaVersion: p.SchemaVersion, AggregateType: AggregateIndicator, Payload: p.Payload}
	got, err = DecodeAppended(env, fig, p.Payload)
	if err != nil {
		t.Fatal(err)
	}
	*fig.Numerator = MustDecimal("4")
	if g := got.(*FigureReported); g.Numerator == fig.Numerator || g.Numerator.String() != "3" {
		t.Fatalf("copy shares the numerator: %v", g.Numerator)
	}
}

// TestDecodeAppendedDecodesWhatItCannotShow: whenever the envelope is not
// exactly the decided event's encoding under the current schema, or a
// value does not survive JSON, the result is Decode's.
func TestDecodeAppendedDecodesWhatItCannotShow(t *testing.T) {
	ev := &FigureReported{Window: YearWindow(2024), Value: MustDecimal("719"), Quality: QualityEstimate,
		Source: Source{Kind: SourceSelfReported, Name: "区科委"}, Note: "预计"}
	p, err := NewPending(ev)
	if err != nil {
		t.Fatal(err)
	}
	other := *ev
	other.Note = "另一条"
	po, err := NewPending(&other)
	if err != nil {
		t.Fatal(err)
	}
	base := Envelope{Name: p.Name, SchemaVersion: p.SchemaVersion, AggregateType: AggregateIndicator, Payload: p.Payload}
	v1 := json.RawMessage(`{"period":"2024","value":"719","quality":"estimate","source":"区科委"}`)
	for name, c := range map[string]struct {
		env     Envelope
		decided Event
		encoded []byte
	}{
		"stored payload is another's": {env: func() Envelope { e := base; e.Payload = po.Payload; return e }(), decided: ev, encoded: p.Payload},
		"encoding given is another's": {env: base, decided: ev, encoded: po.Payload},
		"old schema version":          {env: func() Envelope { e := base; e.SchemaVersion, e.Payload = 1, v1; return e }(), decided: ev, encoded: v1},
		"wrong aggregate":             {env: func() Envelope { e := base; e.AggregateType = AggregateTask; return e }(), decided: ev, encoded: p.Payload},
		"unknown name":                {env: func() Envelope { e := base; e.Name = "indicator.unknown"; return e }(), decided: ev, encoded: p.Payload},
		"decided under another name":  {env: base, decided: &TaskWithdrawn{Reason: "x"}, encoded: p.Payload},
		"decided as a value":          {env: base, decided: *ev, encoded: p.Payload},
		"no decided event":            {env: base, decided: nil, encoded: p.Payload},
		"nil pointer decided":         {env: base, decided: (*FigureReported)(nil), encoded: p.Payload},
	} {
		got, gotErr := DecodeAppended(c.env, c.decided, c.encoded)
		want, wantErr := Decode(c.env)
		if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
			t.Fatalf("%s: error %v, Decode %v", name, gotErr, wantErr)
		}
		if gotErr == nil && !sameEvent(reflect.ValueOf(got), reflect.ValueOf(want)) {
			t.Fatalf("%s: %#v, Decode %#v", name, got, want)
		}
	}

	// Invalid UTF-8 is stored as U+FFFD: the copy would differ, so it is
	// decoded.
	bad := *ev
	bad.Note = "预\xff计"
	pb, err := NewPending(&bad)
	if err != nil {
		t.Fatal(err)
	}
	env := base
	env.Payload = pb.Payload
	if _, ok := replicaOf(&bad, env.Name, registry[env.Name]); ok {
		t.Fatal("invalid UTF-8 copied")
	}
	got, err := DecodeAppended(env, &bad, pb.Payload)
	if err != nil || got.(*FigureReported).Note != "预\uFFFD计" {
		t.Fatalf("got %#v, %v", got, err)
	}
}

// TestCopierRefusesWhatJSONChanges: kinds and tags whose encoding does not
// read back as the same value get no copier.
func TestCopierRefusesWhatJSONChanges(t *testing.T) {
	type inner struct{ A string }
	type hidden struct {
		A string
		b int
	}
	type embedded struct {
		inner
		B string
	}
	type rec struct{ Next *rec }
	for name, typ := range map[string]reflect.Type{
		"float":            reflect.TypeFor[struct{ F float64 }](),
		"map":              reflect.TypeFor[struct{ M map[string]string }](),
		"interface":        reflect.TypeFor[struct{ I any }](),
		"bytes":            reflect.TypeFor[struct{ B []byte }](),
		"array":            reflect.TypeFor[struct{ A [2]int }](),
		"unexported field": reflect.TypeFor[hidden](),
		"embedded":         reflect.TypeFor[embedded](),
		"dash tag": reflect.TypeFor[struct {
			A string `json:"-"`
		}](),
		"string option": reflect.TypeFor[struct {
			N int `json:"n,string"`
		}](),
		"names equal but for case": reflect.TypeFor[struct {
			A string `json:"note"`
			B string `json:"Note"`
		}](),
		"text codec": reflect.TypeFor[struct{ M RoundingMode }](),
		"recursive":  reflect.TypeFor[rec](),
	} {
		if planOf(typ, map[reflect.Type]bool{}).ok {
			t.Errorf("%s: copied", name)
		}
	}
}

// FuzzDecodeAppended: arbitrary text in a figure report and a narrative
// comes back as Decode reads it.
func FuzzDecodeAppended(f *testing.F) {
	f.Add("区科委", "本数据为月度预计数，最终以市科委反馈为准", "77.50", "（一）；（二）")
	f.Add("<&>", "\u2028\xff", "-1e3", "")
	f.Fuzz(func(t *testing.T, name, note, value, item string) {
		v, err := ParseDecimal(value)
		if err != nil {
			v = Decimal{}
		}
		for _, ev := range []Event{
			&FigureReported{Window: YearWindow(2024), Value: v, Numerator: &v, Quality: Quality(item),
				Source: Source{Kind: SourceKind(name), Name: name}, Note: note, Supersedes: item},
			&TaskNarrativeRecorded{Items: []string{name, note, item}, AsOf: Date(value)},
		} {
			p, err := NewPending(ev)
			if err != nil {
				continue
			}
			spec := registry[p.Name]
			env := Envelope{Name: p.Name, SchemaVersion: p.SchemaVersion, AggregateType: spec.aggregate, Payload: p.Payload}
			got, err := DecodeAppended(env, ev, p.Payload)
			want, werr := Decode(env)
			if (err == nil) != (werr == nil) || (err == nil && !sameEvent(reflect.ValueOf(got), reflect.ValueOf(want))) {
				t.Fatalf("%s: %#v (%v), Decode %#v (%v)", p.Name, got, err, want, werr)
			}
		}
	})
}

func benchFigure(b *testing.B) (Envelope, Event, []byte) {
	ev := &FigureReported{Window: Window{Year: 2024, FromMonth: 1, ToMonth: 5}, Value: MustDecimal("650"), Quality: QualityEstimate,
		Source: Source{Kind: SourceSelfReported, Name: "区科委"}, Note: "本数据为月度预计数，最终以市科委反馈为准",
		Supersedes: "0192f3a4-5b6c-7d8e-9f01-23456789abcd"}
	p, err := NewPending(ev)
	if err != nil {
		b.Fatal(err)
	}
	return Envelope{Name: p.Name, SchemaVersion: p.SchemaVersion, AggregateType: AggregateIndicator, Payload: p.Payload}, ev, p.Payload
}

// BenchmarkDecodeAppended is moving a cached indicator past a figure
// report it has just appended; BenchmarkDecodeFigure is decoding the same
// report, which it replaces.
func BenchmarkDecodeAppended(b *testing.B) {
	env, ev, encoded := benchFigure(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeAppended(env, ev, encoded); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeFigure(b *testing.B) {
	env, _, _ := benchFigure(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(env); err != nil {
			b.Fatal(err)
		}
	}
}
