// Package signing holds the instance's Ed25519 signing key and the keyring
// of public keys a reader trusts. Both live in files outside NATS: whoever
// can write to the event stream cannot make kpitrail, or an auditor, trust
// a key of theirs.
//
// The key signs every message kpitrail appends (eventstore) and the root
// statements an auditor keeps (audit). Which messages are kpitrail's is
// decided by eventstore.Authentic against a Keyring; nothing else decides it.
package signing

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Algorithm is the only signature scheme kpitrail writes.
const Algorithm = "ed25519"

// Signer signs with one private key. It is safe for concurrent use.
type Signer struct {
	id   string
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
	sec  *secret
}

// Generate returns a signer with a fresh key from crypto/rand.
func Generate() (*Signer, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return &Signer{id: KeyID(pub), priv: priv, pub: pub, sec: newSecret(priv)}, nil
}

// KeyID names a public key: the first 8 bytes of its SHA-256, in hex. A
// reader finds the key a message names by it; a different key cannot have
// the same id except by a SHA-256 collision on 64 bits, and the signature
// check fails for it anyway.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

func (s *Signer) KeyID() string                { return s.id }
func (s *Signer) PublicKey() ed25519.PublicKey { return s.pub }

// PublicKeyText is the public key as the keyring and events write it.
func (s *Signer) PublicKeyText() string { return base64.StdEncoding.EncodeToString(s.pub) }

// Sign signs msg with a nonce computed ahead (see nonce.go): an ordinary
// Ed25519 signature, made in a fraction of ed25519.Sign's time.
func (s *Signer) Sign(msg []byte) []byte { return s.sec.sign(msg) }

// Key is the signer's public key as a keyring entry, trusted from the
// start of the log.
func (s *Signer) Key() Key {
	return Key{ID: s.id, Algorithm: Algorithm, PublicKey: s.PublicKeyText()}
}

// Save writes the private key as PKCS#8 PEM, readable by its owner only,
// replacing path atomically.
func (s *Signer) Save(path string) error {
	der, err := x509.MarshalPKCS8PrivateKey(s.priv)
	if err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	return writeFileAtomic(path, data, 0o600)
}

// LoadSigner reads a key written by Save (or by `openssl genpkey -algorithm
// ed25519`). A key file others can read is refused: the key is what makes
// kpitrail's messages kpitrail's.
func LoadSigner(path string) (*Signer, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("signing key %s: mode %v lets others read it; chmod 600 it", path, info.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("signing key %s: not a PEM private key", path)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s: a %T, not an Ed25519 key", path, key)
	}
	pub := priv.Public().(ed25519.PublicKey)
	return &Signer{id: KeyID(pub), priv: priv, pub: pub, sec: newSecret(priv)}, nil
}

// LoadOrCreateSigner reads the key at path, or generates one and writes it
// there when there is none yet (the first start on a data directory).
func LoadOrCreateSigner(path string) (s *Signer, created bool, err error) {
	s, err = LoadSigner(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return s, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("signing key: %w", err)
	}
	if s, err = Generate(); err != nil {
		return nil, false, err
	}
	if err := s.Save(path); err != nil {
		return nil, false, err
	}
	return s, true, nil
}

// Frame appends one field of a signed encoding: its length as 8 bytes
// big-endian, then its bytes, as the event hash frames its fields.
func Frame(b []byte, field string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(field)))
	return append(b, field...)
}

// FrameNumber appends a number as an 8-byte field.
func FrameNumber(b []byte, n uint64) []byte {
	b = binary.BigEndian.AppendUint64(b, 8)
	return binary.BigEndian.AppendUint64(b, n)
}

// writeFileAtomic writes data next to path and renames it over path, so a
// crash leaves the old file or the new one, never half of either.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
