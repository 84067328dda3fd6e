package signing_test

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"kpitrail/signing"
)

func TestKeyFileIsCreatedOnceAndPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "signing.key")
	s, created, err := signing.LoadOrCreateSigner(path)
	if err != nil || !created {
		t.Fatalf("first start: %v, created %v", err, created)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v", info.Mode().Perm(), err)
	}
	again, created, err := signing.LoadOrCreateSigner(path)
	if err != nil || created || again.KeyID() != s.KeyID() {
		t.Fatalf("second start: %v, created %v, key %s want %s", err, created, again.KeyID(), s.KeyID())
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := signing.LoadSigner(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a key others can read was loaded: %v", err)
	}
}

func TestKeyringWindowsAndRotation(t *testing.T) {
	a, _ := signing.Generate()
	b, _ := signing.Generate()
	kr := signing.Trusting(a)
	msg := []byte("kpitrail")
	if err := kr.Verify(a.KeyID(), 7, msg, a.Sign(msg)); err != nil {
		t.Fatal(err)
	}
	if err := kr.Verify(a.KeyID(), 7, []byte("other"), a.Sign(msg)); !errors.Is(err, signing.ErrUntrusted) {
		t.Fatalf("a signature over other bytes: %v", err)
	}
	if err := kr.Verify(b.KeyID(), 7, msg, b.Sign(msg)); !errors.Is(err, signing.ErrUntrusted) {
		t.Fatalf("an unknown key: %v", err)
	}
	if err := kr.AddPending(b.Key()); err != nil {
		t.Fatal(err)
	}
	if err := kr.Verify(b.KeyID(), 20, msg, b.Sign(msg)); err == nil {
		t.Fatal("a pending key was trusted")
	}
	if err := kr.Rotate(a.KeyID(), b.Key(), 10); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key  *signing.Signer
		pos  uint64
		good bool
	}{{a, 10, true}, {a, 11, false}, {b, 10, false}, {b, 11, true}} {
		err := kr.Verify(c.key.KeyID(), c.pos, msg, c.key.Sign(msg))
		if (err == nil) != c.good {
			t.Errorf("key %s at %d: %v", c.key.KeyID(), c.pos, err)
		}
	}
	// The same rotation again is no change; another position for it is.
	if err := kr.Rotate(a.KeyID(), b.Key(), 10); err != nil {
		t.Fatalf("the same rotation twice: %v", err)
	}
	if err := kr.Rotate(a.KeyID(), b.Key(), 12); err == nil {
		t.Fatal("a rotation at another position was accepted")
	}

	// A copy that knows only a learns b from the rotation.
	copyA := signing.Trusting(a)
	if err := copyA.Rotate(a.KeyID(), b.Key(), 10); err != nil {
		t.Fatal(err)
	}
	if err := copyA.Verify(b.KeyID(), 11, msg, b.Sign(msg)); err != nil {
		t.Fatalf("the learned key: %v", err)
	}

	path := filepath.Join(t.TempDir(), "keyring.json")
	kr.AdoptUnsigned(3)
	if err := kr.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := signing.LoadKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := back.Keys(), kr.Keys(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] || back.UnsignedThrough() != 3 {
		t.Fatalf("keyring after a round trip: %+v (unsigned through %d)", got, back.UnsignedThrough())
	}
	tampered := []byte(strings.Replace(mustRead(t, path), b.KeyID(), a.KeyID(), 1))
	if err := os.WriteFile(path, tampered, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := signing.LoadKeyring(path); err == nil {
		t.Fatal("a keyring whose key id does not match its public key was loaded")
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSignaturesAreOrdinaryEd25519 holds the signer to crypto/ed25519:
// every signature, made from the pool or inline, by concurrent signers,
// verifies with ed25519.Verify, fails for another message, and no two
// signatures share a nonce (R), which would give the key away.
func TestSignaturesAreOrdinaryEd25519(t *testing.T) {
	s, err := signing.Generate()
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 4, 300
	sigs := make([][][]byte, workers)
	msgs := make([][][]byte, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m := []byte(fmt.Sprintf("消息 %d/%d", w, i))
				msgs[w] = append(msgs[w], m)
				sigs[w] = append(sigs[w], s.Sign(m))
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for w := range workers {
		for i, sig := range sigs[w] {
			if !ed25519.Verify(s.PublicKey(), msgs[w][i], sig) {
				t.Fatalf("signature %d/%d does not verify", w, i)
			}
			if ed25519.Verify(s.PublicKey(), []byte("another message"), sig) {
				t.Fatal("a signature verifies for another message")
			}
			if R := string(sig[:32]); seen[R] {
				t.Fatalf("nonce reused at %d/%d", w, i)
			} else {
				seen[R] = true
			}
		}
	}
	// A key read back from its file signs for the same public key.
	path := filepath.Join(t.TempDir(), "k.key")
	if err := s.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := signing.LoadSigner(path)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.Verify(s.PublicKey(), []byte("x"), back.Sign([]byte("x"))) {
		t.Fatal("the key read back signs for another public key")
	}
}

func BenchmarkSign(b *testing.B) {
	s, _ := signing.Generate()
	msg := make([]byte, 100)
	for b.Loop() {
		s.Sign(msg)
	}
}

func BenchmarkSignStandard(b *testing.B) {
	_, priv, _ := ed25519.GenerateKey(nil)
	msg := make([]byte, 100)
	for b.Loop() {
		ed25519.Sign(priv, msg)
	}
}
