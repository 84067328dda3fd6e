package eventstore

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"sync"

	"kpitrail/signing"
)

// verifiedCache is the instance's own record of the stored messages whose
// signature it has checked (Config.VerifiedCache): a rebuild or replay
// re-reads the whole log, and an Ed25519 check costs more than decoding,
// projecting and writing a message together.
//
// It never vouches for what the store holds now: an entry is a MAC over
// everything Authentic's verdict depends on (the position, the key id, the
// trusted key's bytes and window as the keyring has them now, the events'
// hashes and the signature), as the message is read now. A message whose
// bytes, signature or position changed, or a key whose window changed,
// gives another MAC and is verified in full; only a verdict of authentic is
// recorded. The content itself is covered as in Authentic: the events'
// hashes are signed, and the chain check compares each hash with its
// event's content. The MAC key is a random secret in a file of its own
// beside the cache (mode 0600), so write access to the cache file alone
// cannot vouch for anything; both live in the data directory, like the
// keyring, never in NATS.
//
// The file holds one 32-byte record per position, at (position-1)*32:
// sparse where nothing was recorded, 32 MB per million messages.
type verifiedCache struct {
	f      *os.File
	secret []byte
	// page is the last page read (an unwritten record reads as zeros, which
	// no MAC is but by a 2^-256 chance); a read goes forward through the
	// log, so one page answers the next 128 positions.
	mu   sync.Mutex
	page int64
	buf  [verifiedPage]byte
}

const (
	verifiedRecord = sha256.Size
	verifiedPage   = 4096
)

// openVerifiedCache opens the cache at path and its key at path+".key",
// creating both the first time.
func openVerifiedCache(path string) (*verifiedCache, error) {
	secret, err := verifiedKey(path + ".key")
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	return &verifiedCache{f: f, secret: secret, page: -1}, nil
}

// verifiedKey reads the cache's MAC key, or creates it. A new key makes
// every entry written under the old one worthless, which costs checks,
// never trust.
func verifiedKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(b) == verifiedRecord {
		return b, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, verifiedRecord)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, key, 0o600); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	return key, nil
}

func (c *verifiedCache) Close() error { return c.f.Close() }

// digest is the MAC of what Authentic's verdict on m depends on; ok is
// false for a message the cache does not take (unsigned, or a key the
// keyring does not hold), which Authentic then judges alone.
func (c *verifiedCache) digest(trust *signing.Keyring, m Message) (d [verifiedRecord]byte, ok bool) {
	if m.Err != nil || m.KeyID == "" || m.Position == 0 || trust == nil {
		return d, false
	}
	key, found := trust.Key(m.KeyID)
	if !found {
		return d, false
	}
	mac := hmac.New(sha256.New, c.secret)
	b := signing.Frame(nil, "kpitrail.verified.v1")
	b = signing.FrameNumber(b, m.Position)
	b = signing.Frame(b, key.ID)
	b = signing.Frame(b, key.Algorithm)
	b = signing.Frame(b, key.PublicKey)
	b = signing.FrameNumber(b, key.ValidAfter)
	b = signing.FrameNumber(b, key.RetiredAfter)
	pending := uint64(0)
	if key.Pending {
		pending = 1
	}
	b = signing.FrameNumber(b, pending)
	b = signing.Frame(b, string(m.Signature))
	mac.Write(b)
	mac.Write(SigningInput(m.Events))
	mac.Sum(d[:0])
	return d, true
}

// has reports whether the record at position is d.
func (c *verifiedCache) has(position uint64, d [verifiedRecord]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	off := int64(position-1) * verifiedRecord
	page := off / verifiedPage
	if page != c.page {
		c.page = -1
		n, err := c.f.ReadAt(c.buf[:], page*verifiedPage)
		if err != nil && !errors.Is(err, io.EOF) {
			return false
		}
		clear(c.buf[n:])
		c.page = page
	}
	at := off - page*verifiedPage
	return hmac.Equal(c.buf[at:at+verifiedRecord], d[:])
}

// put records d at position. A failed write costs only a later check.
func (c *verifiedCache) put(position uint64, d [verifiedRecord]byte) {
	off := int64(position-1) * verifiedRecord
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.f.WriteAt(d[:], off); err != nil {
		return
	}
	if page := off / verifiedPage; page == c.page {
		copy(c.buf[off-page*verifiedPage:], d[:])
	}
}
