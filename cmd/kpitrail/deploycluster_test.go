//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/internal/natstest"
)

// deployPasswords are the secrets docker-compose.yml hands the cluster.
var deployPasswords = map[string]string{
	"NATS_PASSWORD": "kp-secret-1", "NATS_INTAKE_PASSWORD": "in-secret-2",
	"NATS_EMERGENCY_PASSWORD": "em-secret-3", "NATS_ANALYTICS_PASSWORD": "an-secret-4",
}

// startDeployCluster runs deploy/nats/nats.conf, unchanged, as the three
// nodes docker-compose.yml starts, on 127.0.0.1 ports, and returns their
// client URLs once JetStream has a meta leader.
func startDeployCluster(t *testing.T) string {
	t.Helper()
	bin := natstest.BuildServerBinary(t)
	conf, err := filepath.Abs(filepath.Join("..", "..", "deploy", "nats", "nats.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var client, route, monitor [3]string
	for i := range 3 {
		client[i], route[i], monitor[i] = freePort(t), freePort(t), freePort(t)
	}
	var urls []string
	for i := range 3 {
		var routes []string
		for j := range 3 {
			if j != i {
				routes = append(routes, "nats-route://127.0.0.1:"+route[j])
			}
		}
		dir := t.TempDir()
		log, err := os.Create(filepath.Join(dir, "nats.log"))
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-c", conf, "-a", "127.0.0.1", "-p", client[i], "-m", monitor[i],
			"--cluster", "nats://127.0.0.1:"+route[i], "--routes", strings.Join(routes, ","))
		cmd.Env = append(os.Environ(), "NATS_SERVER_NAME="+fmt.Sprintf("n%d", i+1), "NATS_STORE_DIR="+filepath.Join(dir, "store"),
			"NATS_USER=kpitrail")
		for k, v := range deployPasswords {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Stdout, cmd.Stderr = log, log
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			log.Close()
			if t.Failed() {
				out, _ := os.ReadFile(log.Name())
				t.Logf("node n%d log:\n%s", i+1, tail(string(out), 3000))
			}
		})
		urls = append(urls, "nats://127.0.0.1:"+client[i])
	}
	all := strings.Join(urls, ",")
	deadline := time.Now().Add(60 * time.Second)
	for {
		nc, err := nats.Connect(all, nats.UserInfo("kpitrail", deployPasswords["NATS_PASSWORD"]), nats.Timeout(time.Second))
		if err == nil {
			js, _ := jetstream.New(nc)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err = js.AccountInfo(ctx)
			if err == nil {
				// Answering is not enough: an R3 stream can be placed only
				// once the meta leader knows all three peers.
				var st jetstream.Stream
				if st, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "PLACEMENT_PROBE", Subjects: []string{"deploytest.probe"},
					Replicas: 3, Storage: jetstream.MemoryStorage}); err == nil {
					err = js.DeleteStream(ctx, st.CachedInfo().Config.Name)
				}
			}
			cancel()
			nc.Close()
			if err == nil {
				return all
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cluster from deploy/nats/nats.conf did not come up: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestNATSPermissionsOnTheDeployCluster runs the matrix against the
// three-node cluster configured as docker-compose.yml configures it, with
// kpitrail connected as it is there (its own user, and the intake's).
func TestNATSPermissionsOnTheDeployCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nats-server processes")
	}
	urls := startDeployCluster(t)
	cfg := ServeConfig{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Replicas: 3, AdminToken: adminToken, NATSURL: urls,
		NATSUser: "kpitrail", NATSPass: deployPasswords["NATS_PASSWORD"],
		NATSIntakeUser: "kpitrail-intake", NATSIntakePass: deployPasswords["NATS_INTAKE_PASSWORD"]}
	srv, err := StartServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	w := &natsWorld{s: &testServer{Server: srv, t: t, base: "http://" + srv.Addr()}, url: urls,
		kpitrail:   natsClient{"kpitrail", []nats.Option{nats.UserInfo("kpitrail", deployPasswords["NATS_PASSWORD"])}},
		department: natsClient{"emergency", []nats.Option{nats.UserInfo("emergency", deployPasswords["NATS_EMERGENCY_PASSWORD"])}},
		downstream: natsClient{"analytics", []nats.Option{nats.UserInfo("analytics", deployPasswords["NATS_ANALYTICS_PASSWORD"])}}}
	if nc, err := nats.Connect(urls, nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatal("an anonymous client connected to the cluster")
	}
	w.run(t)
}
