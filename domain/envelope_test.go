package domain_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"kpitrail/domain"
)

var envRecordedAt = time.Date(2022, 12, 31, 16, 30, 0, 123456000, time.UTC)

func envFixture() domain.Envelope {
	return domain.Envelope{
		ID: "0194f2a4-7c1e-7b52-9a61-3c2d5e8f9a10", Name: domain.EvFigureReported, SchemaVersion: 2,
		AggregateType: domain.AggregateIndicator, AggregateID: hntechID, AggregateVersion: 3,
		Position: 41, Index: 1, RecordedAt: envRecordedAt,
		Actor: "user:kjw-zhang", CommandID: "cmd-20221231-001", CorrelationID: "import-2022-selfcheck", CausationID: "cmd-20221230-009",
		Source:   "import:2022-selfcheck",
		Payload:  json.RawMessage(`{"window":{"year":2022,"from_month":1,"to_month":12},"value":"610","quality":"estimate","source":{"kind":"agency","name":"市科委"}}`),
		PrevHash: "5f1d3c0a9b8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a392817060504",
	}
}

func mustHash(t *testing.T, e domain.Envelope) string {
	t.Helper()
	h, err := e.ComputeHash()
	if err != nil {
		t.Fatalf("hash: %v", err)
	}
	return h
}

// specHash re-implements the canonical encoding as docs/events.md states it:
// SHA-256 over fields, each an 8-byte big-endian length then the bytes;
// numbers are 8-byte big-endian values framed the same way.
func specHash(e domain.Envelope, compactPayload string) string {
	h := sha256.New()
	frame := func(b []byte) {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(b))))
		h.Write(b)
	}
	num := func(u uint64) { frame(binary.BigEndian.AppendUint64(nil, u)) }
	fields := []any{"kpitrail.event.v1", e.ID, e.Name, uint64(e.SchemaVersion), e.AggregateType, e.AggregateID,
		e.AggregateVersion, e.RecordedAt.UTC().Format(time.RFC3339Nano), e.Actor, e.CommandID, e.CorrelationID,
		e.CausationID, e.Source, compactPayload, e.PrevHash}
	if e.ActorTokenID != "" {
		// v2: the token id is framed right after the actor.
		fields = append([]any{"kpitrail.event.v2"}, fields[1:9]...)
		fields = append(fields, e.ActorTokenID, e.CommandID, e.CorrelationID, e.CausationID, e.Source, compactPayload, e.PrevHash)
	}
	for _, f := range fields {
		switch v := f.(type) {
		case string:
			frame([]byte(v))
		case uint64:
			num(v)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestComputeHashFollowsTheDocumentedEncoding(t *testing.T) {
	e := envFixture()
	if got, want := mustHash(t, e), specHash(e, string(e.Payload)); got != want {
		t.Fatalf("ComputeHash = %s, the documented encoding gives %s", got, want)
	}
	// Stored chains depend on this exact value: a change here orphans every
	// hash already written.
	const golden = "4c8e76d7c1c3f3ffe70d390707be0050351662e3407d28838452e6b82da7772b"
	if got := mustHash(t, e); got != golden {
		t.Errorf("hash of the fixture changed: %s, want %s", got, golden)
	}
	// With an actor token id: the v2 encoding, as documented.
	e.ActorTokenID = "3f9c2a7b1d4e5f60"
	if got, want := mustHash(t, e), specHash(e, string(e.Payload)); got != want {
		t.Fatalf("v2: ComputeHash = %s, the documented encoding gives %s", got, want)
	}
}

// An event's actor token id cannot be added, removed or moved into a
// neighbouring field without breaking its hash.
func TestComputeHashBindsTheActorTokenID(t *testing.T) {
	e := envFixture()
	e.ActorTokenID = "3f9c2a7b1d4e5f60"
	h := mustHash(t, e)
	stripped := e
	stripped.ActorTokenID = ""
	moved := e
	moved.Actor, moved.ActorTokenID = e.Actor+"3f9c2a7b1d4e5f60", ""
	other := e
	other.ActorTokenID = "0000000000000000"
	for name, x := range map[string]domain.Envelope{"stripped": stripped, "moved into actor": moved, "another token": other} {
		if mustHash(t, x) == h {
			t.Errorf("%s: the hash did not change", name)
		}
	}
	// Without a token id an event hashes as v1, as every event stored
	// before token ids did.
	if mustHash(t, stripped) != mustHash(t, envFixture()) {
		t.Error("an event without a token id no longer hashes as v1")
	}
}

func TestComputeHashIsDeterministic(t *testing.T) {
	e := envFixture()
	h1, h2 := mustHash(t, e), mustHash(t, e)
	if h1 != h2 || len(h1) != 64 {
		t.Fatalf("two hashes of the same envelope: %s, %s", h1, h2)
	}
	// A copy decoded from its own JSON hashes the same.
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var back domain.Envelope
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got := mustHash(t, back); got != h1 {
		t.Errorf("hash after a JSON round trip = %s, want %s", got, h1)
	}
}

func TestComputeHashIgnoresPayloadWhitespace(t *testing.T) {
	base := mustHash(t, envFixture())
	for _, p := range []string{
		"{\n  \"window\": {\"year\": 2022, \"from_month\": 1, \"to_month\": 12},\n  \"value\": \"610\",\n  \"quality\": \"estimate\",\n  \"source\": {\"kind\": \"agency\", \"name\": \"市科委\"}\n}\n",
		"\t{ \"window\" :{\"year\":2022,\"from_month\":1,\"to_month\":12} , \"value\":\"610\",\"quality\":\"estimate\",\"source\":{\"kind\":\"agency\",\"name\":\"市科委\"}}  ",
	} {
		e := envFixture()
		e.Payload = json.RawMessage(p)
		if got := mustHash(t, e); got != base {
			t.Errorf("payload %q hashes %s, want %s", p, got, base)
		}
	}
	// Whitespace inside a string is meaning, not layout.
	e := envFixture()
	e.Payload = json.RawMessage(`{"window":{"year":2022,"from_month":1,"to_month":12},"value":"610","quality":"estimate","source":{"kind":"agency","name":"市 科委"}}`)
	if mustHash(t, e) == base {
		t.Error("a space inside a JSON string did not change the hash")
	}
}

func TestComputeHashCoversEveryField(t *testing.T) {
	base := mustHash(t, envFixture())
	changes := map[string]func(*domain.Envelope){
		"ID":               func(e *domain.Envelope) { e.ID += "x" },
		"Name":             func(e *domain.Envelope) { e.Name = domain.EvFigureCorrected },
		"SchemaVersion":    func(e *domain.Envelope) { e.SchemaVersion = 1 },
		"AggregateType":    func(e *domain.Envelope) { e.AggregateType = domain.AggregateTask },
		"AggregateID":      func(e *domain.Envelope) { e.AggregateID = "i-other" },
		"AggregateVersion": func(e *domain.Envelope) { e.AggregateVersion++ },
		"RecordedAt":       func(e *domain.Envelope) { e.RecordedAt = e.RecordedAt.Add(time.Nanosecond) },
		"Actor":            func(e *domain.Envelope) { e.Actor = "user:other" },
		"ActorTokenID":     func(e *domain.Envelope) { e.ActorTokenID = "3f9c2a7b1d4e5f60" },
		"CommandID":        func(e *domain.Envelope) { e.CommandID += "x" },
		"CorrelationID":    func(e *domain.Envelope) { e.CorrelationID = "" },
		"CausationID":      func(e *domain.Envelope) { e.CausationID = "" },
		"Source":           func(e *domain.Envelope) { e.Source = "api" },
		"Payload": func(e *domain.Envelope) {
			e.Payload = json.RawMessage(`{"window":{"year":2022,"from_month":1,"to_month":12},"value":"612","quality":"estimate","source":{"kind":"agency","name":"市科委"}}`)
		},
		"PrevHash": func(e *domain.Envelope) { e.PrevHash = "" },
	}
	// Where the store put an event, and the hash itself, are not hashed.
	notHashed := map[string]func(*domain.Envelope){
		"Position": func(e *domain.Envelope) { e.Position = 99 },
		"Index":    func(e *domain.Envelope) { e.Index = 0 },
		"Hash":     func(e *domain.Envelope) { e.Hash = "anything" },
	}
	// A field added to Envelope must be put in one list or the other.
	typ := reflect.TypeOf(domain.Envelope{})
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		if changes[name] == nil && notHashed[name] == nil {
			t.Errorf("Envelope.%s: decide whether it is hashed and add it to this test and docs/events.md", name)
		}
	}
	for name, change := range changes {
		e := envFixture()
		change(&e)
		if mustHash(t, e) == base {
			t.Errorf("changing %s did not change the hash", name)
		}
	}
	for name, change := range notHashed {
		e := envFixture()
		change(&e)
		if mustHash(t, e) != base {
			t.Errorf("changing %s changed the hash", name)
		}
	}
}

func TestComputeHashFramesFields(t *testing.T) {
	// Length prefixes keep field boundaries: moving a byte from one field
	// to the next must not give the same hash.
	a, b := envFixture(), envFixture()
	a.Actor, a.CommandID = "user:ab", "c"
	b.Actor, b.CommandID = "user:a", "bc"
	if mustHash(t, a) == mustHash(t, b) {
		t.Error("actor/command_id boundary is not part of the hash")
	}
	// Time is hashed as an instant: the zone it was written in is not meaning.
	c := envFixture()
	c.RecordedAt = envRecordedAt.In(time.FixedZone("CST", 8*3600))
	if mustHash(t, c) != mustHash(t, envFixture()) {
		t.Error("the same instant in another zone changed the hash")
	}
}

func TestSeal(t *testing.T) {
	e := envFixture()
	if err := e.Seal("prev"); err != nil {
		t.Fatal(err)
	}
	if e.PrevHash != "prev" || e.Hash != mustHash(t, e) {
		t.Errorf("sealed prev=%q hash=%q, want prev and the computed hash", e.PrevHash, e.Hash)
	}
	bad := envFixture()
	bad.Payload = json.RawMessage(`{"value":`)
	if err := bad.Seal(""); err == nil {
		t.Error("sealing a payload that is not JSON succeeded")
	}
	if bad.Hash != "" {
		t.Errorf("a failed seal set the hash %q", bad.Hash)
	}
}

// chain builds n sealed events of one aggregate, versions 1..n, at log
// positions start, start+1, ...
func chain(t *testing.T, ref domain.AggregateRef, n int, start uint64) []domain.Envelope {
	t.Helper()
	out := make([]domain.Envelope, n)
	prev := ""
	for i := range n {
		e := domain.Envelope{
			ID: fmt.Sprintf("%s-ev-%d", ref.ID, i+1), Name: domain.EvTaskNarrativeRecorded, SchemaVersion: 1,
			AggregateType: ref.Type, AggregateID: ref.ID, AggregateVersion: uint64(i + 1),
			Position: start + uint64(i), RecordedAt: envRecordedAt.Add(time.Duration(i) * time.Minute),
			Actor: "user:ghb", CommandID: fmt.Sprintf("cmd-%d", i+1), Source: "api",
			Payload: json.RawMessage(fmt.Sprintf(`{"items":["第%d次月督办：已组织各单位填报进展情况。"]}`, i+1)),
		}
		if err := e.Seal(prev); err != nil {
			t.Fatal(err)
		}
		prev = e.Hash
		out[i] = e
	}
	return out
}

// reseal recomputes an event's hash over a changed body, as a forger who
// knows the encoding would.
func reseal(t *testing.T, e domain.Envelope) domain.Envelope {
	t.Helper()
	if err := e.Seal(e.PrevHash); err != nil {
		t.Fatal(err)
	}
	return e
}

type brk struct {
	version uint64
	kind    string
}

func verify(log []domain.Envelope) ([]brk, []*domain.ChainBreak, *domain.ChainVerifier) {
	v := domain.NewChainVerifier()
	var got []brk
	var full []*domain.ChainBreak
	for _, e := range log {
		if b := v.Check(e); b != nil {
			got = append(got, brk{b.Version, b.Kind})
			full = append(full, b)
		}
	}
	return got, full, v
}

func TestChainVerifier(t *testing.T) {
	task := domain.AggregateRef{Type: domain.AggregateTask, ID: taskID}
	ind := domain.AggregateRef{Type: domain.AggregateIndicator, ID: hntechID}

	cases := []struct {
		name string
		log  func(t *testing.T, c []domain.Envelope) []domain.Envelope // c is a sound chain of 5
		want []brk
	}{
		{"sound", func(_ *testing.T, c []domain.Envelope) []domain.Envelope { return c }, nil},
		{"altered payload", func(_ *testing.T, c []domain.Envelope) []domain.Envelope {
			c[2].Payload = json.RawMessage(`{"items":["已全部完成。"]}`)
			return c
		}, []brk{{3, "altered"}}},
		{"altered actor", func(_ *testing.T, c []domain.Envelope) []domain.Envelope {
			c[1].Actor = "user:someone-else"
			return c
		}, []brk{{2, "altered"}}},
		{"altered into something that is not JSON", func(_ *testing.T, c []domain.Envelope) []domain.Envelope {
			c[1].Payload = json.RawMessage(`{"items":`)
			return c
		}, []brk{{2, "altered"}}},
		{"the first event deleted", func(_ *testing.T, c []domain.Envelope) []domain.Envelope { return c[1:] }, []brk{{2, "gap"}}},
		{"a middle event deleted", func(_ *testing.T, c []domain.Envelope) []domain.Envelope {
			return append(c[:2:2], c[3:]...)
		}, []brk{{4, "gap"}}},
		{"the last two swapped", func(_ *testing.T, c []domain.Envelope) []domain.Envelope {
			c[3], c[4] = c[4], c[3]
			return c
		}, []brk{{5, "gap"}, {4, "reordered"}}},
		{"a middle pair swapped", func(_ *testing.T, c []domain.Envelope) []domain.Envelope {
			c[1], c[2] = c[2], c[1]
			return c
		}, []brk{{3, "gap"}, {2, "reordered"}, {4, "gap"}}},
		{"an event stored twice", func(_ *testing.T, c []domain.Envelope) []domain.Envelope {
			return append(c[:3:3], c[2], c[3], c[4])
		}, []brk{{3, "reordered"}}},
		{"an event that does not link to the head", func(t *testing.T, c []domain.Envelope) []domain.Envelope {
			forged := c[4]
			forged.ID, forged.AggregateVersion, forged.PrevHash = "forged", 6, c[2].Hash // forked from version 3
			return append(c, reseal(t, forged))
		}, []brk{{6, "inserted"}}},
		{"a first event that links to something", func(t *testing.T, c []domain.Envelope) []domain.Envelope {
			c[0].PrevHash = c[4].Hash
			return []domain.Envelope{reseal(t, c[0])}
		}, []brk{{1, "inserted"}}},
		{"a forged event inserted, the rest renumbered and resealed", func(t *testing.T, c []domain.Envelope) []domain.Envelope {
			forged := c[1]
			forged.ID, forged.Payload = "forged", json.RawMessage(`{"items":["伪造的进展。"]}`)
			out := []domain.Envelope{c[0], reseal(t, forged)} // links to event 1 and is self-consistent
			for _, e := range c[1:] {
				e.AggregateVersion++
				out = append(out, reseal(t, e)) // each prev_hash names a hash that no longer exists
			}
			return out
		}, []brk{{3, "inserted"}, {4, "inserted"}, {5, "inserted"}, {6, "inserted"}}},
		// Without renumbering, the forged event links and the genuine event
		// it displaced is the one flagged: a chain proves that something was
		// inserted, not which of the two events is genuine.
		{"a forged event inserted without renumbering", func(t *testing.T, c []domain.Envelope) []domain.Envelope {
			forged := c[2]
			forged.ID, forged.Payload = "forged", json.RawMessage(`{"items":["伪造的进展。"]}`)
			return append(c[:2:2], reseal(t, forged), c[2], c[3], c[4])
		}, []brk{{3, "reordered"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The other aggregate's events interleave and must stay sound.
			c, o := chain(t, task, 5, 100), chain(t, ind, 3, 200)
			log := tc.log(t, c)
			var mixed []domain.Envelope
			for i, e := range log {
				mixed = append(mixed, e)
				if i < len(o) {
					mixed = append(mixed, o[i])
				}
			}
			if len(log) < len(o) {
				mixed = append(mixed, o[len(log):]...)
			}
			got, full, v := verify(mixed)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("breaks = %v, want %v", got, tc.want)
			}
			for _, b := range full {
				if b.AggregateType != task.Type || b.AggregateID != task.ID || b.EventID == "" || b.Position == 0 || b.Detail == "" {
					t.Errorf("break does not say where it is: %+v", b)
				}
			}
			if h := v.Heads()[ind]; h != o[len(o)-1].Hash {
				t.Errorf("head of the untouched aggregate = %s, want %s", h, o[len(o)-1].Hash)
			}
			if tc.want == nil {
				if h := v.Heads()[task]; h != c[len(c)-1].Hash {
					t.Errorf("head = %s, want %s", h, c[len(c)-1].Hash)
				}
			}
		})
	}
}
