package audit_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"kpitrail/audit"
	"kpitrail/domain"
	"kpitrail/internal/natstest"
)

func TestVerifyAggregateReadsTheStreamNotTheWriteModel(t *testing.T) {
	srv := natstest.RunEmbedded(t)
	s := openStore(t, srv.Connect(t))
	appendFigures(t, s, "a", "b")
	ctx := context.Background()
	ref := domain.AggregateRef{Type: domain.AggregateTask, ID: "a"}
	envs, err := s.Load(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	head := envs[len(envs)-1]
	rep, err := audit.VerifyAggregate(ctx, s, s.Keyring(), ref, head.AggregateVersion, head.Hash)
	if err != nil || !rep.OK() || rep.Events != 3 || rep.Version != 3 || rep.Head != head.Hash {
		t.Fatalf("clean chain: %v %+v", err, rep)
	}
	// The read models say the chain went one event further than the log
	// now holds: its tail was lost.
	rep, _ = audit.VerifyAggregate(ctx, s, s.Keyring(), ref, head.AggregateVersion+1, strings.Repeat("cd", 32))
	if len(rep.Findings) != 1 || rep.Findings[0].Kind != "deleted" {
		t.Fatalf("short chain: %+v", rep.Findings)
	}

	// A forged event published on the aggregate's subject of the old layout
	// behind the service's back (the log had none when the store opened):
	// the write model never sees it, the verification must.
	forged := head
	forged.AggregateVersion++
	forged.ID = "forged"
	forged.Payload = json.RawMessage(`{"items":["伪造的数据"]}`)
	_ = forged.Seal(strings.Repeat("ab", 32))
	body, _ := json.Marshal(map[string]any{"format": 1, "events": []domain.Envelope{forged}})
	if _, err := s.JetStreamContext().Publish(ctx, "kpitrail.events.task.a", body); err != nil {
		t.Fatal(err)
	}
	if _, err := s.JetStreamContext().Publish(ctx, "kpitrail.events.task.a", []byte("not json")); err != nil {
		t.Fatal(err)
	}
	// And on the aggregate's subject in another unit.
	if _, err := s.JetStreamContext().Publish(ctx, "kpitrail.events.elsewhere.task.a", body); err != nil {
		t.Fatal(err)
	}
	rep, err = audit.VerifyAggregate(ctx, s, s.Keyring(), ref, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range rep.Findings {
		got = append(got, f.Kind)
	}
	// Unsigned, the forged message is foreign: it moves no chain, whatever
	// it claims, so the head stays the last genuine event.
	if strings.Join(got, ",") != "foreign,malformed,foreign" || rep.Messages != 6 || rep.Version != 3 || rep.Head != head.Hash {
		t.Fatalf("findings %v over %d messages, head %d %s", got, rep.Messages, rep.Version, rep.Head)
	}
	// The other aggregate is untouched.
	if rep, _ := audit.VerifyAggregate(ctx, s, s.Keyring(), domain.AggregateRef{Type: domain.AggregateTask, ID: "b"}, 0, ""); !rep.OK() || rep.Events != 3 {
		t.Fatalf("aggregate b: %+v", rep)
	}
}
