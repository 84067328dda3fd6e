package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

// TestMainRunServesAndShutsDownGracefully runs the program as the shell
// would (`kpitrail serve --data DIR --http 127.0.0.1:0`), finds the bound
// address in its structured log, uses it, and stops it like SIGTERM does.
func TestMainRunServesAndShutsDownGracefully(t *testing.T) {
	logR, logW := io.Pipe()
	m := NewMain(io.Discard, logW, func(k string) string {
		if k == "KPITRAIL_ADMIN_TOKEN" {
			return adminToken
		}
		return ""
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- m.Run(ctx, []string{"serve", "--data", t.TempDir(), "--http", "127.0.0.1:0"})
		logW.Close()
	}()
	addr := ""
	sc := bufio.NewScanner(logR)
	for addr == "" && sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == "kpitrail serving" {
			addr, _ = line["http"].(string)
		}
	}
	go io.Copy(io.Discard, logR)
	if addr == "" {
		t.Fatal("serve never logged its address")
	}
	res, err := http.Get("http://" + addr + "/readyz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz: %v", err)
	}
	res.Body.Close()
	cancel() // what SIGINT/SIGTERM do through signal.NotifyContext
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve ended with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatal("still serving after shutdown")
	}
}
