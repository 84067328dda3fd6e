package eventstore_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/signing"
)

// forgedMessage is what a client with write access to the event subjects
// can publish: the next event of the aggregate, correctly hashed and linked
// to its head, signed by a key of the client's own when one is given.
func forgedMessage(t *testing.T, head domain.Envelope, items string, key *signing.Signer) *nats.Msg {
	t.Helper()
	e := domain.Envelope{ID: "forged-" + items, Name: domain.EvTaskNarrativeRecorded, SchemaVersion: 1,
		AggregateType: head.AggregateType, AggregateID: head.AggregateID, AggregateVersion: head.AggregateVersion + 1,
		RecordedAt: time.Now().UTC(), Actor: "office:考评办", CommandID: "forged", Source: "api",
		Payload: json.RawMessage(`{"items":["` + items + `"]}`)}
	if err := e.Seal(head.Hash); err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{"format": 1, "events": []domain.Envelope{e}})
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(eventstore.Subject(eventstore.DefaultSubjectPrefix, domain.DefaultUnitID, head.Ref()))
	m.Data = body
	m.Header.Set("Kpitrail-Version", "3")
	if key != nil {
		sig := key.Sign(eventstore.SigningInput([]domain.Envelope{e}))
		m.Header.Set("Kpitrail-Signature", key.KeyID()+" "+base64.RawStdEncoding.EncodeToString(sig))
	}
	return m
}

// TestForgedMessagesAreNotHistory publishes, straight to an aggregate's
// subject, the next event of its chain, unsigned and signed by a key the
// store does not trust. The write model passes over both, so the next
// genuine command lands at the version the forgeries claimed, and Read
// marks exactly the forgeries.
func TestForgedMessagesAreNotHistory(t *testing.T) {
	emb, s := embeddedStore(t)
	ctx := ctxFor(t)
	ref := domain.AggregateRef{Type: domain.AggregateTask, ID: "city"}
	mustAppendT(t, s, ref, 0, "c1", &domain.TaskRegistered{Year: 2022, Title: "城市更新行动", LeadDepartment: "区住建委"})
	envs := mustAppendT(t, s, ref, 1, "c2", narrativeEvent("新开工2个小区"))
	intruder, err := signing.Generate()
	if err != nil {
		t.Fatal(err)
	}
	js := s.JetStreamContext()
	for _, m := range []*nats.Msg{forgedMessage(t, envs[0], "伪造的进展", nil), forgedMessage(t, envs[0], "另一条伪造", intruder)} {
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// The genuine command decided on version 2 lands on top of version 2:
	// the write model (cached, and loaded cold by a second store) holds no
	// forgery.
	got := mustAppendT(t, s, ref, 2, "c3", narrativeEvent("完成年度任务"))
	if got[0].AggregateVersion != 3 || got[0].PrevHash != envs[0].Hash {
		t.Fatalf("the genuine write: version %d prev %s", got[0].AggregateVersion, got[0].PrevHash)
	}
	// The batch path passes over them too: another forgery, then two
	// commands of the aggregate in one AppendMany.
	if _, err := js.PublishMsg(ctx, forgedMessage(t, got[0], "第三条伪造", nil)); err != nil {
		t.Fatal(err)
	}
	res := s.AppendMany(ctx, []eventstore.AppendRequest{
		{Ref: ref, Expected: 3, Meta: metaFor("c4"), Events: pendingOf(t, narrativeEvent("批量一"))},
		{Ref: ref, Expected: 4, Meta: metaFor("c5"), Events: pendingOf(t, narrativeEvent("批量二"))}})
	for i, r := range res {
		if r.Err != nil || r.Envelopes[0].AggregateVersion != uint64(4+i) {
			t.Fatalf("batched request %d: %+v", i, r)
		}
	}
	cold := openStore(t, connect(t, emb), eventstore.Config{Signer: s.Signer(), Trust: s.Keyring()})
	history, err := cold.Load(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 5 || history[2].ID != got[0].ID || history[4].ID != res[1].Envelopes[0].ID {
		t.Fatalf("cold load holds %d events", len(history))
	}
	var foreign []uint64
	for _, m := range readAllJS(t, cold) {
		if m.Foreign != nil {
			if !errors.Is(m.Foreign, eventstore.ErrForeign) {
				t.Fatalf("verdict %v", m.Foreign)
			}
			foreign = append(foreign, m.Position)
		}
	}
	if len(foreign) != 3 || foreign[0] != 3 || foreign[1] != 4 || foreign[2] != 6 {
		t.Fatalf("foreign positions %v, want [3 4 6]", foreign)
	}
}

// TestRotationRetiresTheOldKey rotates the signing key: the rotation event
// is signed by the old key, what follows by the new one, and a message
// signed by the old key that appears after the rotation (here a genuine
// one published again) is foreign.
func TestRotationRetiresTheOldKey(t *testing.T) {
	emb, _ := embeddedStore(t)
	ctx := ctxFor(t)
	old, err := signing.Generate()
	if err != nil {
		t.Fatal(err)
	}
	kr := signing.Trusting(old)
	s := openStore(t, connect(t, emb), eventstore.Config{Stream: "ROT", SubjectPrefix: "rot.events", Signer: old, Trust: kr})
	ref := domain.AggregateRef{Type: domain.AggregateTask, ID: "t1"}
	first := mustAppendT(t, s, ref, 0, "c1", &domain.TaskRegistered{Year: 2022, Title: "密钥轮换", LeadDepartment: "区政府办"})

	next, err := signing.Generate()
	if err != nil {
		t.Fatal(err)
	}
	if err := kr.AddPending(next.Key()); err != nil {
		t.Fatal(err)
	}
	rot := pendingOf(t, &domain.KeyRotated{RetiredKeyID: old.KeyID(), KeyID: next.KeyID(), Algorithm: signing.Algorithm,
		PublicKey: next.PublicKeyText(), Reason: "年度轮换"})
	rotated, err := s.Rotate(ctx, domain.AggregateRef{Type: domain.AggregateKeyring, ID: "signing"}, 0, metaFor("rot-1"), next, rot...)
	if err != nil {
		t.Fatal(err)
	}
	at := rotated[0].Position
	after := mustAppendT(t, s, ref, 1, "c2", narrativeEvent("轮换之后"))
	if s.Signer().KeyID() != next.KeyID() {
		t.Fatal("the store still signs with the old key")
	}
	if k, _ := kr.Key(old.KeyID()); k.RetiredAfter != at {
		t.Fatalf("old key %+v, want retired after %d", k, at)
	}
	if k, _ := kr.Key(next.KeyID()); k.Pending || k.ValidAfter != at {
		t.Fatalf("new key %+v, want valid after %d", k, at)
	}
	// The first message, signed by the old key, published again.
	raw, err := s.Stream().GetMsg(ctx, first[0].Position)
	if err != nil {
		t.Fatal(err)
	}
	replay := nats.NewMsg(raw.Subject)
	replay.Data = raw.Data
	replay.Header.Set("Kpitrail-Signature", raw.Header.Get("Kpitrail-Signature"))
	if _, err := s.JetStreamContext().PublishMsg(ctx, replay); err != nil {
		t.Fatal(err)
	}
	byPos := map[uint64]eventstore.Message{}
	for _, m := range readAllJS(t, s) {
		byPos[m.Position] = m
	}
	for pos, want := range map[uint64]string{first[0].Position: old.KeyID(), at: old.KeyID(), after[0].Position: next.KeyID()} {
		if m := byPos[pos]; m.Foreign != nil || m.KeyID != want {
			t.Fatalf("position %d: key %s, verdict %v; want key %s", pos, m.KeyID, m.Foreign, want)
		}
	}
	if m := byPos[after[0].Position+1]; m.Foreign == nil || !strings.Contains(m.Foreign.Error(), "does not sign position") {
		t.Fatalf("the old key's message after the rotation: %v", m.Foreign)
	}
	// The retired key cannot sign for a store any more.
	if _, err := eventstore.OpenJetStream(ctx, connect(t, emb), eventstore.Config{Stream: "ROT", SubjectPrefix: "rot.events", Signer: old, Trust: kr}); err == nil {
		t.Fatal("a store opened with a retired signing key")
	}
}

func mustAppendT(t *testing.T, s eventstore.Store, ref domain.AggregateRef, expected uint64, cmd string, events ...domain.Event) []domain.Envelope {
	t.Helper()
	envs, err := s.Append(context.Background(), ref, expected, metaFor(cmd), pendingOf(t, events...)...)
	if err != nil {
		t.Fatal(err)
	}
	return envs
}

func readAllJS(t *testing.T, s *eventstore.JetStream) []eventstore.Message {
	t.Helper()
	var out []eventstore.Message
	if err := s.Read(context.Background(), 0, eventstore.ReadOptions{}, func(m eventstore.Message) error {
		out = append(out, m)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
