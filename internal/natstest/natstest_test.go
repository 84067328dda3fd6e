package natstest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/internal/natstest"
)

const stream = "KPITRAIL"

func newJS(t *testing.T, nc *nats.Conn) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func createStream(t *testing.T, js jetstream.JetStream, replicas int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name:     stream,
		Subjects: []string{"kpitrail.events.>"},
		Storage:  jetstream.FileStorage,
		Replicas: replicas,
	})
	if err != nil {
		t.Fatalf("create stream: %v", err)
	}
}

func publishN(t *testing.T, js jetstream.JetStream, from, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := from; i < from+n; i++ {
		subj := fmt.Sprintf("kpitrail.events.kpi.%d", i)
		if _, err := js.Publish(ctx, subj, []byte(fmt.Sprintf("event-%d", i))); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
}

func assertStream(t *testing.T, js jetstream.JetStream, wantMsgs uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream lookup: %v", err)
	}
	if got := s.CachedInfo().State.Msgs; got != wantMsgs {
		t.Fatalf("stream has %d messages, want %d", got, wantMsgs)
	}
	last, err := s.GetMsg(ctx, wantMsgs)
	if err != nil {
		t.Fatalf("get message %d: %v", wantMsgs, err)
	}
	if want := fmt.Sprintf("event-%d", wantMsgs-1); string(last.Data) != want {
		t.Fatalf("last message %q, want %q", last.Data, want)
	}
}

func TestEmbeddedRestartKeepsData(t *testing.T) {
	t.Parallel()
	e := natstest.RunEmbedded(t)
	if !e.Server().JetStreamConfig().SyncAlways {
		t.Fatal("embedded server should fsync before ack by default")
	}
	url := e.URL()

	nc := e.Connect(t)
	js := newJS(t, nc)
	createStream(t, js, 1)
	publishN(t, js, 0, 20)
	nc.Close()

	e.Restart(t)
	if e.URL() != url {
		t.Logf("restart moved the server from %s to %s", url, e.URL())
	}
	js = newJS(t, e.Connect(t))
	assertStream(t, js, 20)
	publishN(t, js, 20, 1)
	assertStream(t, js, 21)
}

func TestEmbeddedWithoutSync(t *testing.T) {
	t.Parallel()
	e := natstest.RunEmbedded(t, natstest.WithoutSync())
	if e.Server().JetStreamConfig().SyncAlways {
		t.Fatal("WithoutSync should turn off fsync before ack")
	}
}

func TestEmbeddedAuth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opt  natstest.Option
	}{
		{"userpass", natstest.WithUserPassword("kpi", "s3cr$t")},
		{"token", natstest.WithToken("tok-123")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := natstest.RunEmbedded(t, tc.opt)
			if nc, err := nats.Connect(e.URL(), nats.MaxReconnects(0)); err == nil {
				nc.Close()
				t.Fatal("connected without credentials")
			}
			js := newJS(t, e.Connect(t))
			if _, err := js.AccountInfo(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestEmbeddedTLS(t *testing.T) {
	t.Parallel()
	e := natstest.RunEmbedded(t, natstest.GenerateTLS(t).Option())
	if !strings.HasPrefix(e.URL(), "tls://") {
		t.Fatalf("URL %s should use tls://", e.URL())
	}
	js := newJS(t, e.Connect(t))
	if _, err := js.AccountInfo(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestProcessKillRestartKeepsData(t *testing.T) {
	t.Parallel()
	p := natstest.RunProcess(t)
	pid := p.Pid()

	nc := p.Connect(t)
	js := newJS(t, nc)
	createStream(t, js, 1)
	publishN(t, js, 0, 50)
	nc.Close()

	// Every acknowledged publish must survive a SIGKILL because the server
	// fsyncs before acknowledging.
	p.Kill()
	if p.Running() {
		t.Fatal("process still running after Kill")
	}
	p.Restart(t)
	if p.Pid() == pid {
		t.Fatal("restart reused the old pid")
	}
	js = newJS(t, p.Connect(t))
	assertStream(t, js, 50)

	p.Stop()
	if p.Running() {
		t.Fatal("process still running after Stop")
	}
	p.Restart(t)
	assertStream(t, newJS(t, p.Connect(t)), 50)
}

func TestProcessAuthTLS(t *testing.T) {
	t.Parallel()
	certs := natstest.GenerateTLS(t)
	p := natstest.RunProcess(t,
		natstest.WithUserPassword("kpi", "pa ss\"word"),
		certs.Option(),
		natstest.WithoutSync(),
	)
	if !strings.HasPrefix(p.URL(), "tls://") {
		t.Fatalf("URL %s should use tls://", p.URL())
	}
	if nc, err := nats.Connect(p.URL(), nats.RootCAs(certs.CAFile), nats.UserInfo("kpi", "wrong"), nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatal("connected with a wrong password")
	}
	js := newJS(t, p.Connect(t))
	createStream(t, js, 1)
	publishN(t, js, 0, 3)
	assertStream(t, js, 3)
}

func TestClusterSurvivesStreamLeaderKill(t *testing.T) {
	t.Parallel()
	start := time.Now()
	c := natstest.RunCluster(t, 3, natstest.WithToken("cluster-token"))
	t.Logf("3-node cluster ready in %s", time.Since(start).Round(time.Millisecond))
	if got := len(c.URLs()); got != 3 {
		t.Fatalf("URLs() has %d entries", got)
	}

	js := newJS(t, c.Connect(t, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond)))
	createStream(t, js, 3)
	publishN(t, js, 0, 10)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	old, err := c.StreamLeader(ctx, js, stream)
	if err != nil {
		t.Fatal(err)
	}
	if name := c.Node(old).Name(); name != fmt.Sprintf("n%d", old+1) {
		t.Fatalf("node %d is named %s", old, name)
	}
	killed := time.Now()
	c.Node(old).Kill()

	leader := waitNewLeader(ctx, t, c, js, old)
	t.Logf("new stream leader n%d after %s", leader+1, time.Since(killed).Round(time.Millisecond))

	for {
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := js.Publish(pctx, "kpitrail.events.kpi.10", []byte("event-10"))
		pcancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("publish after leader kill: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	assertStream(t, js, 11)

	// The killed node must rejoin and catch up from the new leader.
	c.Node(old).Restart(t)
	if !c.Node(old).Running() {
		t.Fatal("restarted node not running")
	}
	publishN(t, js, 11, 1)
	assertStream(t, js, 12)
}

func waitNewLeader(ctx context.Context, t *testing.T, c *natstest.Cluster, js jetstream.JetStream, old int) int {
	t.Helper()
	for {
		lctx, cancel := context.WithTimeout(ctx, time.Second)
		idx, err := c.StreamLeader(lctx, js, stream)
		cancel()
		if err == nil && idx != old {
			return idx
		}
		if ctx.Err() != nil {
			t.Fatalf("no new stream leader: %v", errors.Join(err, ctx.Err()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
