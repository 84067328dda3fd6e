package signing

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"encoding/binary"
	"sync/atomic"

	"filippo.io/edwards25519"
)

// Why kpitrail does not call ed25519.Sign on the append path
//
// An Ed25519 signature is (R, S) with R = r·B for a secret nonce r, and
// S = r + H(R‖A‖M)·a. Computing R is nearly all of a signature's cost
// (about 25 µs of 28 here), and in RFC 8032 r is derived from the message,
// so R can only be computed once the message exists: on the append path,
// between deciding a command and publishing it, where every microsecond is
// latency a writer waits for. Nothing in the verification equation asks
// how r was chosen, only that it is secret, uniform and never used twice.
// So the signer draws each r from its secret prefix, a counter and fresh
// randomness, computes R = r·B ahead of time, in the background, and keeps
// a small pool of (r, R); signing a message then costs two SHA-512 and a
// scalar multiply-add. The signatures are ordinary Ed25519 signatures
// (crypto/ed25519.Verify checks them; signing_test.go holds it to that).
//
// A nonce is taken from the pool by exactly one signature (a channel hands
// it over) and then dropped; the counter makes nonces distinct within a
// process even if the random source repeated, and the random bytes make
// them distinct across processes and restarts.

// noncePool is how many nonces are computed ahead.
const noncePool = 64

type nonce struct {
	r *edwards25519.Scalar
	R []byte // r·B, encoded
}

// secret is the private half of a signer in the form signing uses.
type secret struct {
	a      *edwards25519.Scalar // the clamped secret scalar
	prefix []byte               // the second half of SHA-512(seed)
	pub    []byte

	counter atomic.Uint64
	pool    chan nonce // shared by concurrent signers; each nonce is received once
	filling atomic.Bool
}

func newSecret(priv ed25519.PrivateKey) *secret {
	h := sha512.Sum512(priv.Seed())
	a, err := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
	if err != nil {
		panic(err) // 32 bytes always clamp
	}
	return &secret{a: a, prefix: append([]byte(nil), h[32:]...), pub: append([]byte(nil), priv.Public().(ed25519.PublicKey)...),
		pool: make(chan nonce, noncePool)}
}

// fresh computes one nonce.
func (s *secret) fresh() nonce {
	var z [32 + 8]byte
	if _, err := rand.Read(z[:32]); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	binary.BigEndian.PutUint64(z[32:], s.counter.Add(1))
	d := sha512.New()
	d.Write(s.prefix)
	d.Write(z[:])
	r, err := edwards25519.NewScalar().SetUniformBytes(d.Sum(nil))
	if err != nil {
		panic(err) // 64 bytes are always uniform bytes
	}
	return nonce{r: r, R: new(edwards25519.Point).ScalarBaseMult(r).Bytes()}
}

// take returns a nonce computed ahead when there is one, and makes sure
// the pool is being refilled.
func (s *secret) take() nonce {
	if len(s.pool) < noncePool/2 && s.filling.CompareAndSwap(false, true) {
		go s.fill()
	}
	select {
	case n := <-s.pool:
		return n
	default:
		return s.fresh()
	}
}

// fill tops the pool up, then stops: no goroutine outlives the need.
func (s *secret) fill() {
	defer s.filling.Store(false)
	for len(s.pool) < noncePool {
		select {
		case s.pool <- s.fresh():
		default:
			return
		}
	}
}

// sign returns the Ed25519 signature of msg.
func (s *secret) sign(msg []byte) []byte {
	n := s.take()
	d := sha512.New()
	d.Write(n.R)
	d.Write(s.pub)
	d.Write(msg)
	k, err := edwards25519.NewScalar().SetUniformBytes(d.Sum(nil))
	if err != nil {
		panic(err)
	}
	S := edwards25519.NewScalar().MultiplyAdd(k, s.a, n.r)
	sig := make([]byte, 0, ed25519.SignatureSize)
	sig = append(sig, n.R...)
	return append(sig, S.Bytes()...)
}
