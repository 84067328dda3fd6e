package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kpitrail/projections"
)

func TestSnapshotHashIsReproducedByARebuild(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	s.mustDo(201, "POST", "/v1/tasks?wait=true", office, map[string]any{"task_id": "safety", "year": 2022, "title": "安全生产", "lead_department": "区应急局"})
	s.mustDo(201, "POST", "/v1/tasks/safety/indicators?wait=true", office, map[string]any{"indicator_id": "accidents", "name": "生产安全事故起数", "unit": "起", "direction": "lower", "formula": "cap"})
	s.mustDo(201, "POST", "/v1/indicators/accidents/bases?wait=true", office, map[string]any{"window": map[string]any{"year": 2021, "from_month": 1, "to_month": 11}, "value": "16", "quality": "final"})
	s.mustDo(201, "POST", "/v1/indicators/accidents/figures?wait=true", office, map[string]any{"window": map[string]any{"year": 2022, "from_month": 1, "to_month": 11}, "value": "13", "quality": "provisional", "source": map[string]any{"kind": "self_reported"}})

	snap := s.mustDo(201, "POST", "/v1/snapshots", office, map[string]any{"year": 2022, "note": "2022年度年终封存"})
	pos := uint64(snap["position"].(float64))
	// Position 5 is year.frozen: the snapshot freezes its year first.
	if pos != 5 || snap["event_position"].(float64) != 6 {
		t.Fatalf("snapshot %v", snap)
	}
	// A rebuild to the snapshot's position, from scratch, gives the same hash.
	out := filepath.Join(t.TempDir(), "again.db")
	if err := projections.ReplayToPosition(context.Background(), s.sys.Store, pos, out); err != nil {
		t.Fatal(err)
	}
	db, err := projections.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hash, err := projections.ContentHash(context.Background(), db)
	if err != nil || hash != snap["content_hash"] {
		t.Fatalf("rebuilt hash %s (%v), snapshot says %s", hash, err, snap["content_hash"])
	}
	// The snapshot is an event, projected and listed; its root verifies.
	list := s.mustDo(200, "GET", "/v1/snapshots?year=2022", office, nil)["snapshots"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["content_hash"] != hash {
		t.Fatalf("snapshots %v", list)
	}
	root := snap["root"].(string)
	rep := s.mustDo(200, "GET", "/v1/audit/verify?root="+root+"&position=5&aggregates=3", adminToken, nil)
	if !givenRootHolds(rep) {
		t.Fatalf("the snapshot's root does not verify: %v", rep)
	}
	// Only the office and admins take snapshots.
	s.mustDo(403, "POST", "/v1/snapshots", s.token("分析员", "analyst"), map[string]any{"year": 2022})

	// A full rebuild through the API keeps the read models answering.
	s.mustDo(200, "POST", "/v1/admin/rebuild", adminToken, nil)
	ind := s.mustDo(200, "GET", "/v1/indicators/accidents", office, nil)
	if ind["value"] != "13" {
		t.Fatalf("after rebuild: %v", ind)
	}
	hist := s.mustDo(200, "GET", "/v1/indicators/accidents/history", office, nil)["years"].([]any)
	y := hist[len(hist)-1].(map[string]any)
	if y["change_pct_display"] != "-18.8" || y["base"] != "16" {
		t.Fatalf("year over year after rebuild: %v", y)
	}

	// As-of reads start from the snapshot file when it holds nothing
	// recorded after the instant, and answer as a replay from the start.
	frozen := time.Now()
	time.Sleep(5 * time.Millisecond)
	s.mustDo(200, "POST", "/v1/years/2022/reopen?wait=true", office, map[string]any{"reason": "区应急局更正1-11月数据"})
	s.mustDo(201, "POST", "/v1/indicators/accidents/figures?wait=true", office, map[string]any{"window": map[string]any{"year": 2022, "from_month": 1, "to_month": 11}, "value": "12", "quality": "final", "source": map[string]any{"kind": "agency", "name": "区应急局"}})
	for _, c := range []struct {
		at   time.Time
		want string
	}{{frozen, "13"}, {time.Now(), "12"}} {
		got := s.mustDo(200, "GET", "/v1/indicators/accidents?as_of="+url.QueryEscape(c.at.Format(time.RFC3339Nano)), office, nil)
		if got["value"] != c.want {
			t.Fatalf("as of %s: value %v, want %s", c.at, got["value"], c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(s.cfg.DataDir, "snapshots", fmt.Sprintf("2022-%d.db-wal", pos))); err == nil {
		t.Error("reading the snapshot as a replay base left a write-ahead log beside it")
	}
}

// TestPeriodicCheckpointVerifies lets serve record checkpoints on a short
// timer and checks the recorded root against the log.
func TestPeriodicCheckpointVerifies(t *testing.T) {
	cfg := ServeConfig{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Replicas: 1, AdminToken: adminToken, CheckpointEvery: 50 * time.Millisecond}
	srv, err := StartServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	s := &testServer{Server: srv, t: t, base: "http://" + srv.Addr()}
	office := s.token("考评办", "office")
	s.mustDo(201, "POST", "/v1/tasks?wait=true", office, map[string]any{"task_id": "x", "year": 2022, "title": "城市精细化管理", "lead_department": "区城管委"})
	s.mustDo(201, "POST", "/v1/tasks/x/narratives?wait=true", office, map[string]any{"items": []string{"累计安装60221户"}})
	var cp map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for cp == nil && time.Now().Before(deadline) {
		for _, e := range s.mustDo(200, "GET", "/v1/events?after=0&limit=100", office, nil)["events"].([]any) {
			if ev := e.(map[string]any); ev["name"] == "checkpoint.recorded" {
				cp = ev["payload"].(map[string]any)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if cp == nil {
		t.Fatal("no checkpoint was recorded")
	}
	rep := s.mustDo(200, "GET", fmt.Sprintf("/v1/audit/verify?root=%s&position=%d&aggregates=%d", cp["root"], int(cp["position"].(float64)),
		int(cp["aggregates"].(float64))), adminToken, nil)
	if !givenRootHolds(rep) {
		t.Fatalf("the recorded checkpoint does not verify: %v against %v", rep, cp)
	}
}

// givenRootHolds reports whether a verification found nothing and the root
// given with the request held.
func givenRootHolds(rep map[string]any) bool {
	if f, _ := rep["findings"].([]any); len(f) != 0 {
		return false
	}
	claims, _ := rep["claims"].([]any)
	for _, c := range claims {
		if c := c.(map[string]any); c["source"] == "the root given with the request" {
			return c["valid"] == true
		}
	}
	return false
}
