package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"kpitrail/internal/natstest"
	"kpitrail/natsauth"
)

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func caPool(t *testing.T, file string) *x509.CertPool {
	pem, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return pool
}

// deptKey authenticates as a department system configured on serve.
func deptKey(t *testing.T, dataDir, name string) nats.Option {
	t.Helper()
	o, err := nats.NkeyOptionFromSeed(filepath.Join(dataDir, "nats", "intake", name+".nk"))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestTLSForHTTPAndNATS serves HTTPS and an embedded NATS port behind TLS
// and nkeys, with a certificate made for the test.
func TestTLSForHTTPAndNATS(t *testing.T) {
	certs := natstest.GenerateTLS(t)
	natsAddr := "127.0.0.1:" + freePort(t)
	cfg := ServeConfig{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Replicas: 1, AdminToken: adminToken,
		TLSCert: certs.CertFile, TLSKey: certs.KeyFile, NATSListen: natsAddr, NATSTLSCert: certs.CertFile, NATSTLSKey: certs.KeyFile,
		NATSDepartments: []string{"dept"}}
	srv, err := StartServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	secure := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: caPool(t, certs.CAFile)}}}
	res, err := secure.Get("https://" + srv.Addr() + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("https: %v", err)
	}
	res.Body.Close()
	if res, err := http.Get("http://" + srv.Addr() + "/healthz"); err == nil && res.StatusCode == 200 {
		t.Fatal("plain HTTP was served on the TLS port")
	}
	key := deptKey(t, cfg.DataDir, "dept")
	nc, err := nats.Connect("tls://"+natsAddr, nats.RootCAs(certs.CAFile), key)
	if err != nil {
		t.Fatalf("nats over TLS with the department's key: %v", err)
	}
	nc.Close()
	if nc, err := nats.Connect("nats://"+natsAddr, key); err == nil {
		nc.Close()
		t.Fatal("nats without TLS was accepted")
	}
	stranger, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := stranger.PublicKey()
	if nc, err := nats.Connect("tls://"+natsAddr, nats.RootCAs(certs.CAFile), nats.Nkey(pub, stranger.Sign)); err == nil {
		nc.Close()
		t.Fatal("nats with a key serve does not know was accepted")
	}
	if nc, err := nats.Connect("tls://"+natsAddr, nats.RootCAs(certs.CAFile), nats.UserInfo("dept", "guess")); err == nil {
		nc.Close()
		t.Fatal("nats with a password was accepted")
	}
}

// TestExternalClusterOverTLS connects serve to a separate nats-server that
// requires TLS, trusting it through --nats-ca.
func TestExternalClusterOverTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a nats-server process")
	}
	certs := natstest.GenerateTLS(t)
	proc := natstest.RunProcess(t, certs.Option(), natstest.WithUserPassword("kp", "pw-for-test"))
	cfg := ServeConfig{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Replicas: 1, AdminToken: adminToken,
		NATSURL: proc.URL(), NATSCA: certs.CAFile, NATSUser: "kp", NATSPass: "pw-for-test"}
	srv, err := StartServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("serve against a TLS cluster: %v", err)
	}
	s := &testServer{Server: srv, t: t, base: "http://" + srv.Addr()}
	defer srv.Close()
	office := s.token("考评办", "office")
	s.mustDo(201, "POST", "/v1/tasks?wait=true", office, map[string]any{"task_id": "x", "year": 2022, "title": "安全生产", "lead_department": "区应急局"})
	cfg.NATSCA = ""
	cfg.DataDir = t.TempDir()
	if srv2, err := StartServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
		srv2.Close()
		t.Fatal("connected to a TLS cluster without trusting its CA")
	}
}

// TestSecretsStayOutOfLogsAndFiles runs a server whose log is captured and
// checks that no token or password reaches the log, and that tokens are
// stored only hashed.
func TestSecretsStayOutOfLogsAndFiles(t *testing.T) {
	logs := &syncBuffer{}
	natsAddr := "127.0.0.1:" + freePort(t)
	cfg := ServeConfig{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Replicas: 1, AdminToken: adminToken,
		NATSListen: natsAddr, NATSDepartments: []string{"dept"}}
	srv, err := StartServer(context.Background(), cfg, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{Server: srv, t: t, base: "http://" + srv.Addr()}
	office := s.token("考评办", "office")
	s.mustDo(201, "POST", "/v1/tasks", office, map[string]any{"task_id": "x", "year": 2022, "title": "安全生产", "lead_department": "区应急局"})
	s.do("GET", "/v1/tasks", "kpt_"+strings.Repeat("ab", 32), nil) // a wrong token is not logged either
	s.do("GET", "/v1/tasks", office+"x", nil)
	srv.Close()
	out := logs.String()
	if !strings.Contains(out, "token issued") {
		t.Fatalf("the log was not captured: %q", out)
	}
	secrets := []string{adminToken, office, strings.Repeat("ab", 32)}
	for _, seed := range []string{"kpitrail.nk", "intake/dept.nk"} {
		b, err := os.ReadFile(filepath.Join(cfg.DataDir, "nats", seed))
		if err != nil || len(strings.TrimSpace(string(b))) < 50 {
			t.Fatalf("seed %s: %v", seed, err)
		}
		secrets = append(secrets, strings.TrimSpace(string(b)))
	}
	for _, secret := range secrets {
		if strings.Contains(out, secret) {
			t.Fatalf("a secret reached the log: %q", secret)
		}
	}
	raw, err := os.ReadFile(filepath.Join(cfg.DataDir, "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(filepath.Join(cfg.DataDir, "auth.db-wal"))
	if bytes.Contains(append(raw, wal...), []byte(office)) || bytes.Contains(append(raw, wal...), []byte(strings.TrimPrefix(office, "kpt_"))) {
		t.Fatal("a token is stored in clear")
	}
}

func TestRateLimitPerToken(t *testing.T) {
	cfg := ServeConfig{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Replicas: 1, AdminToken: adminToken, RatePerSecond: 1, RateBurst: 3}
	srv, err := StartServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	s := &testServer{Server: srv, t: t, base: "http://" + srv.Addr()}
	limited := 0
	for i := 0; i < 6; i++ {
		r := s.do("GET", "/v1/tokens", adminToken, nil)
		if r.Status == http.StatusTooManyRequests {
			limited++
			if r.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}
	}
	if limited < 2 {
		t.Fatalf("6 requests within a burst of 3 at 1/s: %d limited", limited)
	}
}

// TestNATSIntakeThroughServe submits a command over the exposed NATS port,
// authenticated by a token header, as a department's system would.
func TestNATSIntakeThroughServe(t *testing.T) {
	natsAddr := "127.0.0.1:" + freePort(t)
	cfg := ServeConfig{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Replicas: 1, AdminToken: adminToken,
		NATSListen: natsAddr, NATSDepartments: []string{"dept"}}
	srv, err := StartServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	s := &testServer{Server: srv, t: t, base: "http://" + srv.Addr()}
	office := s.token("考评办", "office")
	// A department reads replies on its own inbox prefix only.
	nc, err := nats.Connect("nats://"+natsAddr, deptKey(t, cfg.DataDir, "dept"), nats.CustomInboxPrefix(natsauth.InboxPrefix("dept")))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	msg := nats.NewMsg("kpitrail.cmd.task.register")
	msg.Data = []byte(`{"task_id":"rural","year":2022,"title":"乡村振兴战略","lead_department":"区农业农村局"}`)
	msg.Header.Set("Authorization", "Bearer "+office)
	res, err := nc.RequestMsg(msg, 10e9)
	if err != nil {
		t.Fatal(err)
	}
	if res.Header.Get("Kpitrail-Status") != "200" || !strings.Contains(string(res.Data), `"version":1`) {
		t.Fatalf("intake reply %s %s", res.Header.Get("Kpitrail-Status"), res.Data)
	}
	msg.Header.Del("Authorization")
	res, err = nc.RequestMsg(msg, 10e9)
	if err != nil || res.Header.Get("Kpitrail-Status") != "401" {
		t.Fatalf("unauthenticated intake: %v %s", err, res.Data)
	}
}
