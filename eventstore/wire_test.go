package eventstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"kpitrail/domain"
)

// encodeMessageJSON is the encoder the store used before the hand-written
// one: the reference both must agree with.
func encodeMessageJSON(envs []domain.Envelope) ([]byte, error) {
	stored := make([]domain.Envelope, len(envs))
	for i, e := range envs {
		e.Position = 0
		stored[i] = e
	}
	return json.Marshal(wireMessage{Format: wireFormat, Events: stored})
}

// TestEnvelopeFieldsAreAllEncoded fails when domain.Envelope gains, loses,
// renames or retags a field: appendEnvelope writes a fixed list.
func TestEnvelopeFieldsAreAllEncoded(t *testing.T) {
	want := []string{
		"ID string id", "Name string name", "SchemaVersion int schema_version",
		"AggregateType string aggregate_type", "AggregateID string aggregate_id",
		"AggregateVersion uint64 aggregate_version", "Position uint64 position,omitempty",
		"Index int index,omitempty", "RecordedAt time.Time recorded_at", "Actor string actor",
		"ActorTokenID string actor_token_id,omitempty", "CommandID string command_id", "CorrelationID string correlation_id,omitempty",
		"CausationID string causation_id,omitempty", "Source string source",
		"Payload json.RawMessage payload", "PrevHash string prev_hash", "Hash string hash",
	}
	var got []string
	typ := reflect.TypeFor[domain.Envelope]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		got = append(got, fmt.Sprintf("%s %s %s", f.Name, f.Type, f.Tag.Get("json")))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("domain.Envelope changed; update appendEnvelope and this list:\n got %q\nwant %q", got, want)
	}
}

// texts mixes what real commands carry (Chinese text, full-width
// punctuation, identifiers) with everything encoding/json escapes.
var texts = []string{
	"", "a", "office:区政府督查室", "区科委", "高新技术企业保有量", "本数据为月度预计数，最终以市科委反馈为准",
	"（一）落实情况：已完成；（二）存在问题：无。", "“引号”与‘单引号’、《书名号》【括号】！？～",
	"ＡＢＣ１２３　全角空格", "import:2024-01-batch", "0192f3a4-5b6c-7d8e-9f01-23456789abcd",
	`quote " and backslash \ and slash /`, "tab\tnewline\ncr\rff\fbs\b", "\x00\x01\x1f\x7f",
	"<script>&amp;</script>", "line\u2028para\u2029end", "bad utf8 \xff\xfe end", "\xe4\xb8", "emoji 🚀 ok",
	"\u00e9\u0301 combining", "\ufeffbom", "\ufffd replacement",
}

func randText(r *rand.Rand) string {
	if r.IntN(4) == 0 {
		return ""
	}
	var b strings.Builder
	for range 1 + r.IntN(3) {
		b.WriteString(texts[r.IntN(len(texts))])
	}
	return b.String()
}

func randPayload(t testing.TB, r *rand.Rand) json.RawMessage {
	switch r.IntN(8) {
	case 0:
		return nil
	case 1:
		return json.RawMessage(`{}`)
	case 2:
		// Whitespace, escapes and HTML characters, as a hand-written
		// payload might have them.
		return json.RawMessage(" {\n\t\"note\" : \"a<b & c>d \u2028\" ,\"n\": [1, 2.5e3, -0, true, null, {\"x\": \"\\u003c\"}]\r\n} ")
	case 3:
		b, err := json.Marshal(map[string]any{"text": randText(r), "list": []string{randText(r), randText(r)}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	v := domain.MustDecimal(fmt.Sprintf("%d.%d", r.IntN(100000), r.IntN(100)))
	ev := &domain.FigureReported{Window: domain.Window{Year: 2024, FromMonth: 1, ToMonth: 1 + r.IntN(12)}, Value: v,
		Quality: domain.QualityEstimate, Source: domain.Source{Kind: domain.SourceSelfReported, Name: randText(r)},
		Note: randText(r), Supersedes: randText(r)}
	p, err := domain.NewPending(ev)
	if err != nil {
		t.Fatal(err)
	}
	return p.Payload
}

func randEnvelope(t testing.TB, r *rand.Rand, i int) domain.Envelope {
	zones := []*time.Location{time.UTC, time.FixedZone("CST", 8*3600), time.FixedZone("", -(3*3600 + 30*60)), time.Local}
	at := time.Date(1990+r.IntN(60), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(4)*r.IntN(1e9), zones[r.IntN(len(zones))])
	if r.IntN(2) == 0 {
		at = at.UTC()
	}
	return domain.Envelope{
		ID: randText(r), Name: randText(r), SchemaVersion: r.IntN(5) - 1,
		AggregateType: randText(r), AggregateID: randText(r), AggregateVersion: r.Uint64() >> r.IntN(64),
		Position: r.Uint64N(3), Index: i * (r.IntN(3) - 1), RecordedAt: at,
		Actor: randText(r), ActorTokenID: randText(r), CommandID: randText(r), CorrelationID: randText(r), CausationID: randText(r),
		Source: randText(r), Payload: randPayload(t, r), PrevHash: randText(r), Hash: randText(r),
	}
}

// decodedEvents reads a body back as a reader of the stream does.
func decodedEvents(t testing.TB, data []byte) []domain.Envelope {
	t.Helper()
	var w wireMessage
	if err := json.Unmarshal(data, &w); err != nil {
		t.Fatalf("stored body does not decode: %v\n%s", err, data)
	}
	return w.Events
}

func TestEncodeMessageIsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 5000 {
		envs := make([]domain.Envelope, 1+r.IntN(3))
		for i := range envs {
			envs[i] = randEnvelope(t, r, i)
		}
		got, err := encodeMessage(envs)
		if err != nil {
			t.Fatalf("case %d: %v", n, err)
		}
		want, err := encodeMessageJSON(envs)
		if err != nil {
			t.Fatalf("case %d: encoding/json: %v", n, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d: bytes differ\n got %s\nwant %s", n, got, want)
		}
		// And, what matters to readers, the same envelopes come back.
		if g, w := decodedEvents(t, got), decodedEvents(t, want); !reflect.DeepEqual(g, w) {
			t.Fatalf("case %d: decoded envelopes differ\n got %+v\nwant %+v", n, g, w)
		}
	}
}

// TestEncodeMessageSealedEnvelopes checks what the store really writes:
// sealed envelopes read back by the store's decoder with their hashes
// intact.
func TestEncodeMessageSealedEnvelopes(t *testing.T) {
	ref := domain.AggregateRef{Type: domain.AggregateIndicator, ID: "区科委-高企"}
	meta := domain.Meta{Actor: "office:区政府督查室", CommandID: "命令-1", CorrelationID: "关联：一", Source: "import:表（一）"}
	var pending []domain.Pending
	for _, ev := range []domain.Event{
		&domain.FigureReported{Window: domain.Window{Year: 2024, FromMonth: 1, ToMonth: 6}, Value: domain.MustDecimal("719.50"),
			Quality: domain.QualityEstimate, Source: domain.Source{Kind: domain.SourceSelfReported, Name: "区科委"},
			Note: "本数据为月度预计数，最终以市科委反馈为准。<b>&</b>\u2028"},
		&domain.TaskNarrativeRecorded{Items: []string{"（一）已完成“双随机”检查；", "（二）全角：ＡＢＣ１２３"}},
	} {
		p, err := domain.NewPending(ev)
		if err != nil {
			t.Fatal(err)
		}
		pending = append(pending, p)
	}
	envs, err := sealed(ref, 41, "prev", meta, time.Date(2024, 6, 30, 23, 59, 59, 123456789, time.FixedZone("CST", 8*3600)), pending)
	if err != nil {
		t.Fatal(err)
	}
	data, err := encodeMessage(envs)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := encodeMessageJSON(envs)
	if !bytes.Equal(data, want) {
		t.Fatalf("bytes differ\n got %s\nwant %s", data, want)
	}
	hdr := nats.Header{}
	hdr.Set(hdrVersion, "43")
	msg := decodeMessage(DefaultSubjectPrefix, Subject(DefaultSubjectPrefix, "huairou", ref), 9, data, hdr)
	if msg.Err != nil {
		t.Fatal(msg.Err)
	}
	for i, e := range msg.Events {
		if h, err := e.ComputeHash(); err != nil || h != envs[i].Hash || e.Hash != envs[i].Hash {
			t.Fatalf("event %d: hash %s (%v), sealed %s", i, h, err, envs[i].Hash)
		}
		if !e.RecordedAt.Equal(envs[i].RecordedAt) || !bytes.Equal(e.Payload, envs[i].Payload) || e.Actor != meta.Actor || e.Source != meta.Source {
			t.Fatalf("event %d differs: %+v", i, e)
		}
	}
}

func TestEncodeMessageRefusesWhatEncodingJSONRefuses(t *testing.T) {
	base := domain.Envelope{ID: "e", RecordedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Payload: json.RawMessage(`{}`)}
	for name, mutate := range map[string]func(*domain.Envelope){
		"payload not JSON":      func(e *domain.Envelope) { e.Payload = json.RawMessage(`{"a":}`) },
		"payload empty":         func(e *domain.Envelope) { e.Payload = json.RawMessage{} },
		"payload two values":    func(e *domain.Envelope) { e.Payload = json.RawMessage(`{} {}`) },
		"payload control char":  func(e *domain.Envelope) { e.Payload = json.RawMessage("\"a\x01\"") },
		"year 10000":            func(e *domain.Envelope) { e.RecordedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"year -1":               func(e *domain.Envelope) { e.RecordedAt = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) },
		"zone offset 24 hours":  func(e *domain.Envelope) { e.RecordedAt = e.RecordedAt.In(time.FixedZone("", 24*3600)) },
		"second event refused":  func(e *domain.Envelope) { e.Payload = json.RawMessage(`[`) },
		"payload trailing junk": func(e *domain.Envelope) { e.Payload = json.RawMessage(`1x`) },
	} {
		e := base
		mutate(&e)
		envs := []domain.Envelope{e}
		if name == "second event refused" {
			envs = []domain.Envelope{base, e}
		}
		if _, err := encodeMessageJSON(envs); err == nil {
			t.Fatalf("%s: encoding/json accepts it; the case is wrong", name)
		}
		if b, err := encodeMessage(envs); err == nil {
			t.Errorf("%s: encoded as %s", name, b)
		}
	}
}

// FuzzEncodeMessage holds the encoder to encoding/json on arbitrary
// strings, payloads and instants: both refuse, or both write the same
// bytes, which decode to the same envelopes.
func FuzzEncodeMessage(f *testing.F) {
	f.Add("office:区政府督查室", "本数据为月度预计数，最终以市科委反馈为准", []byte(`{"value":"719","note":"（一）"}`), int64(1719763199123456789), 0, 8*3600)
	f.Add("<&>", "\u2028\xff\x00\"\\", []byte(" [1, {\"a\" : \"<\u2029>\"} ] "), int64(0), 3, -5*3600)
	f.Add("", "", []byte(`nul`), int64(-62135596800), -1, 0)
	f.Add("a", "b", []byte(nil), int64(253402300800), 1, 86400)
	f.Fuzz(func(t *testing.T, s1, s2 string, payload []byte, unixNano int64, index, offset int) {
		at := time.Unix(0, unixNano).In(time.FixedZone("", offset%(48*3600)))
		e := domain.Envelope{ID: s1, Name: s2, SchemaVersion: index, AggregateType: s2, AggregateID: s1,
			AggregateVersion: uint64(unixNano), Index: index, RecordedAt: at, Actor: s1 + s2, ActorTokenID: s1, CommandID: s2,
			CorrelationID: s1, CausationID: s2, Source: s1, Payload: payload, PrevHash: s2 + s1, Hash: s1}
		envs := []domain.Envelope{e, e}
		got, gotErr := encodeMessage(envs)
		want, wantErr := encodeMessageJSON(envs)
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("errors differ: got %v, encoding/json %v", gotErr, wantErr)
		}
		if gotErr != nil {
			return
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("bytes differ\n got %q\nwant %q", got, want)
		}
		if g, w := decodedEvents(t, got), decodedEvents(t, want); !reflect.DeepEqual(g, w) {
			t.Fatalf("decoded envelopes differ\n got %+v\nwant %+v", g, w)
		}
	})
}

func benchEnvelopes(b *testing.B) []domain.Envelope {
	ev := &domain.FigureReported{Window: domain.Window{Year: 2024, FromMonth: 1, ToMonth: 5}, Value: domain.MustDecimal("650"),
		Quality: domain.QualityEstimate, Source: domain.Source{Kind: domain.SourceSelfReported, Name: "区科委"},
		Note: "本数据为月度预计数，最终以市科委反馈为准", Supersedes: "0192f3a4-5b6c-7d8e-9f01-23456789abcd"}
	p, err := domain.NewPending(ev)
	if err != nil {
		b.Fatal(err)
	}
	meta := domain.Meta{Actor: "office:区政府督查室", CommandID: "one-1234", CorrelationID: "bench", Source: "api"}
	envs, err := sealed(domain.AggregateRef{Type: domain.AggregateIndicator, ID: "one-i5"}, 33, strings.Repeat("ab", 32), meta, time.Now(), []domain.Pending{p})
	if err != nil {
		b.Fatal(err)
	}
	return envs
}

// BenchmarkEncodeMessage is the body of one figure report, as Append
// writes it.
func BenchmarkEncodeMessage(b *testing.B) {
	envs := benchEnvelopes(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeMessage(envs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeMessageJSON is the same body through encoding/json, for
// comparison.
func BenchmarkEncodeMessageJSON(b *testing.B) {
	envs := benchEnvelopes(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeMessageJSON(envs); err != nil {
			b.Fatal(err)
		}
	}
}
