package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"

	"kpitrail/audit"
	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/internal/natstest"
)

func appendFigures(t *testing.T, s eventstore.Store, ids ...string) {
	t.Helper()
	ctx := context.Background()
	for _, id := range ids {
		ref := domain.AggregateRef{Type: domain.AggregateTask, ID: id}
		for v, text := range []string{"预计完成地区生产总值447.5亿元", "增长3%左右", "经济实现稳定增长"} {
			var ev domain.Event = &domain.TaskNarrativeRecorded{Items: []string{text}}
			if v == 0 {
				ev = &domain.TaskRegistered{Year: 2022, Title: "统筹疫情防控和稳定经济增长", LeadDepartment: "区发改委"}
			}
			p, _ := domain.NewPending(ev)
			if _, err := s.Append(ctx, ref, uint64(v), domain.Meta{Actor: "office:t", CommandID: id + text, Source: "test"}, p); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func kinds(r audit.Report) string {
	var k []string
	for _, f := range r.Findings {
		k = append(k, f.Kind)
	}
	return strings.Join(k, ",")
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
	rep, err := audit.Verify(context.Background(), s, nil)
	if err != nil || !rep.OK() || rep.Events != 6 || rep.Aggregates != 2 {
		t.Fatalf("clean log: %v %+v", err, rep)
	}
	appendFigures(t, s, "c")
	again, _ := audit.Verify(context.Background(), s, &rep.Checkpoint)
	if !again.OK() || again.AgainstValid == nil || !*again.AgainstValid {
		t.Fatalf("a grown log must still reproduce the old root: %+v", again)
	}
	forged := rep.Checkpoint
	forged.Root = strings.Repeat("0", 64)
	bad, _ := audit.Verify(context.Background(), s, &forged)
	if kinds(bad) != "root_mismatch" {
		t.Fatalf("forged root: %s", kinds(bad))
	}
}

func TestTamperingThroughNATSIsFound(t *testing.T) {
	srv := natstest.RunEmbedded(t)
	nc := srv.Connect(t)
	s := openStore(t, nc)
	appendFigures(t, s, "a", "b")
	before, _ := audit.Verify(context.Background(), s, nil)
	ctx := context.Background()
	js := s.JetStreamContext()

	// DenyDelete cannot be lifted once set (the server refuses), so an
	// operator with admin rights rewrites history the only way left: delete
	// the stream and publish it again without two of its messages, the
	// second being the tail event of aggregate b, which no chain can miss.
	var kept []*nats.Msg
	for seq := uint64(1); seq <= 6; seq++ {
		raw, err := s.Stream().GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if seq == 2 || seq == 6 {
			continue
		}
		kept = append(kept, &nats.Msg{Subject: raw.Subject, Data: raw.Data, Header: raw.Header})
	}
	if err := js.DeleteStream(ctx, s.Config().Stream); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, s.Config().StreamConfig()); err != nil {
		t.Fatal(err)
	}
	for _, m := range kept {
		for k := range m.Header {
			if strings.HasPrefix(k, "Nats-") {
				m.Header.Del(k)
			}
		}
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// A forged event: a valid-looking message whose hash does not chain.
	envs, _ := s.Load(ctx, domain.AggregateRef{Type: "task", ID: "a"})
	forged := envs[len(envs)-1]
	forged.AggregateVersion++
	forged.ID = "forged"
	forged.Payload = json.RawMessage(`{"items":["伪造的数据"]}`)
	forged.PrevHash = strings.Repeat("ab", 32)
	_ = forged.Seal(forged.PrevHash)
	body, _ := json.Marshal(map[string]any{"format": 1, "events": []domain.Envelope{forged}})
	if _, err := js.Publish(ctx, "kpitrail.events.task.a", body); err != nil {
		t.Fatal(err)
	}
	// And garbage.
	if _, err := js.Publish(ctx, "kpitrail.events.task.zzz", []byte("not json")); err != nil {
		t.Fatal(err)
	}

	rep, err := audit.Verify(ctx, s, &before.Checkpoint)
	if err != nil {
		t.Fatal(err)
	}
	got := kinds(rep)
	for _, want := range []string{"gap", "inserted", "malformed", "root_mismatch"} {
		if !strings.Contains(got, want) {
			t.Errorf("finding %q missing; found %s", want, got)
		}
	}
}

func TestEditedFileOnDiskIsFound(t *testing.T) {
	srv := natstest.RunEmbedded(t)
	nc := srv.Connect(t)
	s := openStore(t, nc)
	appendFigures(t, s, "a")
	nc.Close()
	srv.Shutdown()

	// Edit the stored bytes of one event: 447.5 becomes 947.5.
	edited := 0
	_ = filepath.Walk(srv.StoreDir(), func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(path, ".blk") {
			return err
		}
		b, _ := os.ReadFile(path)
		if i := bytes.Index(b, []byte("447.5")); i >= 0 {
			b[i] = '9'
			edited++
			return os.WriteFile(path, b, info.Mode())
		}
		return nil
	})
	if edited == 0 {
		t.Fatal("found no stored event to edit")
	}
	srv.Restart(t)
	nc = srv.Connect(t)
	s2, err := eventstore.OpenJetStream(context.Background(), nc, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(context.Background(), s2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() {
		t.Fatal("an edited file went unnoticed")
	}
	t.Logf("findings after editing the file: %s", kinds(rep))
}
