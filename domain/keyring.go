package domain

import (
	"encoding/base64"
	"regexp"
)

// AggregateKeyring holds the rotations of the instance's signing key (one
// aggregate, id "signing").
const AggregateKeyring = "keyring"

// EvKeyRotated records that the signing key changed. The message carrying
// it is signed by the retired key, so a reader that trusts the retired key
// learns the new one from the log without trusting anything the log says
// on its own; the retired key signs nothing after this event, the new key
// everything after it.
const EvKeyRotated = "keyring.key_rotated"

type KeyRotated struct {
	RetiredKeyID string `json:"retired_key_id"`
	KeyID        string `json:"key_id"`
	Algorithm    string `json:"algorithm"`
	PublicKey    string `json:"public_key"`
	Reason       string `json:"reason"`
}

func (KeyRotated) EventName() string { return EvKeyRotated }

func init() {
	register(AggregateKeyring, 1, func() Event { return &KeyRotated{} }, nil)
}

// KeyringLog is the list of rotations.
type KeyringLog struct {
	id      string
	version uint64
	current string
}

func NewKeyringLog(id string) *KeyringLog { return &KeyringLog{id: id} }
func (k *KeyringLog) Ref() AggregateRef   { return AggregateRef{Type: AggregateKeyring, ID: k.id} }
func (k *KeyringLog) Version() uint64     { return k.version }

// Current is the key id the last rotation introduced ("" before any).
func (k *KeyringLog) Current() string { return k.current }

func (k *KeyringLog) Apply(r Recorded) {
	k.version = r.AggregateVersion
	if e, ok := r.Data.(*KeyRotated); ok {
		k.current = e.KeyID
	}
}

var keyIDPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// Rotate decides keyring.key_rotated. Rotations form one line: each
// retires the key the previous one introduced.
func (k *KeyringLog) Rotate(c RotateKey) ([]Event, error) {
	if !keyIDPattern.MatchString(c.RetiredKeyID) {
		return nil, Invalid("retired_key_id", "key_id", "must be 16 lowercase hex digits")
	}
	if !keyIDPattern.MatchString(c.KeyID) {
		return nil, Invalid("key_id", "key_id", "must be 16 lowercase hex digits")
	}
	if c.Algorithm != "ed25519" {
		return nil, Invalid("algorithm", "enum", "must be ed25519, got %q", c.Algorithm)
	}
	if b, err := base64.StdEncoding.DecodeString(c.PublicKey); err != nil || len(b) != 32 {
		return nil, Invalid("public_key", "ed25519", "must be the 32-byte public key in standard base64")
	}
	if err := CheckText("reason", c.Reason, true, MaxLongText); err != nil {
		return nil, err
	}
	if c.KeyID == c.RetiredKeyID {
		return nil, RuleViolation("key_id", "new", "a rotation needs a new key")
	}
	if k.current != "" && c.RetiredKeyID != k.current {
		return nil, RuleViolation("retired_key_id", "current", "the current key is %s", k.current)
	}
	return []Event{&KeyRotated{RetiredKeyID: c.RetiredKeyID, KeyID: c.KeyID, Algorithm: c.Algorithm, PublicKey: c.PublicKey, Reason: c.Reason}}, nil
}

// RotateKey is issued by the server when an admin rotates the signing key;
// the server supplies the key ids and the public key.
type RotateKey struct {
	RetiredKeyID string `json:"retired_key_id"`
	KeyID        string `json:"key_id"`
	Algorithm    string `json:"algorithm"`
	PublicKey    string `json:"public_key"`
	Reason       string `json:"reason"`
}

func (c RotateKey) Target() AggregateRef     { return AggregateRef{Type: AggregateKeyring, ID: "signing"} }
func (c RotateKey) Requires() []AggregateRef { return nil }
func (c RotateKey) CommandName() string      { return "keyring.rotate_key" }
func (c RotateKey) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*KeyringLog).Rotate(c)
}
