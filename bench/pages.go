package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"kpitrail/app"
	"kpitrail/auth"
	"kpitrail/console"
	"kpitrail/demo"
	"kpitrail/eventstore"
	"kpitrail/projections"
)

// pages times the web console's board and indicator pages over HTTP, as a
// browser asks for them: signed in (the session is looked up and its
// token authenticated on every request), read from a Live read model with
// its runner following the log, rendered from the templates, sent over a
// loopback connection and read to the end. Once on the demo (the seed's
// 2022 table), once on the loaded 10-year history (4,480 tasks).
func (r *runner) pages(ctx context.Context, dir string) ([]Result, error) {
	var out []Result
	demoRes, err := r.demoPages(ctx, filepath.Join(dir, "demo"))
	out = append(out, demoRes...)
	if err != nil {
		return out, err
	}
	lg, err := r.readModels(ctx)
	if err != nil {
		return out, err
	}
	w := lg.workload
	last := w.FirstYear + w.Years - 1
	histRes, err := timePages(ctx, filepath.Join(dir, "history"), lg.readModels, lg.node.store, []pageRequest{
		{"board", fmt.Sprintf("board, latest year (%d tasks of %d)", w.Tasks, w.Tasks*w.Years),
			func(*rand.Rand) string { return "/console/board" }},
		{"board-all", fmt.Sprintf("board, every year (%d tasks)", w.Tasks*w.Years),
			func(*rand.Rand) string { return "/console/board?year=all" }},
		{"indicator", fmt.Sprintf("indicator page, a random one of %d (%d years of history)", w.Tasks*w.Years*w.IndicatorsPerTask, w.Years),
			func(rng *rand.Rand) string {
				return "/console/indicators/" + indicatorID(last-rng.IntN(w.Years), rng.IntN(w.Tasks), rng.IntN(w.IndicatorsPerTask))
			}},
	}, r.scale(20, 100), fmt.Sprintf("%d events", lg.events), "≤ 300 ms")
	return append(out, histRes...), err
}

// demoPages loads the demo into a server of its own and times its pages.
func (r *runner) demoPages(ctx context.Context, dir string) ([]Result, error) {
	n, err := startNode(ctx, filepath.Join(dir, "nats"), true, nil)
	if err != nil {
		return nil, err
	}
	defer n.close()
	p := auth.Principal{TokenID: "bench", Name: "bench", Role: auth.RoleOffice}
	if err := demo.Run(ctx, app.NewService(n.store), demo.SeedYear, demo.Staff(p)); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "readmodels.db")
	if err := projections.Rebuild(ctx, n.store, path, projections.RebuildOptions{}); err != nil {
		return nil, err
	}
	return timePages(ctx, dir, path, n.store, []pageRequest{
		{"board", "board (the seed's 20 tasks)", func(*rand.Rand) string { return "/console/board" }},
		{"indicator", "indicator page (高新技术企业保有量, 生产安全事故)", func(rng *rand.Rand) string {
			return "/console/indicators/" + []string{"i2022-hitech-stock", "i2022-accidents"}[rng.IntN(2)]
		}},
	}, r.scale(50, 200), "the demo", "≤ 50 ms")
}

type pageRequest struct {
	name, what string
	path       func(*rand.Rand) string
}

// pageClients is how many browsers ask at once: an office at work, on a
// server of two cores.
const pageClients = 4

func timePages(ctx context.Context, dir, readModels string, store *eventstore.JetStream, reqs []pageRequest, perClient int,
	data, target string) ([]Result, error) {
	live, err := projections.OpenLive(ctx, readModels, store, projections.RunnerOptions{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, err
	}
	defer live.Close()
	if err := live.WaitReady(ctx); err != nil {
		return nil, err
	}
	const admin = "bench-console-admin"
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	tokens, err := auth.OpenTokens(filepath.Join(dir, "auth.db"), auth.TokenConfig{AdminToken: admin})
	if err != nil {
		return nil, err
	}
	defer tokens.Close()
	sessions, err := tokens.Sessions(auth.SessionConfig{})
	if err != nil {
		return nil, err
	}
	srv := httptest.NewServer(console.New(console.Config{Service: app.NewService(store), Tokens: tokens, Sessions: sessions,
		Reads: live, Waiter: live, Events: store, Chains: store, Keyring: store.Keyring(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	defer srv.Close()
	var out []Result
	for _, q := range reqs {
		res, err := timePage(ctx, srv.URL, admin, q, perClient)
		if err != nil {
			return out, fmt.Errorf("%s: %w", q.name, err)
		}
		res.What = fmt.Sprintf("console %s on %s, %d clients over HTTP, p95", q.what, data, pageClients)
		res.Target = "p95 " + target
		limit := 50.0
		if strings.Contains(target, "300") {
			limit = 300
		}
		res.Met = met(res.P95 <= limit)
		out = append(out, res)
	}
	return out, nil
}

var pageCSRF = regexp.MustCompile(`name="csrf" value="[0-9a-f]+"`)

// signIn is the sign-in form a browser posts; the client keeps the cookie.
func signIn(base, token string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute}
	res, err := c.Get(base + "/console/login")
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := pageCSRF.Find(body)
	if m == nil {
		return nil, fmt.Errorf("no sign-in form")
	}
	csrf := strings.TrimSuffix(strings.TrimPrefix(string(m), `name="csrf" value="`), `"`)
	res, err = c.PostForm(base+"/console/login", url.Values{"csrf": {csrf}, "token": {token}})
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/console/board" {
		return nil, fmt.Errorf("sign-in ended at %s with %d", res.Request.URL.Path, res.StatusCode)
	}
	return c, nil
}

func timePage(ctx context.Context, base, token string, q pageRequest, perClient int) (Result, error) {
	clients := make([]*http.Client, pageClients)
	for i := range clients {
		var err error
		if clients[i], err = signIn(base, token); err != nil {
			return Result{}, err
		}
	}
	get := func(c *http.Client, path string) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
		res, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		n, err := io.Copy(io.Discard, res.Body)
		if err == nil && res.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s: %d", path, res.StatusCode)
		}
		return int(n), err
	}
	// Warm: the first request of each page reads the file and fills the
	// read models' kept board, as the first reader after a write would.
	for i, c := range clients {
		if _, err := get(c, q.path(rand.New(rand.NewPCG(uint64(i), 1)))); err != nil {
			return Result{}, err
		}
	}
	lat := &latencies{}
	var wg sync.WaitGroup
	errs := make([]error, pageClients)
	bytes := make([]int, pageClients)
	cpu0 := processCPU()
	start := time.Now()
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 99))
			for range perClient {
				t := time.Now()
				n, err := get(c, q.path(rng))
				lat.add(time.Since(t))
				if err != nil {
					errs[i] = err
					return
				}
				bytes[i] += n
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	cpu := processCPU() - cpu0
	total := 0
	for i, err := range errs {
		if err != nil {
			return Result{}, err
		}
		total += bytes[i]
	}
	n := pageClients * perClient
	return Result{Name: "pages-" + q.name, Value: float64(n) / el.Seconds(), Unit: "pages/s",
		P50: msf(lat.percentile(50)), P95: msf(lat.percentile(95)), P99: msf(lat.percentile(99)),
		// CPU per page is what the machine's other work cannot inflate:
		// the latencies above are shared with whatever else runs.
		Notes: []string{fmt.Sprintf("%s KB per page", num(float64(total)/float64(n)/1024)),
			fmt.Sprintf("%.1f ms of CPU per page (the process: server and clients)", msf(cpu)/float64(n))}}, nil
}
