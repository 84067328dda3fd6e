package domain

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// TestHandEncodedEventsPinTheirFields fails when an event with a hand
// encoder, or a type inside it, gains, loses or retags a field: the
// encoder writes a fixed list.
func TestHandEncodedEventsPinTheirFields(t *testing.T) {
	fields := func(typ reflect.Type) []string {
		var out []string
		for i := range typ.NumField() {
			f := typ.Field(i)
			out = append(out, fmt.Sprintf("%s %s %s", f.Name, f.Type, f.Tag.Get("json")))
		}
		return out
	}
	for typ, want := range map[reflect.Type][]string{
		reflect.TypeFor[FigureReported](): {"Window domain.Window window", "Value domain.Decimal value",
			"Numerator *domain.Decimal numerator,omitempty", "Denominator *domain.Decimal denominator,omitempty",
			"Quality domain.Quality quality", "Source domain.Source source", "FinalDue domain.Date final_due,omitempty",
			"Supersedes string supersedes,omitempty", "Note string note,omitempty"},
		reflect.TypeFor[Window](): {"Year int year", "FromMonth int from_month", "ToMonth int to_month"},
		reflect.TypeFor[Source](): {"Kind domain.SourceKind kind", "Name string name,omitempty"},
	} {
		if got := fields(typ); !slices.Equal(got, want) {
			t.Errorf("%s changed; update its appendJSON and this list:\n got %q\nwant %q", typ, got, want)
		}
	}
	codecs := []reflect.Type{reflect.TypeFor[json.Marshaler](), reflect.TypeFor[encoding.TextMarshaler]()}
	for _, typ := range []reflect.Type{reflect.TypeFor[Quality](), reflect.TypeFor[SourceKind](), reflect.TypeFor[Date](),
		reflect.TypeFor[Window](), reflect.TypeFor[Source]()} {
		for _, c := range codecs {
			if typ.Implements(c) || reflect.PointerTo(typ).Implements(c) {
				t.Errorf("%s is %s now; the hand encoder writes it as plain JSON", typ, c)
			}
		}
	}
}

func checkEncodeEvent(t *testing.T, e Event) {
	t.Helper()
	got, err := encodeEvent(e)
	want, wantErr := json.Marshal(e)
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("%#v: error %v, json.Marshal %v", e, err, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%#v:\n got %s\nwant %s", e, got, want)
	}
}

func TestEncodeEventIsJSONMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	huge := MustDecimal("99999999999999999999999999999999.99")
	for range 20000 {
		e := randValue(r, reflect.TypeFor[FigureReported]()).Addr().Interface().(*FigureReported)
		switch r.IntN(20) {
		case 0:
			e.Value = huge.Mul(huge) // too many digits to store: json.Marshal's error
		case 1:
			x := huge.Mul(huge)
			e.Denominator = &x
		}
		checkEncodeEvent(t, e)
		checkEncodeEvent(t, *e)
	}
	for _, name := range EventNames() {
		checkEncodeEvent(t, registry[name].new()) // the others go through encoding/json
	}
}

func FuzzEncodeEvent(f *testing.F) {
	f.Add("区科委", "本数据为月度预计数，最终以市科委反馈为准", "77.50", "（一）；<&>", 2024, 1, 12)
	f.Add("\u2028\xff\x00\"\\", "", "-1e3", "\t", -1, 0, 13)
	f.Fuzz(func(t *testing.T, name, note, value, text string, year, from, to int) {
		v, err := ParseDecimal(value)
		if err != nil {
			v = Decimal{}
		}
		checkEncodeEvent(t, &FigureReported{Window: Window{Year: year, FromMonth: from, ToMonth: to}, Value: v, Numerator: &v,
			Quality: Quality(text), Source: Source{Kind: SourceKind(name), Name: name}, FinalDue: Date(value), Supersedes: text, Note: note})
	})
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range appendedTexts {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendJSONString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Fatalf("%q: %s, json.Marshal %s", s, got, want)
		}
	})
}

func benchReport() *FigureReported {
	return &FigureReported{Window: Window{Year: 2024, FromMonth: 1, ToMonth: 5}, Value: MustDecimal("650"), Quality: QualityEstimate,
		Source: Source{Kind: SourceSelfReported, Name: "区科委"}, Note: "本数据为月度预计数，最终以市科委反馈为准",
		Supersedes: "0192f3a4-5b6c-7d8e-9f01-23456789abcd"}
}

// BenchmarkNewPendingFigure is encoding a figure report for the store;
// BenchmarkMarshalFigure is encoding/json on the same event.
func BenchmarkNewPendingFigure(b *testing.B) {
	e := benchReport()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewPending(e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalFigure(b *testing.B) {
	e := benchReport()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(e); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDecimalAppendJSONIsMarshalJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	coefs := []string{"0", "1", "-1", "7", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
		"-9223372036854775809", "123456789012345678901234567890", "1000000000000000000"}
	for range 3000 {
		coefs = append(coefs, fmt.Sprint(r.Int64()>>r.IntN(64)*int64(1-2*r.IntN(2))))
	}
	for _, c := range coefs {
		for scale := range 22 {
			d := MustDecimal(c)
			d.scale = scale
			got, err := d.appendJSON([]byte("x"))
			want, wantErr := d.MarshalJSON()
			if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
				t.Fatalf("%s scale %d: error %v, MarshalJSON %v", c, scale, err, wantErr)
			}
			if err == nil && string(got) != "x"+string(want) {
				t.Fatalf("%s scale %d: %s, MarshalJSON %s", c, scale, got, want)
			}
		}
	}
	if got, _ := (Decimal{}).appendJSON(nil); string(got) != `"0"` {
		t.Fatalf("zero value: %s", got)
	}
}
