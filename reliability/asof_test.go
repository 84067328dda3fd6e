package reliability

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"kpitrail/bench"
)

// asOfFigures is the size of the store the as-of test replays. CI keeps it
// small; the figures in docs/reliability.md come from
// KPITRAIL_ASOF_FIGURES=100000.
func asOfFigures() int {
	if n, err := strconv.Atoi(os.Getenv("KPITRAIL_ASOF_FIGURES")); err == nil && n > 0 {
		return n
	}
	return 1500
}

// metric reads one value from /metrics.
func (s *server) metric(name string) float64 {
	s.t.Helper()
	res, err := http.Get("http://" + s.addr + "/metrics")
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	s.t.Fatalf("no metric %s", name)
	return 0
}

// asOfRead asks for the indicators as of t until it is answered, waiting
// out each 429 for its Retry-After; it returns the 429s it met.
func (s *server) asOfRead(token string, t time.Time, deadline time.Time) (busy int, err error) {
	u := "http://" + s.addr + "/v1/indicators?as_of=" + url.QueryEscape(t.Format(time.RFC3339))
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := (&http.Client{Timeout: 10 * time.Minute}).Do(req)
		if err != nil {
			return busy, err
		}
		res.Body.Close()
		switch res.StatusCode {
		case 200:
			return busy, nil
		case 429:
			busy++
			wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
			if wait == 0 || res.Header.Get("Content-Type") != "application/problem+json" {
				return busy, fmt.Errorf("429 without Retry-After or problem: %v", res.Header)
			}
			time.Sleep(time.Duration(wait) * time.Second)
		default:
			return busy, fmt.Errorf("status %d", res.StatusCode)
		}
	}
	return busy, fmt.Errorf("not answered before the deadline")
}

// TestParallelAndAbandonedAsOf drives a real serve process on a generated
// store: twenty readers ask for twenty distinct instants at once while the
// process's resident set is sampled; the replays run a few at a time, the
// others are told to come back (429 with Retry-After), and every reader is
// answered in the end. Readers of one instant share one replay. Ten
// readers that give up after a second take their replays with them.
// Replay files a crash left behind are gone after the start.
//
// The long run for docs/reliability.md:
//
//	KPITRAIL_ASOF_FIGURES=100000 go test -run ParallelAndAbandonedAsOf -v -timeout 60m ./reliability/
func TestParallelAndAbandonedAsOf(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a kpitrail process")
	}
	data := t.TempDir()
	figures := asOfFigures()
	began := time.Now()
	info, err := bench.WriteStore(context.Background(), data, figures)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("store: %d events, %d figures, written in %v", info.Events, info.Figures, time.Since(began).Round(time.Second))
	// What a crash during a replay leaves behind.
	leftovers := []string{filepath.Join(data, "asof", "asof-1-1.db"), filepath.Join(data, "asof", ".asof-2-2.db.build-123")}
	os.MkdirAll(filepath.Join(data, "asof"), 0o750)
	for _, f := range leftovers {
		os.WriteFile(f, make([]byte, 1<<20), 0o640)
	}

	began = time.Now()
	s := startServer(t, data)
	for _, f := range leftovers {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Fatalf("%s survived the start", f)
		}
	}
	analyst := s.must(201, "POST", "/v1/tokens", adminToken, map[string]any{"name": "复盘", "role": "analyst"})["token"].(string)
	s.waitCaughtUp(analyst)
	pid := s.cmd.Process.Pid
	t.Logf("serve caught up in %v; resident %d MiB", time.Since(began).Round(time.Second), mib(rssOf(pid)))

	// Twenty readers, twenty instants, at once.
	base := rssOf(pid)
	sampler := sampleRSS(pid)
	began = time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	busy, failed := 0, []error{}
	for i := range 20 {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			b, err := s.asOfRead(analyst, info.RecordedBy(i), time.Now().Add(30*time.Minute))
			mu.Lock()
			busy += b
			if err != nil {
				failed = append(failed, err)
			}
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	peak := sampler.Peak()
	took := time.Since(began)
	if len(failed) > 0 {
		t.Fatalf("as-of reads failed: %v\n%s", failed, tail(s.log.String(), 2000))
	}
	started := s.metric("kpitrail_asof_replays_started_total")
	t.Logf("20 parallel distinct as_of reads: all answered in %v, %d answers of 429 on the way, %v replays; resident %d MiB before, peak %d MiB",
		took.Round(100*time.Millisecond), busy, started, mib(base), mib(peak))
	const limit = 1 << 30
	if peak > limit {
		t.Fatalf("peak resident set %d MiB is over the 1 GiB budget", mib(peak))
	}

	// Five readers of one new instant: one replay.
	before := s.metric("kpitrail_asof_replays_started_total")
	one := info.RecordedBy(25)
	wg = sync.WaitGroup{}
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.asOfRead(analyst, one, time.Now().Add(30*time.Minute)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := s.metric("kpitrail_asof_replays_started_total") - before; n != 1 {
		t.Fatalf("five readers of one instant started %v replays", n)
	}

	// Ten readers who give up after a second: their replays stop with them
	// (on a small store a replay may finish first; it is then kept).
	abandoned := time.Now()
	for i := range 10 {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			u := "http://" + s.addr + "/v1/indicators?as_of=" + url.QueryEscape(info.RecordedBy(-i-1).Format(time.RFC3339))
			req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
			req.Header.Set("Authorization", "Bearer "+analyst)
			if res, err := http.DefaultClient.Do(req); err == nil {
				res.Body.Close()
			}
		}(i)
	}
	wg.Wait()
	deadline := time.Now().Add(30 * time.Second)
	for s.metric("kpitrail_asof_replays_running") > 0 {
		if time.Now().After(deadline) {
			t.Fatal("abandoned replays are still running 30 s after their readers left")
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("10 abandoned reads: no replay running %v after they began; %v replays cancelled; resident %d MiB",
		time.Since(abandoned).Round(100*time.Millisecond), s.metric("kpitrail_asof_replays_cancelled_total"), mib(rssOf(pid)))
}
