package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kpitrail/audit"
	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/signing"
)

// restart stops the server and starts another on the same data directory.
func (s *testServer) restart() *testServer {
	s.t.Helper()
	cfg := s.cfg
	if err := s.Close(); err != nil {
		s.t.Fatal(err)
	}
	srv, err := StartServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { _ = srv.Close() })
	return &testServer{Server: srv, t: s.t, base: "http://" + srv.Addr()}
}

// TestRootFileRoundTrip: an auditor takes a signed root statement and a
// copy of the keyring, keeps both outside the system, and later checks the
// stopped server's data directory against them. The statement holds; a
// statement with another root, or a log published again, does not; and the
// key stays the same across restarts.
func TestRootFileRoundTrip(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	auditor := s.token("审计员", "auditor")
	s.mustDo(201, "POST", "/v1/tasks?wait=true", office, map[string]any{"task_id": "city", "year": 2022, "title": "城市更新行动", "lead_department": "区住建委"})
	s.mustDo(201, "POST", "/v1/tasks/city/narratives?wait=true", office, map[string]any{"items": []string{"新开工2个小区"}})
	outside := t.TempDir() // the auditor's own disk
	rootFile, ringFile := filepath.Join(outside, "root.json"), filepath.Join(outside, "keyring.json")
	if out, err := s.runCLI(auditor, "audit", "root", "--out", rootFile); err != nil {
		t.Fatalf("audit root: %v\n%s", err, out)
	}
	out, err := s.runCLI(auditor, "audit", "keys", "--json")
	if err != nil {
		t.Fatalf("audit keys: %v\n%s", err, out)
	}
	if err := os.WriteFile(ringFile, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := s.runCLI(auditor, "audit", "verify", "--root-file", rootFile); err != nil || !strings.Contains(out, "holds") {
		t.Fatalf("online verify against the statement: %v\n%s", err, out)
	}
	keyID := s.sys.Store.Signer().KeyID()
	s = s.restart()
	if s.sys.Store.Signer().KeyID() != keyID {
		t.Fatal("the signing key changed with a restart")
	}
	s.mustDo(201, "POST", "/v1/tasks/city/narratives?wait=true", office, map[string]any{"items": []string{"重启之后的报送"}})
	dir := s.cfg.DataDir
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	if out, err := s.runCLI("", "audit", "verify", "--data", dir, "--keyring", ringFile, "--root-file", rootFile); err != nil {
		t.Fatalf("offline verify against the statement: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "audit", "verified.json")); err != nil {
		t.Fatalf("no record of the passing verification: %v", err)
	}
	st, err := audit.ReadStatement(rootFile)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := signing.LoadKeyring(ringFile)
	if err != nil || st.Verify(kr) != nil {
		t.Fatalf("the statement does not verify with the copied keyring: %v", err)
	}
	st.Root = strings.Repeat("0", 64)
	forged := filepath.Join(outside, "forged.json")
	b, _ := json.Marshal(st)
	if err := os.WriteFile(forged, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err = s.runCLI("", "audit", "verify", "--data", dir, "--keyring", ringFile, "--root-file", forged)
	if err == nil || !strings.Contains(out, "statement_invalid") {
		t.Fatalf("a statement with another root: %v\n%s", err, out)
	}
	// An auditor's keyring that trusts another key finds every message
	// foreign, and says so.
	stranger, _ := signing.Generate()
	strangers := filepath.Join(outside, "strangers.json")
	if err := signing.Trusting(stranger).Save(strangers); err != nil {
		t.Fatal(err)
	}
	out, err = s.runCLI("", "audit", "verify", "--data", dir, "--keyring", strangers)
	if err == nil || !strings.Contains(out, "foreign") {
		t.Fatalf("verified with a keyring that trusts another key: %v\n%s", err, out)
	}
}

// TestRotatedKeySurvivesRestart rotates the signing key through the CLI:
// the key file and keyring follow, a restart signs with the new key, and
// the whole log (old key up to the rotation, new key after) verifies.
func TestRotatedKeySurvivesRestart(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	s.mustDo(201, "POST", "/v1/tasks?wait=true", office, map[string]any{"task_id": "city", "year": 2022, "title": "城市更新行动", "lead_department": "区住建委"})
	old := s.sys.Store.Signer().KeyID()
	if out, err := s.runCLI(office, "keys", "rotate", "--reason", "年度轮换"); err == nil {
		t.Fatalf("the office rotated the key: %s", out)
	}
	out, err := s.runCLI(adminToken, "keys", "rotate", "--json", "--reason", "年度密钥轮换")
	if err != nil {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	var rot map[string]any
	if err := json.Unmarshal([]byte(out), &rot); err != nil || rot["retired_key_id"] != old || rot["key_id"] == old {
		t.Fatalf("rotation: %v %s", err, out)
	}
	if _, err := os.Stat(filepath.Join(s.cfg.DataDir, "keys", "signing.key.next")); err == nil {
		t.Fatal("the rotation left its new key pending")
	}
	// A rotation retried with its idempotency key answers as the first time
	// and rotates nothing more.
	first := s.mustDo(200, "POST", "/v1/admin/keys/rotate", adminToken, map[string]any{"reason": "再次轮换"}, "Idempotency-Key", "rot-2")
	again := s.mustDo(200, "POST", "/v1/admin/keys/rotate", adminToken, map[string]any{"reason": "再次轮换"}, "Idempotency-Key", "rot-2")
	if again["key_id"] != first["key_id"] || again["position"] != first["position"] || s.sys.Store.Signer().KeyID() != first["key_id"] {
		t.Fatalf("a retried rotation: first %v, again %v, signing with %s", first, again, s.sys.Store.Signer().KeyID())
	}
	rot = first
	s = s.restart()
	if s.sys.Store.Signer().KeyID() != rot["key_id"] {
		t.Fatalf("after a restart the server signs with %s, not %s", s.sys.Store.Signer().KeyID(), rot["key_id"])
	}
	s.mustDo(201, "POST", "/v1/tasks/city/narratives?wait=true", office, map[string]any{"items": []string{"轮换之后"}})
	rep := s.mustDo(200, "GET", "/v1/audit/verify", adminToken, nil)
	if len(rep["findings"].([]any)) != 0 || len(rep["keys"].([]any)) != 3 {
		t.Fatalf("after the rotation: findings %v, keys %v", rep["findings"], rep["keys"])
	}
}

// TestUnsignedHistoryIsAdopted starts serve on a data directory written
// before kpitrail signed its messages: the new keyring adopts that history
// (and says so), the read models show it, and what follows is signed.
func TestUnsignedHistoryIsAdopted(t *testing.T) {
	dir := t.TempDir()
	emb, err := eventstore.StartEmbedded(eventstore.EmbeddedConfig{StoreDir: filepath.Join(dir, "jetstream")})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := emb.Connect("old-kpitrail")
	if err != nil {
		t.Fatal(err)
	}
	st, err := eventstore.OpenJetStream(context.Background(), nc, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := domain.NewPending(&domain.TaskRegistered{Year: 2022, Title: "城市更新行动", LeadDepartment: "区住建委"})
	e := domain.Envelope{ID: "0190a000-0000-7000-8000-000000000001", Name: p.Name, SchemaVersion: p.SchemaVersion,
		AggregateType: "task", AggregateID: "city", AggregateVersion: 1, RecordedAt: time.Date(2022, 3, 1, 8, 0, 0, 0, time.UTC),
		Actor: "office:考评办", CommandID: "c1", Source: "api", Payload: p.Payload}
	if err := e.Seal(""); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]any{"format": 1, "events": []domain.Envelope{e}})
	if _, err := st.JetStreamContext().Publish(context.Background(), "kpitrail.events.task.city", body); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	emb.Shutdown()

	cfg := ServeConfig{DataDir: dir, HTTPAddr: "127.0.0.1:0", Replicas: 1, AdminToken: adminToken}
	srv, err := StartServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{Server: srv, t: t, base: "http://" + srv.Addr()}
	t.Cleanup(func() { _ = srv.Close() })
	if s.sys.AdoptedUnsigned != 1 || s.sys.Store.Keyring().UnsignedThrough() != 1 {
		t.Fatalf("adopted through %d", s.sys.AdoptedUnsigned)
	}
	office := s.token("考评办", "office")
	s.mustDo(201, "POST", "/v1/tasks/city/narratives?wait=true", office, map[string]any{"items": []string{"签名之后的第一条"}})
	if task := s.mustDo(200, "GET", "/v1/tasks/city", office, nil); task["version"] != float64(2) {
		t.Fatalf("the adopted task: %v", task)
	}
	if rep := s.mustDo(200, "GET", "/v1/audit/verify", adminToken, nil); len(rep["findings"].([]any)) != 0 {
		t.Fatalf("findings %v", rep["findings"])
	}
	// Only what was there: an unsigned message published now is foreign.
	if _, err := s.sys.Store.JetStreamContext().Publish(context.Background(), "kpitrail.events.huairou.task.junk", body); err != nil {
		t.Fatal(err)
	}
	if rep := s.mustDo(200, "GET", "/v1/audit/verify", adminToken, nil); len(rep["findings"].([]any)) != 1 {
		t.Fatalf("an unsigned message after the adoption: %v", rep["findings"])
	}
}

// TestServeRefusesAKeyItsKeyringDoesNotHold: a key file swapped for
// another key, or a keyring swapped for one that does not hold the key,
// stops serve at once instead of signing what its own readers refuse.
func TestServeRefusesAKeyItsKeyringDoesNotHold(t *testing.T) {
	s := startTestServer(t)
	cfg := s.cfg
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	stranger, _ := signing.Generate()
	if err := signing.Trusting(stranger).Save(cfg.keyPaths().ring); err != nil {
		t.Fatal(err)
	}
	_, err := StartServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "is not in the keyring") {
		t.Fatalf("serve started with a keyring that does not hold its key: %v", err)
	}
}
