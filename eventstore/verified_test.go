package eventstore_test

import (
	"os"
	"path/filepath"
	"testing"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// TestVerifiedCacheNeverVouchesForAChangedMessage reads a log through a
// store with a verified-message cache, then replaces the stream with one
// whose first message carries the old first message's signature over other
// content, at the same position. The cache holds an entry for position 1
// from the first read; the message must still be judged foreign, while the
// unchanged log read again is judged authentic without a new check.
func TestVerifiedCacheNeverVouchesForAChangedMessage(t *testing.T) {
	emb, s := embeddedStore(t)
	ctx := ctxFor(t)
	cache := filepath.Join(t.TempDir(), "verified.cache")
	ref := domain.AggregateRef{Type: domain.AggregateTask, ID: "city"}
	mustAppendT(t, s, ref, 0, "c1", &domain.TaskRegistered{Year: 2022, Title: "城市更新行动", LeadDepartment: "区住建委"})
	mustAppendT(t, s, ref, 1, "c2", narrativeEvent("新开工2个小区"))
	nc := connect(t, emb)
	cached := openStore(t, nc, eventstore.Config{Signer: s.Signer(), Trust: s.Keyring(), VerifiedCache: cache})
	for pass := range 2 {
		for _, m := range readAllJS(t, cached) {
			if m.Foreign != nil {
				t.Fatalf("pass %d: position %d judged foreign: %v", pass, m.Position, m.Foreign)
			}
		}
	}
	if fi, err := os.Stat(cache); err != nil || fi.Size() != 2*32 {
		t.Fatalf("the cache after reading 2 messages: %v, %v", fi, err)
	}
	if fi, err := os.Stat(cache + ".key"); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != 32 {
		t.Fatalf("the cache's key: %v, %v", fi, err)
	}

	js := s.JetStreamContext()
	stored, err := js.Stream(ctx, s.Config().Stream)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := stored.GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteStream(ctx, s.Config().Stream); err != nil {
		t.Fatal(err)
	}
	openStore(t, nc, eventstore.Config{}) // the stream again, empty
	forged := forgedMessage(t, domain.Envelope{AggregateType: ref.Type, AggregateID: ref.ID}, "换过内容的第一条", nil)
	forged.Header.Set("Kpitrail-Version", "1")
	forged.Header.Set("Kpitrail-Signature", raw.Header.Get("Kpitrail-Signature"))
	if _, err := js.PublishMsg(ctx, forged); err != nil {
		t.Fatal(err)
	}
	got := readAllJS(t, cached)
	if len(got) != 1 || got[0].Position != 1 || got[0].Err != nil || got[0].KeyID != s.Signer().KeyID() {
		t.Fatalf("the replaced stream reads as %+v", got)
	}
	if got[0].Foreign == nil {
		t.Fatal("a message with another message's signature was judged authentic from the cache")
	}
	if err := eventstore.Authentic(s.Keyring(), got[0]); err == nil {
		t.Fatal("the forged message passes Authentic itself: the test proves nothing")
	}
}
