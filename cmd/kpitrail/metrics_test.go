package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// kpitrailSeries are the kpitrail_ series /metrics exposed before the
// Prometheus client library replaced the hand-written registry, with their
// types. Dashboards and alert rules name them: they keep their names.
var kpitrailSeries = map[string]dto.MetricType{
	"kpitrail_append_seconds":         dto.MetricType_HISTOGRAM,
	"kpitrail_appends_total":          dto.MetricType_COUNTER,
	"kpitrail_append_conflicts_total": dto.MetricType_COUNTER,
	"kpitrail_http_requests_total":    dto.MetricType_COUNTER,
	"kpitrail_http_request_seconds":   dto.MetricType_HISTOGRAM,
	"kpitrail_projection_lag_events":  dto.MetricType_GAUGE,
	"kpitrail_projection_lag_seconds": dto.MetricType_GAUGE,
	"kpitrail_dead_letters":           dto.MetricType_GAUGE,
}

// scrape fetches /metrics from the server and parses it with the
// Prometheus text parser, as a Prometheus server would.
func scrape(t *testing.T, s *testServer) map[string]*dto.MetricFamily {
	t.Helper()
	r := s.do("GET", "/metrics", "", nil)
	if r.Status != 200 {
		t.Fatalf("/metrics: %d %s", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("/metrics content type %q", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("/metrics is not the text exposition format: %v\n%s", err, clip(r.Body))
	}
	return families
}

// value returns the value of the family's sample whose labels include
// the given name=value pairs; ok is false when there is none.
func value(families map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f := families[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		case m.Untyped != nil:
			return m.Untyped.GetValue(), true
		}
	}
	return 0, false
}

// TestMetricsScrapeRealServe drives a real serve (embedded JetStream,
// read models, the feed), attaches a downstream durable consumer, and
// scrapes /metrics: the Go runtime, process and build-info series, every
// kpitrail_ series of before, the verification counter, and JetStream
// figures that equal what the JetStream API itself reports.
func TestMetricsScrapeRealServe(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	auditor := s.token("审计", "auditor")
	s.mustDo(201, "POST", "/v1/tasks?wait=true", office, map[string]any{"task_id": "rural", "year": 2022, "title": "乡村振兴战略", "lead_department": "区农业农村局"})
	s.mustDo(201, "POST", "/v1/tasks/rural/indicators?wait=true", office, map[string]any{"indicator_id": "farmland", "name": "新建高标准农田", "unit": "亩", "direction": "higher"})
	s.mustDo(200, "PUT", "/v1/indicators/farmland/target?wait=true", office, map[string]any{"value": "3400"})
	s.mustDo(201, "POST", "/v1/indicators/farmland/figures?wait=true", office, map[string]any{"window": map[string]any{"year": 2022}, "value": "3400",
		"quality": "final", "source": map[string]any{"kind": "self_reported"}})
	s.mustDo(409, "PUT", "/v1/indicators/farmland/target", office, map[string]any{"value": "3500", "reason": "调整"}, "If-Match", `"1"`)
	s.mustDo(200, "GET", "/v1/audit/verify", auditor, nil)

	// A downstream system's durable consumer on the feed, one message
	// fetched and left unacknowledged.
	js := s.sys.Store.JetStreamContext()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cons, err := js.CreateOrUpdateConsumer(ctx, "KPITRAIL_CHANGES", jetstream.ConsumerConfig{Durable: "downstream",
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for {
		st, err := js.Stream(ctx, "KPITRAIL_CHANGES")
		if err != nil {
			t.Fatal(err)
		}
		if st.CachedInfo().State.Msgs >= 3 || ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	for range batch.Messages() {
	}
	// Limits on the feed's stream, as an operator would set them.
	feedStream, err := js.Stream(ctx, "KPITRAIL_CHANGES")
	if err != nil {
		t.Fatal(err)
	}
	cfg := feedStream.CachedInfo().Config
	cfg.MaxBytes, cfg.MaxMsgs = 1<<30, 1_000_000
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}

	families := scrape(t, s)
	for name, typ := range kpitrailSeries {
		f := families[name]
		if f == nil {
			t.Errorf("%s is no longer exposed", name)
			continue
		}
		if f.GetType() != typ {
			t.Errorf("%s is a %v, was a %v", name, f.GetType(), typ)
		}
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "go_gc_duration_seconds", "go_info",
		"go_build_info", "process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds", "process_open_fds"} {
		if families[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	if v, ok := value(families, "kpitrail_appends_total", "outcome", "ok"); !ok || v < 4 {
		t.Errorf("appends ok %v (%v), want at least the 4 writes", v, ok)
	}
	// A stale If-Match is refused before any append: no store conflict.
	if v, ok := value(families, "kpitrail_append_conflicts_total"); !ok || v != 0 {
		t.Errorf("append conflicts %v (%v), want 0", v, ok)
	}
	if v, _ := value(families, "kpitrail_http_requests_total", "route", "PUT /v1/indicators/{id}/target", "status", "409"); v != 1 {
		t.Errorf("HTTP 409s on the target route: %v, want 1", v)
	}
	if v, _ := value(families, "kpitrail_audit_verifications_total", "result", "ok"); v != 1 {
		t.Errorf("verifications ok %v, want 1", v)
	}
	if v, ok := value(families, "kpitrail_dead_letters"); !ok || v != 0 {
		t.Errorf("dead letters %v (%v)", v, ok)
	}

	// JetStream: the same figures the JetStream API reports.
	if v, _ := value(families, "kpitrail_jetstream_up"); v != 1 {
		t.Fatalf("kpitrail_jetstream_up %v", v)
	}
	var streamBytes float64
	for _, name := range []string{"KPITRAIL", "KPITRAIL_CHANGES"} {
		st, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info := st.CachedInfo()
		msgs, ok1 := value(families, "kpitrail_jetstream_stream_messages", "stream", name)
		b, ok2 := value(families, "kpitrail_jetstream_stream_bytes", "stream", name)
		if !ok1 || !ok2 || msgs != float64(info.State.Msgs) || b != float64(info.State.Bytes) || msgs == 0 {
			t.Errorf("stream %s: metrics %v messages %v bytes, JetStream says %d and %d", name, msgs, b, info.State.Msgs, info.State.Bytes)
		}
		streamBytes += b
		if lim, ok := value(families, "kpitrail_jetstream_stream_max_bytes", "stream", name); ok != (info.Config.MaxBytes > 0) || (ok && lim != float64(info.Config.MaxBytes)) {
			t.Errorf("stream %s: max bytes %v (%v), configured %d", name, lim, ok, info.Config.MaxBytes)
		}
		if lim, ok := value(families, "kpitrail_jetstream_stream_max_messages", "stream", name); ok != (info.Config.MaxMsgs > 0) || (ok && lim != float64(info.Config.MaxMsgs)) {
			t.Errorf("stream %s: max messages %v (%v), configured %d", name, lim, ok, info.Config.MaxMsgs)
		}
	}
	used, _ := value(families, "kpitrail_jetstream_storage_used_bytes")
	limit, _ := value(families, "kpitrail_jetstream_storage_limit_bytes")
	if used < streamBytes || limit <= used {
		t.Errorf("storage used %v of %v, the streams hold %v", used, limit, streamBytes)
	}
	ci, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pending, ok1 := value(families, "kpitrail_jetstream_consumer_pending_messages", "stream", "KPITRAIL_CHANGES", "consumer", "downstream")
	ackPending, ok2 := value(families, "kpitrail_jetstream_consumer_ack_pending_messages", "stream", "KPITRAIL_CHANGES", "consumer", "downstream")
	if !ok1 || !ok2 || pending != float64(ci.NumPending) || ackPending != float64(ci.NumAckPending) || ackPending != 1 || pending == 0 {
		t.Errorf("consumer: metrics pending %v ack pending %v, JetStream says %d and %d (want 1 unacknowledged)", pending, ackPending, ci.NumPending, ci.NumAckPending)
	}

	checkOperationsDoc(t, families)
}

// checkOperationsDoc holds docs/operations.md to the scrape: every
// kpitrail_ name it mentions, in its tables and in its alert rules, is a
// series a real server exposes.
func checkOperationsDoc(t *testing.T, families map[string]*dto.MetricFamily) {
	t.Helper()
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`kpitrail_[a-z0-9_]+`).FindAllString(string(doc), -1)
	if len(names) < 20 {
		t.Fatalf("docs/operations.md names only %d series", len(names))
	}
	for _, n := range names {
		base := n
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(n, suffix); ok && families[b] != nil && families[b].GetType() == dto.MetricType_HISTOGRAM {
				base = b
			}
		}
		if families[base] == nil {
			t.Errorf("docs/operations.md names %s, which /metrics does not expose", n)
		}
	}
	for name := range kpitrailSeries {
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/operations.md does not list %s", name)
		}
	}
	// The example rules are a Prometheus rule file: YAML, every rule an
	// alert with an expression, over the five concerns at least.
	_, block, ok := strings.Cut(string(doc), "```yaml\ngroups:")
	block, _, _ = strings.Cut(block, "```")
	if !ok {
		t.Fatal("docs/operations.md has no rule file")
	}
	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal([]byte("groups:"+block), &rules); err != nil {
		t.Fatalf("the example rules are not YAML: %v", err)
	}
	var exprs []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" {
				t.Errorf("rule %+v lacks an alert name or an expression", r)
			}
			exprs = append(exprs, r.Expr)
		}
	}
	all := strings.Join(exprs, "\n")
	for _, concern := range []string{"kpitrail_projection_lag_seconds", "kpitrail_dead_letters", "kpitrail_jetstream_storage_used_bytes",
		"kpitrail_jetstream_stream_max_bytes", "histogram_quantile(0.99, sum by (le) (rate(kpitrail_append_seconds_bucket",
		`kpitrail_audit_verifications_total{result="findings"}`} {
		if !strings.Contains(all, concern) {
			t.Errorf("no example rule on %s", concern)
		}
	}
}
