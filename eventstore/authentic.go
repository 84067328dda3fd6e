package eventstore

import (
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"kpitrail/domain"
	"kpitrail/signing"
)

// hdrSignature carries the signature of a stored message: "<key id>
// <base64 signature>". Stable: it is part of the stored data.
const hdrSignature = "Kpitrail-Signature"

// ErrForeign marks a stored message kpitrail did not write: no signature,
// a key the reader does not trust for its position, or a signature that
// does not match the events.
var ErrForeign = errors.New("foreign message")

// Authentic decides whether a stored message was appended by kpitrail. It
// is the one rule: the write model loads only messages it accepts, the
// readers (Read stamps its verdict on every message it hands to the
// projections and the feed) apply only those, and the audit judges the log
// with it against the auditor's own keyring. A message it refuses is not
// history: it moves no aggregate's chain, so the next genuine event of the
// aggregate still follows the last genuine one.
//
// The signature covers the hashes of the message's events, in order. Each
// hash covers its event's content and the previous event's hash, so the
// signature vouches for every byte of the events and where they attach to
// their aggregate's chain; editing an event and recomputing its hash (and
// the file's checksum) leaves a signature that no longer matches.
func Authentic(trust *signing.Keyring, m Message) error {
	if m.Err != nil {
		return fmt.Errorf("%w: %v", ErrForeign, m.Err)
	}
	if trust == nil {
		return fmt.Errorf("%w: no keyring to judge position %d with", ErrForeign, m.Position)
	}
	if m.KeyID == "" {
		if m.Position <= trust.UnsignedThrough() {
			return nil // history from before the first key, adopted by the operator
		}
		return fmt.Errorf("%w at position %d: it carries no signature", ErrForeign, m.Position)
	}
	if err := trust.Verify(m.KeyID, m.Position, SigningInput(m.Events), m.Signature); err != nil {
		return fmt.Errorf("%w at position %d: %w", ErrForeign, m.Position, err)
	}
	return nil
}

// SigningInput is what a message's signature signs: a fixed label, the
// number of events and each event's hash, framed like the event hash's
// fields.
func SigningInput(events []domain.Envelope) []byte {
	b := make([]byte, 0, 64+len(events)*(8+64))
	b = signing.Frame(b, "kpitrail.message.v1")
	b = signing.FrameNumber(b, uint64(len(events)))
	for i := range events {
		b = signing.Frame(b, events[i].Hash)
	}
	return b
}

// signatureHeader signs the sealed events of one append.
func signatureHeader(s *signing.Signer, events []domain.Envelope) string {
	sig := s.Sign(SigningInput(events))
	return s.KeyID() + " " + base64.RawStdEncoding.EncodeToString(sig)
}

// parseSignature reads the header; anything unreadable is no signature.
func parseSignature(v string) (string, []byte) {
	id, enc, ok := strings.Cut(v, " ")
	if !ok || id == "" {
		return "", nil
	}
	sig, err := base64.RawStdEncoding.DecodeString(enc)
	if err != nil {
		return "", nil
	}
	return id, sig
}

// signatureReserve is room for the signature header: its name, a key id,
// and 64 bytes of signature in base64.
const signatureReserve = len(hdrSignature) + len(": ") + 16 + 1 + 86 + len("\r\n")

// signBatch signs the planned messages, on every core for a large batch:
// a signature costs more than sealing and encoding the message together,
// and planning, which must go in order, is done.
func (s *JetStream) signBatch(b []batchItem) {
	sign := func(from, to int) {
		for k := from; k < to; k++ {
			b[k].msg.Header.Set(hdrSignature, signatureHeader(s.signer, b[k].envs))
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(b)/16)
	if workers < 2 {
		sign(0, len(b))
		return
	}
	var wg sync.WaitGroup
	per := (len(b) + workers - 1) / workers
	for from := 0; from < len(b); from += per {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sign(from, min(from+per, len(b)))
		}()
	}
	wg.Wait()
}
