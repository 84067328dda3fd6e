package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestExportThroughTheCLIAndTheFeedThroughServe(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	s.mustDo(201, "POST", "/v1/tasks?wait=true", office, map[string]any{"task_id": "rural", "year": 2022, "title": "乡村振兴战略", "lead_department": "区农业农村局"})
	s.mustDo(201, "POST", "/v1/tasks/rural/indicators?wait=true", office, map[string]any{"indicator_id": "farmland", "name": "新建高标准农田", "unit": "亩", "direction": "higher"})
	s.mustDo(200, "PUT", "/v1/indicators/farmland/target?wait=true", office, map[string]any{"value": "3400"})
	s.mustDo(201, "POST", "/v1/indicators/farmland/figures?wait=true", office, map[string]any{"window": map[string]any{"year": 2022}, "value": "3400",
		"quality": "final", "source": map[string]any{"kind": "self_reported"}, "note": "全年新建高标准农田3400亩，目前已经全部完工。"})

	dir := filepath.Join(t.TempDir(), "export")
	out, err := s.runCLI(office, "export", "--dir", dir, "--format", "csv,parquet")
	if err != nil || !strings.Contains(out, "manifest verified") {
		t.Fatalf("export: %v\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "indicators.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) != 2 || !strings.Contains(strings.Join(rows[1], ","), "新建高标准农田") {
		t.Fatalf("indicators.csv: %v %v", rows, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "stored_events.parquet")); err != nil {
		t.Fatalf("the raw log is not exported: %v", err)
	}
	if sqlite, err := exec.LookPath("sqlite3"); err == nil {
		got, err := exec.Command(sqlite, ":memory:", ".import --csv "+filepath.Join(dir, "figures.csv")+" f", "SELECT value, note FROM f").CombinedOutput()
		if err != nil || !strings.Contains(string(got), "3400|全年新建高标准农田3400亩，目前已经全部完工。") {
			t.Fatalf("sqlite3 reads the CSV: %v %s", err, got)
		}
	}
	// One table streamed as of an earlier position: the target was set, no figure yet.
	r := s.do("GET", "/v1/exports/indicators.jsonl?position=3", office, nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"target":"3400"`) || strings.Contains(string(r.Body), `"value":"3400"`) {
		t.Fatalf("indicators as of position 3: %d %s", r.Status, r.Body)
	}
	s.mustDo(404, "GET", "/v1/exports/secrets.csv", office, nil)

	// The downstream feed carries the figure with the position it comes from.
	js := s.sys.Store.JetStreamContext()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cons, err := js.CreateOrUpdateConsumer(ctx, "KPITRAIL_CHANGES", jetstream.ConsumerConfig{Durable: "test", FilterSubject: "kpitrail.changes.*.*.*", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for !found && ctx.Err() == nil {
		batch, err := cons.Fetch(20, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			if strings.Contains(m.Subject(), "figure.changed") && strings.Contains(string(m.Data()), `"position":4`) {
				found = true
			}
			_ = m.Ack()
		}
	}
	if !found {
		t.Fatal("the feed did not publish the figure change at position 4")
	}
}

// TestChangeNotificationsOverSSE follows /v1/changes while a figure is
// reported, then reconnects with Last-Event-ID and gets only what is new.
func TestChangeNotificationsOverSSE(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	s.mustDo(201, "POST", "/v1/tasks", office, map[string]any{"task_id": "air", "year": 2022, "title": "污染防治攻坚战", "lead_department": "区生态环境局"})
	s.mustDo(201, "POST", "/v1/tasks/air/indicators", office, map[string]any{"indicator_id": "dust", "name": "降尘量", "unit": "吨/平方公里·月", "direction": "lower", "formula": "cap"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	read := func(lastID string, want string) string {
		req, _ := http.NewRequestWithContext(ctx, "GET", s.base+"/v1/changes", nil)
		req.Header.Set("Authorization", "Bearer "+office)
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
			t.Fatalf("content type %q", ct)
		}
		sc := bufio.NewScanner(res.Body)
		id := ""
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "id: "); ok {
				id = v
			}
			if line == "event: "+want {
				return id
			}
		}
		t.Fatalf("no %s event before the stream ended: %v", want, sc.Err())
		return ""
	}
	s.mustDo(201, "POST", "/v1/indicators/dust/figures", office, map[string]any{"window": map[string]any{"year": 2022, "from_month": 1, "to_month": 11},
		"value": "3.6", "quality": "provisional", "source": map[string]any{"kind": "self_reported"}})
	first := read("", "figure.changed")
	s.mustDo(201, "POST", "/v1/tasks/air/problems", office, map[string]any{"problem_id": "p1", "description": "重污染天数3天"})
	second := read(first, "problem.opened")
	if n1, _ := strconv.Atoi(first); n1 == 0 || second == "" || second <= first && len(second) <= len(first) {
		t.Fatalf("ids %s then %s", first, second)
	}
}
