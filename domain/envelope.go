package domain

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Aggregate types. They are part of subject names and stored data: never rename.
const (
	AggregateTask      = "task"
	AggregateIndicator = "indicator"
)

// AggregateRef names one aggregate instance.
type AggregateRef struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

func (r AggregateRef) String() string { return r.Type + "/" + r.ID }

// Validate checks that the reference can name a stream subject safely.
func (r AggregateRef) Validate() error {
	field := ""
	switch r.Type { // the id's field name, r.Type+"_id", without building it on every call
	case AggregateTask:
		field = AggregateTask + "_id"
	case AggregateIndicator:
		field = AggregateIndicator + "_id"
	case AggregateSnapshot:
		field = AggregateSnapshot + "_id"
	case AggregateCheckpoint:
		field = AggregateCheckpoint + "_id"
	case AggregateYear:
		field = AggregateYear + "_id"
	case AggregateKeyring:
		field = AggregateKeyring + "_id"
	case AggregateAudit:
		field = AggregateAudit + "_id"
	case AggregateUnit:
		field = AggregateUnit + "_id"
	default:
		return Invalid("aggregate_type", "enum", "unknown aggregate type %q", r.Type)
	}
	return ValidateID(field, r.ID)
}

// Meta is who and why behind a command. The server stamps Actor and
// ActorTokenID from the authenticated identity; nothing in a request body
// can set them.
type Meta struct {
	Actor string `json:"actor"`
	// ActorTokenID is the id of the token the actor authenticated with:
	// two tokens issued under one name stamp one Actor, and this tells
	// them apart.
	ActorTokenID  string `json:"actor_token_id,omitempty"`
	CommandID     string `json:"command_id"`
	CorrelationID string `json:"correlation_id,omitempty"`
	CausationID   string `json:"causation_id,omitempty"`
	Source        string `json:"source"` // "api", "nats", "import:<batch id>", "cli"
	// TraceParent and TraceState are the W3C trace context of the write,
	// set only while traces are exported. The store writes them as headers
	// of the stored message so the read side can continue the write's
	// trace; they are never part of an event, its hash or its JSON.
	TraceParent string `json:"-"`
	TraceState  string `json:"-"`
}

// Attribution is whom a run of commands is attributed to: the actor and
// the id of the token they authenticated with, as Meta carries them. The
// paths that stamp many commands at once (import, the demo loader) take one.
type Attribution struct {
	Actor   string
	TokenID string
}

// Validate enforces that no change is unattributed.
func (m Meta) Validate() error {
	if m.Actor == "" {
		return Invalid("actor", "required", "every change needs an actor")
	}
	if m.CommandID == "" {
		return Invalid("command_id", "required", "every change needs a command id")
	}
	if len(m.CommandID) > 128 {
		return Invalid("command_id", "max_length", "at most 128 bytes")
	}
	if m.Source == "" {
		return Invalid("source", "required", "every change needs a source")
	}
	return nil
}

// Pending is an event decided by an aggregate and not yet stored.
type Pending struct {
	Name          string
	SchemaVersion int
	Payload       json.RawMessage
}

// NewPending encodes a domain event for the store.
func NewPending(e Event) (Pending, error) {
	spec, ok := registry[e.EventName()]
	if !ok {
		return Pending{}, fmt.Errorf("event %q is not registered", e.EventName())
	}
	b, err := encodeEvent(e)
	if err != nil {
		return Pending{}, fmt.Errorf("encode %s: %w", e.EventName(), err)
	}
	return Pending{Name: e.EventName(), SchemaVersion: spec.version, Payload: b}, nil
}

// Envelope is one stored event. Everything except Position and Index is
// covered by Hash; Position and Index are where the store put it.
type Envelope struct {
	ID               string          `json:"id"`
	Name             string          `json:"name"`
	SchemaVersion    int             `json:"schema_version"`
	AggregateType    string          `json:"aggregate_type"`
	AggregateID      string          `json:"aggregate_id"`
	AggregateVersion uint64          `json:"aggregate_version"`
	Position         uint64          `json:"position,omitempty"`
	Index            int             `json:"index,omitempty"`
	RecordedAt       time.Time       `json:"recorded_at"`
	Actor            string          `json:"actor"`
	ActorTokenID     string          `json:"actor_token_id,omitempty"`
	CommandID        string          `json:"command_id"`
	CorrelationID    string          `json:"correlation_id,omitempty"`
	CausationID      string          `json:"causation_id,omitempty"`
	Source           string          `json:"source"`
	Payload          json.RawMessage `json:"payload"`
	PrevHash         string          `json:"prev_hash"`
	Hash             string          `json:"hash"`
}

// Ref is the aggregate the envelope belongs to.
func (e Envelope) Ref() AggregateRef { return AggregateRef{Type: e.AggregateType, ID: e.AggregateID} }

// ComputeHash returns the hex SHA-256 of the envelope's canonical encoding.
//
// The encoding is a sequence of length-prefixed fields in a fixed order, so
// no JSON library's key order or escaping can change a hash. The payload is
// compacted first because JSON whitespace is not meaning. PrevHash is part of
// it: that is what chains an aggregate's events, so a deleted, altered,
// inserted or reordered event breaks every hash after it.
//
// An event with an actor token id is encoded as kpitrail.event.v2: the
// same fields, the token id framed right after the actor. An event without
// one (every event from before token ids, and those no token caused) keeps
// the v1 encoding, so its stored hash still verifies. The tag differs
// between the two, so stripping or adding a token id breaks the hash.
func (e Envelope) ComputeHash() (string, error) {
	// The whole encoding is built in one buffer (on the stack for the
	// usual event) and hashed at once: the same bytes as writing the fields
	// to a hash one by one, without an allocation per field.
	var stack [1024]byte
	tag := "kpitrail.event.v1"
	if e.ActorTokenID != "" {
		tag = "kpitrail.event.v2"
	}
	b := appendHashString(stack[:0], tag)
	b = appendHashString(b, e.ID)
	b = appendHashString(b, e.Name)
	b = appendHashNumber(b, uint64(e.SchemaVersion))
	b = appendHashString(b, e.AggregateType)
	b = appendHashString(b, e.AggregateID)
	b = appendHashNumber(b, e.AggregateVersion)
	at := len(b)
	b = e.RecordedAt.UTC().AppendFormat(append(b, make([]byte, 8)...), time.RFC3339Nano)
	binary.BigEndian.PutUint64(b[at:], uint64(len(b)-at-8))
	b = appendHashString(b, e.Actor)
	if e.ActorTokenID != "" {
		b = appendHashString(b, e.ActorTokenID)
	}
	b = appendHashString(b, e.CommandID)
	b = appendHashString(b, e.CorrelationID)
	b = appendHashString(b, e.CausationID)
	b = appendHashString(b, e.Source)
	at = len(b)
	b, err := AppendCompactJSON(append(b, make([]byte, 8)...), e.Payload)
	if err != nil {
		return "", fmt.Errorf("hash %s: payload is not JSON: %w", e.ID, err)
	}
	binary.BigEndian.PutUint64(b[at:], uint64(len(b)-at-8))
	b = appendHashString(b, e.PrevHash)
	sum := sha256.Sum256(b)
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], sum[:])
	return string(out[:]), nil
}

// appendHashString appends one field of the canonical encoding: its
// length as 8 bytes big-endian, then its bytes.
func appendHashString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
}

// appendHashNumber appends a number as a field of 8 bytes, big-endian.
func appendHashNumber(b []byte, u uint64) []byte {
	b = binary.BigEndian.AppendUint64(b, 8)
	return binary.BigEndian.AppendUint64(b, u)
}

// Seal sets PrevHash and Hash.
func (e *Envelope) Seal(prevHash string) error {
	e.PrevHash = prevHash
	h, err := e.ComputeHash()
	if err != nil {
		return err
	}
	e.Hash = h
	return nil
}

// ChainBreak describes one place where an aggregate's chain does not hold.
type ChainBreak struct {
	AggregateType string `json:"aggregate_type"`
	AggregateID   string `json:"aggregate_id"`
	Position      uint64 `json:"position"`
	Version       uint64 `json:"aggregate_version"`
	EventID       string `json:"event_id"`
	Kind          string `json:"kind"` // altered, gap, reordered, inserted
	Detail        string `json:"detail"`
}

// ChainVerifier checks aggregate chains event by event, in log order. It
// keeps only each aggregate's head, so it can walk any log size.
type ChainVerifier struct {
	heads map[AggregateRef]chainHead
}

type chainHead struct {
	version uint64
	hash    string
}

func NewChainVerifier() *ChainVerifier {
	return &ChainVerifier{heads: make(map[AggregateRef]chainHead)}
}

// Check verifies one event against its own hash and its aggregate's head,
// and advances the head. It returns nil when the event is sound.
func (v *ChainVerifier) Check(e Envelope) *ChainBreak {
	ref := e.Ref()
	head := v.heads[ref]
	brk := func(kind, format string, args ...any) *ChainBreak {
		return &ChainBreak{AggregateType: e.AggregateType, AggregateID: e.AggregateID, Position: e.Position,
			Version: e.AggregateVersion, EventID: e.ID, Kind: kind, Detail: fmt.Sprintf(format, args...)}
	}
	// Advance the head whatever we find, so one broken event is reported once
	// and the events after it are judged against what is actually stored.
	defer func() { v.heads[ref] = chainHead{version: e.AggregateVersion, hash: e.Hash} }()
	// Links first: an event that is not where the chain continues is
	// reported as such even if its content was changed too.
	switch {
	case e.AggregateVersion == head.version+1 && e.PrevHash == head.hash:
		got, err := e.ComputeHash()
		if err != nil {
			return brk("altered", "%v", err)
		}
		if got != e.Hash {
			return brk("altered", "content hash %s does not match stored hash %s", short(got), short(e.Hash))
		}
		return nil
	case e.AggregateVersion <= head.version:
		return brk("reordered", "version %d after version %d", e.AggregateVersion, head.version)
	case e.AggregateVersion > head.version+1:
		return brk("gap", "version %d follows version %d: %d event(s) missing", e.AggregateVersion, head.version, e.AggregateVersion-head.version-1)
	default:
		return brk("inserted", "prev_hash %s does not link to the head %s", short(e.PrevHash), short(head.hash))
	}
}

// Seed sets an aggregate's head, to continue verifying from saved state.
func (v *ChainVerifier) Seed(ref AggregateRef, version uint64, hash string) {
	v.heads[ref] = chainHead{version: version, hash: hash}
}

// Inspect checks the events of one message, in order, against their
// aggregate's head without moving it. A break in the links (gap,
// reordered, inserted) is reported first: such a message is not part of
// the chain, and readers skip it without moving the head, as the write
// model does. An "altered" event still links (its stored hash is what the
// next event points to), so readers refuse its content but move past it.
func (v *ChainVerifier) Inspect(events []Envelope) *ChainBreak {
	scratch := &ChainVerifier{heads: map[AggregateRef]chainHead{}}
	var altered *ChainBreak
	for _, e := range events {
		if _, ok := scratch.heads[e.Ref()]; !ok {
			scratch.heads[e.Ref()] = v.heads[e.Ref()]
		}
		brk := scratch.Check(e)
		switch {
		case brk == nil:
		case brk.Kind != "altered":
			return brk
		case altered == nil:
			altered = brk
		}
	}
	return altered
}

// Links reports whether e is the next event of its aggregate by version
// and previous hash, whatever its own content.
func (v *ChainVerifier) Links(e Envelope) bool {
	h := v.heads[e.Ref()]
	return e.AggregateVersion == h.version+1 && e.PrevHash == h.hash
}

// Accept moves the heads past events the caller accepted.
func (v *ChainVerifier) Accept(events []Envelope) {
	for _, e := range events {
		v.heads[e.Ref()] = chainHead{version: e.AggregateVersion, hash: e.Hash}
	}
}

// Heads returns each aggregate's last verified hash.
func (v *ChainVerifier) Heads() map[AggregateRef]string {
	out := make(map[AggregateRef]string, len(v.heads))
	for k, h := range v.heads {
		out[k] = h.hash
	}
	return out
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
