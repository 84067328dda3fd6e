package signing

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// ErrUntrusted marks a signature no trusted key vouches for.
var ErrUntrusted = errors.New("not signed by a trusted key")

// Key is one trusted public key and the part of the log it may sign. Keys
// are rotated, not edited: a rotation ends the old key's part at the
// position of the rotation event (which the old key signs) and starts the
// new key's part after it. A key stolen after its rotation therefore
// cannot sign anything that readers accept at a later position.
type Key struct {
	ID        string `json:"id"`
	Algorithm string `json:"algorithm"`
	PublicKey string `json:"public_key"` // standard base64 of the 32-byte key
	// ValidAfter is the position after which the key signs (0: from the
	// start of the log).
	ValidAfter uint64 `json:"valid_after,omitempty"`
	// RetiredAfter is the last position the key signed (0: in use).
	RetiredAfter uint64 `json:"retired_after,omitempty"`
	// Pending marks a key written down for a rotation whose event is not
	// in the log yet: it is trusted for nothing until the rotation is.
	Pending bool `json:"pending,omitempty"`
}

// signsAt reports whether the key may sign the message at position.
func (k Key) signsAt(position uint64) bool {
	return !k.Pending && position > k.ValidAfter && (k.RetiredAfter == 0 || position <= k.RetiredAfter)
}

func (k Key) public() (ed25519.PublicKey, error) {
	if k.Algorithm != Algorithm {
		return nil, fmt.Errorf("key %s: algorithm %q, want %q", k.ID, k.Algorithm, Algorithm)
	}
	b, err := base64.StdEncoding.DecodeString(k.PublicKey)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("key %s: public_key is not %d bytes of base64", k.ID, ed25519.PublicKeySize)
	}
	pub := ed25519.PublicKey(b)
	if id := KeyID(pub); id != k.ID {
		return nil, fmt.Errorf("key %s: the public key's id is %s", k.ID, id)
	}
	return pub, nil
}

// Keyring is the set of keys a reader trusts. It is safe for concurrent
// use: the store reads it on every message while a rotation changes it.
type Keyring struct {
	mu   sync.RWMutex
	keys []Key
	pub  map[string]ed25519.PublicKey
	// unsignedThrough accepts unsigned messages up to this position: the
	// history a data directory had before its first signing key, adopted
	// by the operator when that key was made. 0: none.
	unsignedThrough uint64
}

// keyringFile is the file form of a keyring.
type keyringFile struct {
	Format          int    `json:"format"`
	Keys            []Key  `json:"keys"`
	UnsignedThrough uint64 `json:"unsigned_through,omitempty"`
}

// NewKeyring trusts the given keys.
func NewKeyring(keys ...Key) (*Keyring, error) {
	k := &Keyring{pub: map[string]ed25519.PublicKey{}}
	for _, key := range keys {
		if err := k.add(key); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// Trusting is a keyring of the signers' keys, each valid from the start:
// for tests and for stores that live in one process.
func Trusting(signers ...*Signer) *Keyring {
	k := &Keyring{pub: map[string]ed25519.PublicKey{}}
	for _, s := range signers {
		k.keys = append(k.keys, s.Key())
		k.pub[s.id] = s.pub
	}
	return k
}

func (k *Keyring) add(key Key) error {
	pub, err := key.public()
	if err != nil {
		return err
	}
	if _, dup := k.pub[key.ID]; dup {
		return fmt.Errorf("key %s is in the keyring twice", key.ID)
	}
	k.keys = append(k.keys, key)
	k.pub[key.ID] = pub
	return nil
}

// LoadKeyring reads a keyring file.
func LoadKeyring(path string) (*Keyring, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f keyringFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("keyring %s: %w", path, err)
	}
	if f.Format != 1 {
		return nil, fmt.Errorf("keyring %s: format %d, want 1", path, f.Format)
	}
	k, err := NewKeyring(f.Keys...)
	if err != nil {
		return nil, fmt.Errorf("keyring %s: %w", path, err)
	}
	k.unsignedThrough = f.UnsignedThrough
	return k, nil
}

// Save writes the keyring to path atomically. It holds public keys only.
func (k *Keyring) Save(path string) error {
	data, err := k.MarshalJSON()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return writeFileAtomic(path, append(data, '\n'), 0o644)
}

// MarshalJSON is the file form, as `GET /v1/audit/keys` serves it.
func (k *Keyring) MarshalJSON() ([]byte, error) {
	k.mu.RLock()
	f := keyringFile{Format: 1, Keys: slices.Clone(k.keys), UnsignedThrough: k.unsignedThrough}
	k.mu.RUnlock()
	return json.MarshalIndent(f, "", "  ")
}

// Clone returns an independent copy (an auditor's working copy, which
// learns rotations from the log without changing the file's keyring).
func (k *Keyring) Clone() *Keyring {
	k.mu.RLock()
	defer k.mu.RUnlock()
	c := &Keyring{keys: slices.Clone(k.keys), pub: make(map[string]ed25519.PublicKey, len(k.pub)), unsignedThrough: k.unsignedThrough}
	for id, p := range k.pub {
		c.pub[id] = p
	}
	return c
}

// Keys lists the keys in the order they were added.
func (k *Keyring) Keys() []Key {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return slices.Clone(k.keys)
}

// Key returns the entry of id.
func (k *Keyring) Key(id string) (Key, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	i := k.index(id)
	if i < 0 {
		return Key{}, false
	}
	return k.keys[i], true
}

func (k *Keyring) index(id string) int {
	return slices.IndexFunc(k.keys, func(key Key) bool { return key.ID == id })
}

// UnsignedThrough is the last position of adopted unsigned history.
func (k *Keyring) UnsignedThrough() uint64 {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.unsignedThrough
}

// AdoptUnsigned accepts the unsigned messages at positions 1..position.
func (k *Keyring) AdoptUnsigned(position uint64) {
	k.mu.Lock()
	k.unsignedThrough = position
	k.mu.Unlock()
}

// Verify checks that the key id may sign at position and signed msg.
func (k *Keyring) Verify(id string, position uint64, msg, sig []byte) error {
	k.mu.RLock()
	i := k.index(id)
	var key Key
	if i >= 0 {
		key = k.keys[i]
	}
	pub := k.pub[id]
	k.mu.RUnlock()
	switch {
	case i < 0:
		return fmt.Errorf("%w: key %q is not in the keyring", ErrUntrusted, id)
	case !key.signsAt(position):
		return fmt.Errorf("%w: key %s does not sign position %d (%s)", ErrUntrusted, id, position, key.window())
	case !ed25519.Verify(pub, msg, sig):
		return fmt.Errorf("%w: the signature of key %s does not match the content", ErrUntrusted, id)
	}
	return nil
}

// VerifyStatement checks a signature made outside the log (a root
// statement): the key must be trusted and not pending, whatever its window.
func (k *Keyring) VerifyStatement(id string, msg, sig []byte) error {
	k.mu.RLock()
	i := k.index(id)
	pub := k.pub[id]
	pending := i >= 0 && k.keys[i].Pending
	k.mu.RUnlock()
	switch {
	case i < 0:
		return fmt.Errorf("%w: key %q is not in the keyring", ErrUntrusted, id)
	case pending:
		return fmt.Errorf("%w: key %s is pending", ErrUntrusted, id)
	case !ed25519.Verify(pub, msg, sig):
		return fmt.Errorf("%w: the signature of key %s does not match the statement", ErrUntrusted, id)
	}
	return nil
}

func (k Key) window() string {
	switch {
	case k.Pending:
		return "pending rotation"
	case k.RetiredAfter > 0:
		return fmt.Sprintf("valid after %d through %d", k.ValidAfter, k.RetiredAfter)
	}
	return fmt.Sprintf("valid after %d", k.ValidAfter)
}

// AddPending writes down the next key of a rotation: trusted for nothing
// until Rotate records the rotation's position.
func (k *Keyring) AddPending(key Key) error {
	key.Pending, key.ValidAfter, key.RetiredAfter = true, 0, 0
	k.mu.Lock()
	defer k.mu.Unlock()
	if i := k.index(key.ID); i >= 0 {
		if k.keys[i].PublicKey != key.PublicKey {
			return fmt.Errorf("key %s is in the keyring with another public key", key.ID)
		}
		return nil
	}
	return k.add(key)
}

// Drop removes a pending key whose rotation never reached the log.
func (k *Keyring) Drop(id string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if i := k.index(id); i >= 0 && k.keys[i].Pending {
		k.keys = slices.Delete(k.keys, i, i+1)
		delete(k.pub, id)
	}
}

// Rotate records a rotation event at position: the old key signs through
// position, the new one after it. A keyring that does not know the new key
// learns it, which is how an auditor's copy follows rotations: the event
// introducing the new key is signed by the old, already trusted, key. A
// keyring that knows either key with another window refuses.
func (k *Keyring) Rotate(oldID string, next Key, position uint64) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	oi := k.index(oldID)
	if oi < 0 {
		return fmt.Errorf("rotation at %d: the retired key %s is not in the keyring", position, oldID)
	}
	if r := k.keys[oi].RetiredAfter; r != 0 && r != position {
		return fmt.Errorf("rotation at %d: key %s is recorded as retired after %d", position, oldID, r)
	}
	ni := k.index(next.ID)
	if ni < 0 {
		next.ValidAfter, next.RetiredAfter, next.Pending = position, 0, false
		if err := k.add(next); err != nil {
			return fmt.Errorf("rotation at %d: %w", position, err)
		}
		ni = len(k.keys) - 1
	} else {
		have := k.keys[ni]
		if have.PublicKey != next.PublicKey {
			return fmt.Errorf("rotation at %d: key %s is in the keyring with another public key", position, next.ID)
		}
		if !have.Pending && have.ValidAfter != position {
			return fmt.Errorf("rotation at %d: key %s is recorded as valid after %d", position, next.ID, have.ValidAfter)
		}
		k.keys[ni].Pending, k.keys[ni].ValidAfter = false, position
	}
	k.keys[oi].RetiredAfter = position
	return nil
}
