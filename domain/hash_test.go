package domain

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

// referenceHash is ComputeHash as it was first written (json.Compact, then
// the fields into a hash one by one): what every stored hash was made with.
func referenceHash(e Envelope) (string, error) {
	var payload bytes.Buffer
	if err := json.Compact(&payload, e.Payload); err != nil {
		return "", fmt.Errorf("hash %s: payload is not JSON: %w", e.ID, err)
	}
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	str := func(s string) { field([]byte(s)) }
	num := func(u uint64) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], u)
		field(n[:])
	}
	if e.ActorTokenID != "" {
		str("kpitrail.event.v2")
	} else {
		str("kpitrail.event.v1")
	}
	str(e.ID)
	str(e.Name)
	num(uint64(e.SchemaVersion))
	str(e.AggregateType)
	str(e.AggregateID)
	num(e.AggregateVersion)
	str(e.RecordedAt.UTC().Format(time.RFC3339Nano))
	str(e.Actor)
	if e.ActorTokenID != "" {
		str(e.ActorTokenID)
	}
	str(e.CommandID)
	str(e.CorrelationID)
	str(e.CausationID)
	str(e.Source)
	field(payload.Bytes())
	str(e.PrevHash)
	return hex.EncodeToString(h.Sum(nil)), nil
}

func TestComputeHashIsTheReference(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	text := func() string { return appendedTexts[r.IntN(len(appendedTexts))] }
	payloads := append([]string{`{}`, ` { "a" : [ 1 , "（一）" ] } `, `{"a":}`, ``, `nul`, `"x` + "\x01" + `"`, "[" + string(bytes.Repeat([]byte("["), 100)) + "]"},
		compactCases...)
	for n := range 5000 {
		at := time.Unix(r.Int64N(1<<40)-1<<39, r.Int64N(1e9)).In(time.FixedZone("", 3600*(r.IntN(27)-13)))
		e := Envelope{
			ID: text(), Name: text(), SchemaVersion: r.IntN(4) - 1, AggregateType: text(), AggregateID: text(),
			AggregateVersion: r.Uint64() >> r.IntN(64), Position: r.Uint64(), Index: r.IntN(3), RecordedAt: at,
			Actor: text(), ActorTokenID: text(), CommandID: text(), CorrelationID: text(), CausationID: text(), Source: text(), PrevHash: text(),
		}
		if r.IntN(3) == 0 {
			e.Payload = json.RawMessage(payloads[r.IntN(len(payloads))])
		} else {
			ev := randValue(r, reflect.TypeFor[FigureReported]()).Addr().Interface().(*FigureReported)
			p, err := NewPending(ev)
			if err != nil {
				continue
			}
			e.Payload = p.Payload
			if r.IntN(4) == 0 {
				var indented bytes.Buffer
				if err := json.Indent(&indented, p.Payload, " ", "\t"); err != nil {
					t.Fatal(err)
				}
				e.Payload = indented.Bytes()
			}
		}
		got, err := e.ComputeHash()
		want, wantErr := referenceHash(e)
		if got != want || (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Fatalf("case %d: %s, %v; reference %s, %v\n%+v", n, got, err, want, wantErr, e)
		}
	}
}

func benchSealed() Envelope {
	p, err := NewPending(benchReport())
	if err != nil {
		panic(err)
	}
	return Envelope{ID: "0192f3a4-5b6c-7d8e-9f01-23456789abce", Name: p.Name, SchemaVersion: p.SchemaVersion,
		AggregateType: AggregateIndicator, AggregateID: "one-i5", AggregateVersion: 33,
		RecordedAt: time.Date(2024, 6, 30, 12, 0, 0, 123456789, time.UTC), Actor: "office:区政府督查室", CommandID: "one-1234",
		CorrelationID: "bench", Source: "api", Payload: p.Payload, PrevHash: "5f1d3c0a9b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817060504"}
}

// BenchmarkComputeHash is sealing (or checking) a figure report;
// BenchmarkReferenceHash is the encoding/json-based original on it.
func BenchmarkComputeHash(b *testing.B) {
	e := benchSealed()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.ComputeHash(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReferenceHash(b *testing.B) {
	e := benchSealed()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := referenceHash(e); err != nil {
			b.Fatal(err)
		}
	}
}
