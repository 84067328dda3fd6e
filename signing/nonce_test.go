package signing

import (
	"bytes"
	"crypto/ed25519"
	"runtime"
	"testing"

	"filippo.io/edwards25519"
)

// TestNonceBatchEncodesEachPoint: every R of a batch is r·B encoded as a
// lone point encodes, and signatures with batch nonces verify.
func TestNonceBatchEncodesEachPoint(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	s := newSecret(priv)
	for _, n := range []int{1, 2, nonceBatch} {
		seen := map[string]bool{}
		for i, nc := range s.freshBatch(n) {
			want := new(edwards25519.Point).ScalarBaseMult(nc.r).Bytes()
			if !bytes.Equal(nc.R, want) {
				t.Fatalf("batch of %d, nonce %d: R %x, want %x", n, i, nc.R, want)
			}
			if seen[string(nc.R)] {
				t.Fatalf("batch of %d: nonce %d repeats", n, i)
			}
			seen[string(nc.R)] = true
		}
	}
	s.fill()
	if len(s.pool) != noncePool {
		t.Fatalf("pool holds %d after a fill, want %d", len(s.pool), noncePool)
	}
	for i := range 2 * noncePool {
		msg := []byte{byte(i), byte(i >> 8)}
		if !ed25519.Verify(priv.Public().(ed25519.PublicKey), msg, s.sign(msg)) {
			t.Fatalf("signature %d does not verify", i)
		}
	}
}

// BenchmarkNonce reports the CPU time of a nonce computed alone and in a
// batch (cpu-ns/nonce, the thread's own time: on a shared machine the
// wall time per op mostly measures the other load).
func BenchmarkNonce(b *testing.B) {
	_, priv, _ := ed25519.GenerateKey(nil)
	s := newSecret(priv)
	b.Run("one", func(b *testing.B) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		c := threadCPU()
		for b.Loop() {
			s.fresh()
		}
		b.ReportMetric(float64(threadCPU()-c)/float64(b.N), "cpu-ns/nonce")
	})
	b.Run("batch", func(b *testing.B) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		c := threadCPU()
		for b.Loop() {
			s.freshBatch(nonceBatch)
		}
		b.ReportMetric(float64(threadCPU()-c)/float64(b.N*nonceBatch), "cpu-ns/nonce")
	})
}
