//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/internal/natstest"
	"kpitrail/lease"
)

// The instances test runs kpitrail as it is deployed at scale: a 3-node
// NATS cluster (nats-server processes) and three `kpitrail serve`
// processes built from this tree, each with its own data directory and
// read models, sharing the cluster's stream, token bucket and leases.

const clusterPassword = "cluster-secret-1"

// buildKpitrail builds this package's binary into the test's directory.
func buildKpitrail(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "kpitrail")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// instance is one serve process.
type instance struct {
	t     *testing.T
	name  string
	bin   string
	data  string
	keys  string
	addr  string
	nats  string
	cmd   *exec.Cmd
	log   *os.File
	alive bool
}

func (in *instance) start() {
	t := in.t
	t.Helper()
	args := []string{"serve", "--data", in.data, "--http", in.addr, "--nats-url", in.nats, "--nats-user", "kpitrail",
		"--replicas", "3", "--checkpoint-every", "1s", "--lease-ttl", "3s", "--instance", in.name,
		"--signing-key", filepath.Join(in.keys, "signing.key"), "--keyring", filepath.Join(in.keys, "keyring.json"),
		"--rate", "0", "--stream-check-every", "2s"}
	in.cmd = exec.Command(in.bin, args...)
	in.cmd.Env = append(os.Environ(), "KPITRAIL_NATS_PASSWORD="+clusterPassword, "KPITRAIL_ADMIN_TOKEN="+adminToken)
	var err error
	if in.log, err = os.OpenFile(filepath.Join(in.data+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
		t.Fatal(err)
	}
	in.cmd.Stdout, in.cmd.Stderr = in.log, in.log
	in.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := in.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	in.alive = true
}

func (in *instance) waitReady(within time.Duration) {
	in.t.Helper()
	deadline := time.Now().Add(within)
	for {
		res, err := http.Get("http://" + in.addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("%s not ready within %s: %v\n%s", in.name, within, err, in.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (in *instance) kill() {
	if in.alive {
		_ = in.cmd.Process.Kill()
		_ = in.cmd.Wait()
		in.log.Close()
		in.alive = false
	}
}

func (in *instance) logTail() string {
	b, _ := os.ReadFile(in.data + ".log")
	return tail(string(b), 3000)
}

// call sends one request; it never fails the test, so that writers under
// load can tell an unanswered request from an answered one.
func (in *instance) call(method, path, token string, body any, headers ...string) (response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return response{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://"+in.addr+path, rd)
	if err != nil {
		return response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := http.Client{Timeout: 20 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b}, err
}

func (in *instance) must(want int, method, path, token string, body any, headers ...string) map[string]any {
	in.t.Helper()
	r, err := in.call(method, path, token, body, headers...)
	if err != nil {
		in.t.Fatalf("%s %s %s: %v", in.name, method, path, err)
	}
	if r.Status != want {
		in.t.Fatalf("%s %s %s: status %d, want %d: %s", in.name, method, path, r.Status, want, r.Body)
	}
	var m map[string]any
	if len(r.Body) > 0 {
		if err := json.Unmarshal(r.Body, &m); err != nil {
			in.t.Fatalf("%s: %s", err, r.Body)
		}
	}
	return m
}

func position(m map[string]any) string {
	return strconv.FormatUint(uint64(m["position"].(float64)), 10)
}

// TestInstancesShareOneCluster is the acceptance test of many instances:
// writes spread over three serve processes; a token issued on one works on
// the others; a write on one is read on another at its position; two
// instances racing on one indicator accept one write and refuse the other
// with 409; killing the instance that runs the checkpointer moves it to
// another within 10 s; and killing one NATS node and one serve under load
// loses no acknowledged write, checked against the log and every
// instance's read models.
func TestInstancesShareOneCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nats-server and three kpitrail processes")
	}
	bin := buildKpitrail(t)
	cluster := natstest.RunCluster(t, 3, natstest.WithUserPassword("kpitrail", clusterPassword))
	keys := t.TempDir()
	var ins []*instance
	for i := range 3 {
		in := &instance{t: t, name: fmt.Sprintf("k%d", i+1), bin: bin, data: filepath.Join(t.TempDir(), "data"), keys: keys,
			addr: "127.0.0.1:" + freePort(t), nats: cluster.URL()}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("%s log:\n%s", in.name, in.logTail())
			}
			in.kill()
		})
		ins = append(ins, in)
	}
	// The first instance makes the deployment's signing key and the
	// keyring; the others are given the same files (as docker-compose.yml
	// mounts one volume), so each trusts what the others sign.
	ins[0].start()
	ins[0].waitReady(60 * time.Second)
	ins[1].start()
	ins[2].start()
	ins[1].waitReady(60 * time.Second)
	ins[2].waitReady(60 * time.Second)

	// Tokens: issued through one instance, used through the others.
	office := ins[0].must(201, "POST", "/v1/tokens", adminToken, map[string]any{"name": "考评办", "role": "office"})["token"].(string)
	reporter := ins[1].must(201, "POST", "/v1/tokens", adminToken,
		map[string]any{"name": "城管委填报员", "role": "reporter", "departments": []string{"区城管委"}})["token"].(string)

	// Writes spread over all three, each read on the next instance at the
	// write's position.
	task := ins[2].must(201, "POST", "/v1/tasks?wait=true", office,
		map[string]any{"task_id": "green", "year": 2022, "title": "疏解整治促提升专项行动", "lead_department": "区城管委"})
	ins[0].must(200, "GET", "/v1/tasks/green", reporter, nil, "X-Kpitrail-Min-Position", position(task))
	ind := ins[0].must(201, "POST", "/v1/tasks/green/indicators?wait=true", office,
		map[string]any{"indicator_id": "greening", "name": "园林增绿", "unit": "公顷", "direction": "higher"})
	ins[1].must(200, "GET", "/v1/indicators/greening", reporter, nil, "X-Kpitrail-Min-Position", position(ind))
	fig := ins[1].must(201, "POST", "/v1/indicators/greening/figures?wait=true", reporter, figureBody("13"))
	for _, in := range []*instance{ins[0], ins[2]} {
		got := in.must(200, "GET", "/v1/indicators/greening/figures", reporter, nil, "X-Kpitrail-Min-Position", position(fig))
		if figs, _ := got["figures"].([]any); len(figs) != 1 {
			t.Fatalf("%s: the figure reported on k2 is not read at its position: %v", in.name, got)
		}
	}
	for _, in := range ins {
		in.must(200, "GET", "/v1/tasks", reporter, nil)
	}

	// Two instances race on one indicator with the same If-Match.
	target := ins[2].must(200, "PUT", "/v1/indicators/greening/target", office, map[string]any{"value": "28"})
	version := etag(uint64(target["version"].(float64)))
	statuses, bodies := make([]int, 2), make([]string, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			r, err := ins[i].call("PUT", "/v1/indicators/greening/target", office, map[string]any{"value": fmt.Sprintf("3%d", i), "reason": "年中调整"}, "If-Match", version)
			if err != nil {
				t.Error(err)
			}
			statuses[i], bodies[i] = r.Status, string(r.Body)
		})
	}
	wg.Wait()
	if !(statuses[0] == 200 && statuses[1] == 409 || statuses[0] == 409 && statuses[1] == 200) {
		t.Fatalf("two instances racing with one If-Match answered %v, want one 200 and one 409: %v", statuses, bodies)
	}

	// Under load from every instance: kill the checkpointer's instance and
	// one NATS node.
	ctx := context.Background()
	js, err := jetstream.New(cluster.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	leases, err := js.KeyValue(ctx, lease.DefaultBucket)
	if err != nil {
		t.Fatal(err)
	}
	holder := func() string {
		e, err := leases.Get(ctx, leaseCheckpointer)
		if err != nil {
			return ""
		}
		return string(e.Value())
	}
	var victim *instance
	for deadline := time.Now().Add(10 * time.Second); victim == nil; {
		for _, in := range ins {
			if in.name == holder() {
				victim = in
			}
		}
		if victim == nil && time.Now().After(deadline) {
			t.Fatalf("no instance holds the checkpointer lease (holder %q)", holder())
		}
		time.Sleep(50 * time.Millisecond)
	}

	type ack struct {
		task     string
		position uint64
	}
	var mu sync.Mutex
	var acks []ack
	stop := make(chan struct{})
	var load sync.WaitGroup
	for i, in := range ins {
		for w := range 2 {
			load.Go(func() {
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					id := fmt.Sprintf("load-%d-%d-%d", i, w, n)
					r, err := in.call("POST", "/v1/tasks", office, map[string]any{"task_id": id, "year": 2023,
						"title": "负载任务 " + id, "lead_department": "区城管委"}, "Idempotency-Key", id)
					if err != nil || r.Status != http.StatusCreated {
						time.Sleep(50 * time.Millisecond) // unacknowledged: the writer moves on
						continue
					}
					var m map[string]any
					if json.Unmarshal(r.Body, &m) != nil {
						continue
					}
					mu.Lock()
					acks = append(acks, ack{id, uint64(m["position"].(float64))})
					mu.Unlock()
				}
			})
		}
	}
	time.Sleep(time.Second)
	victim.kill()
	killed := time.Now()
	cluster.Node(1).Kill()
	var took time.Duration
	for {
		h := holder()
		if h != "" && h != victim.name {
			took = time.Since(killed)
			break
		}
		if time.Since(killed) > 10*time.Second {
			t.Fatalf("the checkpointer did not move from %s within 10 s (holder %q)", victim.name, h)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("checkpointer moved from %s to %s in %s", victim.name, holder(), took.Round(10*time.Millisecond))
	time.Sleep(3 * time.Second)
	close(stop)
	load.Wait()
	if len(acks) < 20 {
		t.Fatalf("only %d writes acknowledged under load", len(acks))
	}

	// Every acknowledged write is in the log, at its position ...
	stream, err := js.Stream(ctx, "KPITRAIL")
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	for _, a := range acks {
		msg, err := stream.GetMsg(ctx, a.position)
		if err != nil {
			t.Fatalf("acknowledged write %s at position %d: %v", a.task, a.position, err)
		}
		if !strings.HasSuffix(msg.Subject, ".task."+a.task) {
			t.Fatalf("position %d holds %s, not acknowledged task %s", a.position, msg.Subject, a.task)
		}
		last = max(last, a.position)
	}
	// ... and in every instance's read models, the killed one's once it is
	// back on its own data directory.
	victim.start()
	victim.waitReady(60 * time.Second)
	at := strconv.FormatUint(last, 10)
	for _, in := range ins {
		board := in.must(200, "GET", "/v1/tasks?year=2023", office, nil, "X-Kpitrail-Min-Position", at)
		have := map[string]bool{}
		for _, task := range board["tasks"].([]any) {
			have[task.(map[string]any)["id"].(string)] = true
		}
		for _, a := range acks {
			if !have[a.task] {
				t.Fatalf("%s: acknowledged task %s (position %d) is not in the read models", in.name, a.task, a.position)
			}
		}
	}
	t.Logf("%d writes acknowledged under load, all in the log and in the read models of %d instances", len(acks), len(ins))
}
