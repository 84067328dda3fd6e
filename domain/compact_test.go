package domain

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

var compactCases = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e3`, `-12.50E-2`, `1E+2`, `true`, `false`, `null`, ` {"a" : [ 1 , 2 ] } `,
	"{\n\t\"note\": \"本数据为月度预计数，最终以市科委反馈为准\",\r\n \"v\": \"719\"}",
	`{"window":{"year":2024,"from_month":1,"to_month":5},"value":"650","quality":"estimate"}`,
	`["\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE80", "<>&", "` + "\u2028\xff\xfe" + `"]`,
	`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
	`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
	// Not JSON:
	``, ` `, `{`, `}`, `[}`, `{]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`, `{,}`, `{"a":1 "b":2}`, `{1:2}`,
	`01`, `1.`, `.5`, `-`, `1e`, `1e+`, `+1`, `0x10`, `tru`, `nul`, `truex`, `"abc`, `"a` + "\x01" + `"`, `"\x"`, `"\u12"`,
	`"\u12g4"`, `{} {}`, `1 2`, "\ufeff{}", `NaN`, `[1]]`, `{"a":1}}`, `"\`,
}

func TestAppendCompactJSONIsJSONCompact(t *testing.T) {
	fast := 0
	for _, c := range compactCases {
		checkCompact(t, []byte(c))
		if _, ok := appendCompactFast(nil, []byte(c)); ok {
			fast++
		}
	}
	if fast < 15 {
		t.Fatalf("fast path taken for %d cases only", fast)
	}
}

// TestAppendCompactJSONFastOnPayloads: what NewPending writes takes the
// fast path.
func TestAppendCompactJSONFastOnPayloads(t *testing.T) {
	ev := &FigureReported{Window: YearWindow(2024), Value: MustDecimal("719.5"), Quality: QualityEstimate,
		Source: Source{Kind: SourceSelfReported, Name: "区科委"}, Note: "本数据为月度预计数，最终以市科委反馈为准 <&> \u2028 \"q\""}
	for _, e := range []Event{ev, &TaskNarrativeRecorded{Items: []string{"（一）", "", "\t"}}, &TaskWithdrawn{}} {
		p, err := NewPending(e)
		if err != nil {
			t.Fatal(err)
		}
		out, ok := appendCompactFast([]byte("prefix"), p.Payload)
		if !ok || string(out) != "prefix"+string(p.Payload) {
			t.Fatalf("%s: fast path %v, %s", p.Name, ok, out)
		}
	}
}

func checkCompact(t *testing.T, src []byte) {
	t.Helper()
	var want bytes.Buffer
	want.WriteString("prefix")
	wantErr := json.Compact(&want, src)
	got, err := AppendCompactJSON([]byte("prefix"), src)
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("%q: error %v, json.Compact %v", src, err, wantErr)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("%q: %q, json.Compact %q", src, got, want.Bytes())
	}
	if out, ok := appendCompactFast(nil, src); ok && (!json.Valid(src) || !bytes.Equal(out, want.Bytes()[len("prefix"):])) {
		t.Fatalf("%q: fast path accepted it as %q", src, out)
	}
}

func FuzzAppendCompactJSON(f *testing.F) {
	for _, c := range compactCases {
		f.Add([]byte(c))
	}
	f.Add([]byte(strings.Repeat("[", 70) + strings.Repeat("]", 70)))
	f.Fuzz(func(t *testing.T, src []byte) { checkCompact(t, src) })
}

func benchPayload(b *testing.B) []byte {
	p, err := NewPending(benchReport())
	if err != nil {
		b.Fatal(err)
	}
	return p.Payload
}

// BenchmarkAppendCompactJSON is reading a figure report's payload for its
// hash; BenchmarkJSONCompact is json.Compact on it.
func BenchmarkAppendCompactJSON(b *testing.B) {
	payload := benchPayload(b)
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AppendCompactJSON(buf, payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkJSONCompact(b *testing.B) {
	payload := benchPayload(b)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := json.Compact(&buf, payload); err != nil {
			b.Fatal(err)
		}
	}
}
