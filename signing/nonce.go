package signing

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"encoding/binary"
	"runtime"
	"sync/atomic"

	"filippo.io/edwards25519"
	"filippo.io/edwards25519/field"
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
// randomness, computes R = r·B ahead of time, in the background and in
// batches, and keeps a pool of (r, R); signing a message then costs two
// SHA-512 and a scalar multiply-add. The signatures are ordinary Ed25519 signatures
// (crypto/ed25519.Verify checks them; signing_test.go holds it to that).
//
// A nonce is taken from the pool by exactly one signature (a channel hands
// it over) and then dropped; the counter makes nonces distinct within a
// process even if the random source repeated, and the random bytes make
// them distinct across processes and restarts.

// noncePool is how many nonces are computed ahead. A group commit signs
// a batch of up to a few hundred messages at once, and the pool is filled
// while the batch waits for its sync, so it holds more than one batch:
// each nonce is 64 bytes and a pointer, 512 of them about 50 KB.
const noncePool = 512

// nonceBatch is how many nonces fill computes together. Encoding R needs
// a field inversion (a fifth of a nonce's cost); a batch shares one
// inversion among all its points (Montgomery's trick: three
// multiplications each instead).
const nonceBatch = 32

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
	r := s.scalar()
	return nonce{r: r, R: new(edwards25519.Point).ScalarBaseMult(r).Bytes()}
}

// scalar draws a nonce's secret r.
func (s *secret) scalar() *edwards25519.Scalar {
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
	return r
}

// freshBatch computes n nonces with one field inversion: R = r·B is
// encoded from its affine y and the sign of x, that is Y/Z and X/Z, and
// the inverses of all the Zs come from the inverse of their product.
func (s *secret) freshBatch(n int) []nonce {
	out := make([]nonce, n)
	xs, ys, zs := make([]field.Element, n), make([]field.Element, n), make([]field.Element, n)
	// prefix[i] = Z0·…·Zi
	prefix := make([]field.Element, n)
	var p edwards25519.Point
	for i := range n {
		out[i].r = s.scalar()
		X, Y, Z, _ := p.ScalarBaseMult(out[i].r).ExtendedCoordinates()
		xs[i].Set(X)
		ys[i].Set(Y)
		zs[i].Set(Z)
		if i == 0 {
			prefix[i].Set(Z)
		} else {
			prefix[i].Multiply(&prefix[i-1], Z)
		}
	}
	var inv, zInv, x, y field.Element
	inv.Invert(&prefix[n-1]) // 1/(Z0·…·Zn-1)
	for i := n - 1; i >= 0; i-- {
		if i == 0 {
			zInv.Set(&inv)
		} else {
			zInv.Multiply(&inv, &prefix[i-1]) // 1/Zi
			inv.Multiply(&inv, &zs[i])        // 1/(Z0·…·Zi-1)
		}
		x.Multiply(&xs[i], &zInv)
		y.Multiply(&ys[i], &zInv)
		R := y.Bytes()
		R[31] |= byte(x.IsNegative() << 7)
		out[i].R = R
	}
	return out
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
		for _, n := range s.freshBatch(nonceBatch) {
			select {
			case s.pool <- n:
			default:
				return // full: the rest are dropped, never used
			}
		}
		// A batch is ~0.7 ms of CPU; between batches the goroutines an
		// append waits for (the writer, the connection's reader, an
		// embedded server's) get their turn before the next.
		runtime.Gosched()
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
