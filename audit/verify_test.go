package audit_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"kpitrail/audit"
	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/internal/natstest"
	"kpitrail/signing"
)

// keyedStore is a store that says which keys sign it (both stores do).
type keyedStore interface {
	eventstore.Store
	Keyring() *signing.Keyring
}

func appendFigures(t *testing.T, s eventstore.Store, ids ...string) {
	t.Helper()
	for _, id := range ids {
		ref := domain.AggregateRef{Type: domain.AggregateTask, ID: id}
		for v, text := range []string{"预计完成地区生产总值447.5亿元", "增长3%左右", "经济实现稳定增长"} {
			var ev domain.Event = &domain.TaskNarrativeRecorded{Items: []string{text}}
			if v == 0 {
				ev = &domain.TaskRegistered{Year: 2022, Title: "统筹疫情防控和稳定经济增长", LeadDepartment: "区发改委"}
			}
			appendEvent(t, s, ref, uint64(v), id+text, ev)
		}
	}
}

func appendEvent(t *testing.T, s eventstore.Store, ref domain.AggregateRef, expected uint64, cmd string, ev domain.Event) []domain.Envelope {
	t.Helper()
	p, err := domain.NewPending(ev)
	if err != nil {
		t.Fatal(err)
	}
	envs, err := s.Append(context.Background(), ref, expected, domain.Meta{Actor: "office:t", CommandID: cmd, Source: "test"}, p)
	if err != nil {
		t.Fatal(err)
	}
	return envs
}

func kinds(r audit.Report) string {
	var k []string
	for _, f := range r.Findings {
		k = append(k, f.Kind)
	}
	return strings.Join(k, ",")
}

func verify(t *testing.T, s keyedStore, claims []audit.Claim, rec *audit.Record) audit.Report {
	t.Helper()
	rep, err := audit.Verify(context.Background(), s, audit.Options{Keyring: s.Keyring(), Claims: claims, Record: rec})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func openStore(t *testing.T, nc *nats.Conn) *eventstore.JetStream {
	s, err := eventstore.OpenJetStream(context.Background(), nc, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCleanLogVerifiesAndReproducesItsRoot(t *testing.T) {
	s := eventstore.NewMemory(nil)
	appendFigures(t, s, "a", "b")
	rep := verify(t, s, nil, nil)
	if !rep.OK() || rep.Events != 6 || rep.Aggregates != 2 {
		t.Fatalf("clean log: %+v", rep)
	}
	appendFigures(t, s, "c")
	again := verify(t, s, []audit.Claim{{Source: "the first run", Checkpoint: rep.Checkpoint}}, nil)
	if !again.OK() || len(again.Claims) != 1 || !again.Claims[0].Valid {
		t.Fatalf("a grown log must still reproduce the old root: %+v", again)
	}
	forged := rep.Checkpoint
	forged.Root = strings.Repeat("0", 64)
	bad := verify(t, s, []audit.Claim{{Source: "a forged root", Checkpoint: forged}}, nil)
	if kinds(bad) != "root_mismatch" {
		t.Fatalf("forged root: %s", kinds(bad))
	}
	// Without a keyring of its own, verification refuses to run: the
	// store's word about its keys is not enough.
	if _, err := audit.Verify(context.Background(), s, audit.Options{}); err == nil {
		t.Fatal("verified without a keyring")
	}
}

// TestEmptyAndShorterLogsAreFindings: a stream emptied, or cut to its
// first messages, is a finding against what was verified before and
// against the read models' checkpoint; an empty log is one by itself.
func TestEmptyAndShorterLogsAreFindings(t *testing.T) {
	srv := natstest.RunEmbedded(t)
	s := openStore(t, srv.Connect(t))
	if rep := verify(t, s, nil, nil); kinds(rep) != "empty" {
		t.Fatalf("a log that was never written: %s", kinds(rep))
	}
	appendFigures(t, s, "a", "b")
	first := verify(t, s, nil, nil)
	if !first.OK() {
		t.Fatalf("before: %s", kinds(first))
	}
	rec := first.Record(time.Now())
	projected := audit.Claim{Source: "the read models' checkpoint", Checkpoint: first.Checkpoint}
	msgs := storedMessages(t, s, first.Last)

	republish(t, s, msgs[:2])
	got := kinds(verify(t, s, []audit.Claim{projected}, &rec))
	for _, want := range []string{"truncated,truncated", "republished"} {
		if !strings.Contains(got, want) {
			t.Errorf("a log cut to 2 of its 6 messages: finding %s missing in %s", want, got)
		}
	}
	republish(t, s, nil)
	got = kinds(verify(t, s, []audit.Claim{projected}, &rec))
	if !strings.HasPrefix(got, "empty,truncated,truncated") {
		t.Errorf("an emptied log: %s", got)
	}
}

// TestForgedMessageThenLegitimateWrite: a forged next event of an
// aggregate, hashed and linked but not signed by kpitrail, then the
// genuine next event. The forgery is one finding, the genuine event is not
// reported as reordered, and once an auditor acknowledges the finding the
// log verifies with the finding listed as acknowledged.
func TestForgedMessageThenLegitimateWrite(t *testing.T) {
	srv := natstest.RunEmbedded(t)
	s := openStore(t, srv.Connect(t))
	ctx := context.Background()
	appendFigures(t, s, "a")
	envs, _ := s.Load(ctx, domain.AggregateRef{Type: "task", ID: "a"})
	head := envs[len(envs)-1]
	forged := head
	forged.ID, forged.AggregateVersion, forged.CommandID = "forged", head.AggregateVersion+1, "forged"
	forged.Payload = json.RawMessage(`{"items":["伪造的数据"]}`)
	if err := forged.Seal(head.Hash); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"format": 1, "events": []domain.Envelope{forged}})
	ack, err := s.JetStreamContext().Publish(ctx, "kpitrail.events.task.a", body)
	if err != nil {
		t.Fatal(err)
	}
	genuine := appendEvent(t, s, head.Ref(), head.AggregateVersion, "genuine", &domain.TaskNarrativeRecorded{Items: []string{"全年增长3.1%"}})
	if genuine[0].AggregateVersion != forged.AggregateVersion {
		t.Fatalf("the genuine write is version %d", genuine[0].AggregateVersion)
	}
	rep := verify(t, s, nil, nil)
	if kinds(rep) != "foreign" || rep.Findings[0].Position != ack.Sequence || rep.Findings[0].AggregateID != "a" {
		t.Fatalf("findings: %+v", rep.Findings)
	}
	appendEvent(t, s, domain.AggregateRef{Type: domain.AggregateAudit, ID: "findings"}, 0, "ack-1",
		&domain.FindingAcknowledged{Position: ack.Sequence, Kind: "foreign", Reason: "测试客户端误发，已核实"})
	rep = verify(t, s, nil, nil)
	if !rep.OK() || len(rep.Acknowledged) != 1 || rep.Acknowledged[0].Position != ack.Sequence ||
		rep.Acknowledged[0].By != "office:t" || rep.Acknowledged[0].Reason != "测试客户端误发，已核实" {
		t.Fatalf("after the acknowledgement: findings %s, acknowledged %+v", kinds(rep), rep.Acknowledged)
	}
}

// TestRepublishedStreamIsFound: an operator with admin rights on NATS
// deletes the stream and publishes it again from its own messages,
// signatures and all (DenyDelete cannot be lifted, so this is how history
// is rewritten). Published whole, every signature and chain still holds:
// the record of the verification before it finds that the stream and its
// messages were stored anew. Published without the last two messages,
// the log is also shorter than verified, and the checkpoint recorded in
// the log no longer matches.
func TestRepublishedStreamIsFound(t *testing.T) {
	srv := natstest.RunEmbedded(t)
	s := openStore(t, srv.Connect(t))
	appendFigures(t, s, "a", "b")
	cp := verify(t, s, nil, nil).Checkpoint
	appendEvent(t, s, domain.AggregateRef{Type: domain.AggregateCheckpoint, ID: "log"}, 0, "cp-1",
		&domain.CheckpointRecorded{Position: cp.Position, Root: cp.Root, Aggregates: cp.Aggregates})
	appendFigures(t, s, "c")
	before := verify(t, s, nil, nil)
	if !before.OK() {
		t.Fatalf("before: %s", kinds(before))
	}
	rec := before.Record(time.Now())
	msgs := storedMessages(t, s, before.Last)

	republish(t, s, msgs)
	whole := verify(t, s, nil, &rec)
	if kinds(whole) != "republished,republished" {
		t.Fatalf("republished whole: %s", kinds(whole))
	}
	// Without the messages at positions 3 and 6, the tails of a and b.
	var kept []*nats.Msg
	for i, m := range msgs {
		if i != 2 && i != 5 {
			kept = append(kept, m)
		}
	}
	republish(t, s, kept)
	cut := verify(t, s, nil, &rec)
	for _, want := range []string{"checkpoint_mismatch", "truncated", "republished"} {
		if !strings.Contains(kinds(cut), want) {
			t.Errorf("republished without two messages: finding %s missing in %s", want, kinds(cut))
		}
	}
}

// storedMessages reads messages 1..last as stored, headers included.
func storedMessages(t *testing.T, s *eventstore.JetStream, last uint64) []*nats.Msg {
	t.Helper()
	var out []*nats.Msg
	for seq := uint64(1); seq <= last; seq++ {
		raw, err := s.Stream().GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		m := nats.NewMsg(raw.Subject)
		m.Data = raw.Data
		for k, v := range raw.Header {
			if !strings.HasPrefix(k, "Nats-") {
				m.Header[k] = v
			}
		}
		out = append(out, m)
	}
	return out
}

// republish deletes the stream, creates it again and publishes msgs in
// order.
func republish(t *testing.T, s *eventstore.JetStream, msgs []*nats.Msg) {
	t.Helper()
	ctx := context.Background()
	js := s.JetStreamContext()
	if err := js.DeleteStream(ctx, s.Config().Stream); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // a created time of its own, whatever the clock's resolution
	if _, err := js.CreateStream(ctx, s.Config().StreamConfig()); err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTamperingThroughNATSIsFound rewrites the stream without two of its
// messages (one an aggregate's tail, which no chain can miss) and adds a
// forged event and garbage: each is reported with its position, and the
// root verified before no longer holds.
func TestTamperingThroughNATSIsFound(t *testing.T) {
	srv := natstest.RunEmbedded(t)
	s := openStore(t, srv.Connect(t))
	appendFigures(t, s, "a", "b")
	before := verify(t, s, nil, nil)
	ctx := context.Background()
	js := s.JetStreamContext()
	msgs := storedMessages(t, s, 6)
	republish(t, s, []*nats.Msg{msgs[0], msgs[2], msgs[3], msgs[4]})
	// A forged event: well formed, linked to nothing, unsigned.
	envs, _ := s.Load(ctx, domain.AggregateRef{Type: "task", ID: "a"})
	forged := envs[len(envs)-1]
	forged.AggregateVersion++
	forged.ID = "forged"
	forged.Payload = json.RawMessage(`{"items":["伪造的数据"]}`)
	_ = forged.Seal(strings.Repeat("ab", 32))
	body, _ := json.Marshal(map[string]any{"format": 1, "events": []domain.Envelope{forged}})
	if _, err := js.Publish(ctx, "kpitrail.events.task.a", body); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "kpitrail.events.task.zzz", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	rep := verify(t, s, []audit.Claim{{Source: "the root published before", Checkpoint: before.Checkpoint}}, nil)
	got := kinds(rep)
	for _, want := range []string{"gap", "foreign", "malformed", "root_mismatch"} {
		if !strings.Contains(got, want) {
			t.Errorf("finding %q missing; found %s", want, got)
		}
	}
}

// TestRootStatementRoundTrip signs a root, keeps it as a file and checks
// the log against it: it holds on the log it was made from, a statement
// whose root was changed, or one signed by a key nobody trusts, is a
// finding.
func TestRootStatementRoundTrip(t *testing.T) {
	s := eventstore.NewMemory(nil)
	appendFigures(t, s, "a", "b")
	rep := verify(t, s, nil, nil)
	signer, err := signing.Generate()
	if err != nil {
		t.Fatal(err)
	}
	kr := signing.Trusting(signer)
	st := audit.NewStatement(signer, rep.Checkpoint, rep.LastStoredAt, time.Now())
	path := t.TempDir() + "/root.json"
	b, _ := json.Marshal(st)
	if err := writeFile(path, b); err != nil {
		t.Fatal(err)
	}
	back, err := audit.ReadStatement(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Verify(kr); err != nil {
		t.Fatalf("the statement read back: %v", err)
	}
	// The store's own keys and the statement's signer are both trusted.
	both := s.Keyring().Clone()
	if err := both.Rotate(s.Keyring().Keys()[0].ID, signer.Key(), 1000); err != nil {
		t.Fatal(err)
	}
	check := func(st audit.Statement) audit.Report {
		r, err := audit.Verify(context.Background(), s, audit.Options{Keyring: both, Claims: []audit.Claim{st.Claim("root.json")}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := check(back); !r.OK() || !r.Claims[0].Valid {
		t.Fatalf("the log against its own statement: %s", kinds(r))
	}
	changed := back
	changed.Root = strings.Repeat("1", 64)
	if r := check(changed); kinds(r) != "statement_invalid" {
		t.Fatalf("a statement with another root: %s", kinds(r))
	}
	stranger, _ := signing.Generate()
	if r := check(audit.NewStatement(stranger, rep.Checkpoint, rep.LastStoredAt, time.Now())); kinds(r) != "statement_invalid" {
		t.Fatalf("a statement by an untrusted key: %s", kinds(r))
	}
	later := audit.NewStatement(signer, audit.Checkpoint{Position: 99, Root: rep.Checkpoint.Root, Aggregates: 2}, time.Time{}, time.Now())
	if r := check(later); kinds(r) != "truncated" {
		t.Fatalf("a statement about a longer log: %s", kinds(r))
	}
}

// TestRotationsAreLearnedFromTheLog: an auditor's keyring holds only the
// first key; the rotation in the log, signed by it, introduces the next.
func TestRotationsAreLearnedFromTheLog(t *testing.T) {
	srv := natstest.RunEmbedded(t)
	nc := srv.Connect(t)
	first, _ := signing.Generate()
	instance := signing.Trusting(first)
	s, err := eventstore.OpenJetStream(context.Background(), nc, eventstore.Config{Signer: first, Trust: instance})
	if err != nil {
		t.Fatal(err)
	}
	auditorsCopy := signing.Trusting(first)
	appendFigures(t, s, "a")
	next, _ := signing.Generate()
	if err := instance.AddPending(next.Key()); err != nil {
		t.Fatal(err)
	}
	p, _ := domain.NewPending(&domain.KeyRotated{RetiredKeyID: first.KeyID(), KeyID: next.KeyID(), Algorithm: signing.Algorithm,
		PublicKey: next.PublicKeyText(), Reason: "年度轮换"})
	if _, err := s.Rotate(context.Background(), domain.AggregateRef{Type: domain.AggregateKeyring, ID: "signing"}, 0,
		domain.Meta{Actor: "admin:t", CommandID: "rot", Source: "test"}, next, p); err != nil {
		t.Fatal(err)
	}
	appendFigures(t, s, "b")
	rep, err := audit.Verify(context.Background(), s, audit.Options{Keyring: auditorsCopy})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.Keys) != 2 || rep.Keys[1].ID != next.KeyID() || rep.Keys[0].RetiredAfter != 4 {
		t.Fatalf("findings %s, keys %+v", kinds(rep), rep.Keys)
	}
	if len(auditorsCopy.Keys()) != 1 {
		t.Fatal("verification changed the keyring it was given")
	}
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }
