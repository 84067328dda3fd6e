package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/natsauth"
)

// natsClient is one identity that connects to kpitrail's NATS over TCP.
type natsClient struct {
	name string
	opts []nats.Option
}

// natsWorld is a kpitrail serving on a NATS that outside clients reach:
// the embedded server's --nats-listen, or an external cluster.
type natsWorld struct {
	s          *testServer
	url        string
	kpitrail   natsClient // kpitrail's own identity, to look at the streams
	department natsClient
	other      string // another department's name, "" when there is none
	downstream natsClient
}

// watched is a client connection that records the permission violations
// the server reports to it.
type watched struct {
	*nats.Conn
	mu         sync.Mutex
	violations []string
}

func (w *natsWorld) connect(t *testing.T, c natsClient, extra ...nats.Option) *watched {
	t.Helper()
	wc := &watched{}
	opts := append(append([]nats.Option{nats.Name(c.name), nats.MaxReconnects(0)}, c.opts...), extra...)
	opts = append(opts, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if errors.Is(err, nats.ErrPermissionViolation) {
			wc.mu.Lock()
			wc.violations = append(wc.violations, err.Error())
			wc.mu.Unlock()
		}
	}))
	nc, err := nats.Connect(w.url, opts...)
	if err != nil {
		t.Fatalf("connect as %s: %v", c.name, err)
	}
	t.Cleanup(nc.Close)
	wc.Conn = nc
	return wc
}

// refused waits for the server to report a violation naming subject.
func (wc *watched) refused(t *testing.T, what, subject string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		wc.mu.Lock()
		for _, v := range wc.violations {
			if strings.Contains(v, `"`+subject+`"`) {
				wc.mu.Unlock()
				return
			}
		}
		wc.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s: the server reported no permission violation for %q (saw %v)", what, subject, wc.violations)
}

func (w *natsWorld) request(t *testing.T, nc *watched, token, command, body string, timeout time.Duration) (*nats.Msg, error) {
	t.Helper()
	msg := nats.NewMsg("kpitrail.cmd." + command)
	msg.Data = []byte(body)
	msg.Header.Set("Authorization", "Bearer "+token)
	return nc.RequestMsg(msg, timeout)
}

// waitTask waits until the read models show a task.
func (w *natsWorld) waitTask(t *testing.T, token, id string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if w.s.do("GET", "/v1/tasks/"+id, token, nil).Status == http.StatusOK {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("task %s never appeared", id)
}

// run proves every allowed action works and every forbidden one is refused
// by the server, and that the refused ones changed nothing.
func (w *natsWorld) run(t *testing.T) {
	ctx := context.Background()
	office := w.s.token("考评办", "office")
	admin := w.connect(t, w.kpitrail)
	adminJS, err := jetstream.New(admin.Conn)
	if err != nil {
		t.Fatal(err)
	}
	events := func() jetstream.StreamInfo {
		t.Helper()
		st, err := adminJS.Stream(ctx, natsauth.EventStream)
		if err != nil {
			t.Fatalf("the event stream: %v", err)
		}
		return *st.CachedInfo()
	}
	inbox := nats.CustomInboxPrefix(natsauth.InboxPrefix(w.department.name))
	dept := w.connect(t, w.department, inbox)
	spy := w.connect(t, w.department, inbox)

	// Forbidden: reading everyone's requests (and their bearer tokens),
	// answering in the intake's place, reading other inboxes.
	heard := make(chan *nats.Msg, 64)
	spied := []struct{ subject, queue string }{{"kpitrail.cmd.>", ""}, {"kpitrail.cmd.>", natsauth.IntakeQueue}, {"_INBOX.>", ""}}
	if w.other != "" {
		spied = append(spied, struct{ subject, queue string }{natsauth.InboxPrefix(w.other) + ".>", ""})
	}
	for _, s := range spied {
		handler := func(m *nats.Msg) {
			heard <- m
			// A fake acknowledgement, as a rogue intake would send.
			if m.Reply != "" {
				fake := nats.NewMsg(m.Reply)
				fake.Header.Set("Kpitrail-Status", "200")
				fake.Data = []byte(`{"aggregate":{"type":"task","id":"fake"},"version":1,"position":999999}`)
				_ = spy.PublishMsg(fake)
			}
		}
		if s.queue != "" {
			_, err = spy.QueueSubscribe(s.subject, s.queue, handler)
		} else {
			_, err = spy.Subscribe(s.subject, handler)
		}
		if err != nil {
			t.Fatal(err)
		}
		spy.refused(t, "subscribe "+s.subject+" "+s.queue, s.subject)
	}

	// Allowed: requests on kpitrail.cmd.<command> get kpitrail's real reply.
	for i := 0; i < 6; i++ {
		id := fmt.Sprintf("nats-%d", i)
		res, err := w.request(t, dept, office, "task.register",
			fmt.Sprintf(`{"task_id":%q,"year":2022,"title":"乡村振兴战略","lead_department":"区农业农村局"}`, id), 10*time.Second)
		if err != nil {
			t.Fatalf("intake request as %s: %v", w.department.name, err)
		}
		var reply struct {
			Position uint64 `json:"position"`
			Version  uint64 `json:"version"`
		}
		_ = json.Unmarshal(res.Data, &reply)
		if res.Header.Get("Kpitrail-Status") != "200" || reply.Version != 1 || reply.Position == 0 || reply.Position == 999999 {
			t.Fatalf("intake reply %s %s", res.Header.Get("Kpitrail-Status"), res.Data)
		}
		w.waitTask(t, office, id)
	}
	if len(heard) != 0 {
		t.Fatalf("a refused subscription received %d messages", len(heard))
	}

	// Forbidden: publishing straight onto an event subject.
	before := events().State
	forged := nats.NewMsg("kpitrail.events.huairou.task.forged")
	forged.Data = []byte(`{"events":[]}`)
	if err := dept.PublishMsg(forged); err != nil {
		t.Fatal(err)
	}
	dept.refused(t, "publish onto an event subject", "kpitrail.events.huairou.task.forged")

	// Forbidden: the JetStream API on the event stream, as a department and
	// as a downstream system.
	down := w.connect(t, w.downstream, nats.CustomInboxPrefix(natsauth.InboxPrefix(w.downstream.name)))
	for _, c := range []*watched{dept, down} {
		js, err := jetstream.New(c.Conn, jetstream.WithDefaultTimeout(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		shrunk := events().Config
		shrunk.MaxMsgs, shrunk.Discard = 1, jetstream.DiscardOld
		if _, err := js.UpdateStream(ctx, shrunk); err == nil {
			t.Fatal("a client shrank the event stream")
		}
		c.refused(t, "stream update", "$JS.API.STREAM.UPDATE."+natsauth.EventStream)
		if err := js.DeleteStream(ctx, natsauth.EventStream); err == nil {
			t.Fatal("a client deleted the event stream")
		}
		c.refused(t, "stream delete", "$JS.API.STREAM.DELETE."+natsauth.EventStream)
		if err := c.Publish("$JS.API.STREAM.PURGE."+natsauth.EventStream, nil); err != nil {
			t.Fatal(err)
		}
		c.refused(t, "stream purge", "$JS.API.STREAM.PURGE."+natsauth.EventStream)
		if _, err := js.CreateConsumer(ctx, natsauth.EventStream, jetstream.ConsumerConfig{Durable: w.downstream.name}); err == nil {
			t.Fatal("a client read the event stream through a consumer")
		}
	}
	// Forbidden: having the intake publish somewhere by naming it as the
	// reply subject. The command itself is legitimate and is applied.
	for i, reply := range []string{"kpitrail.events.task.injected", "$JS.API.STREAM.DELETE." + natsauth.EventStream} {
		msg := nats.NewMsg("kpitrail.cmd.task.register")
		msg.Reply = reply
		msg.Data = []byte(fmt.Sprintf(`{"task_id":"inject-%d","year":2022,"title":"注入","lead_department":"区农业农村局"}`, i))
		msg.Header.Set("Authorization", "Bearer "+office)
		if err := dept.PublishMsg(msg); err != nil {
			t.Fatal(err)
		}
		w.waitTask(t, office, fmt.Sprintf("inject-%d", i))
	}
	time.Sleep(200 * time.Millisecond) // the intake answers right after the append
	after := events()
	if after.Config.MaxMsgs != -1 || after.Config.Discard != jetstream.DiscardNew || after.State.FirstSeq != 1 {
		t.Fatalf("the event stream changed: %+v first %d", after.Config, after.State.FirstSeq)
	}
	// Only the two injected commands themselves were appended since.
	if after.State.Msgs != before.Msgs+2 {
		t.Fatalf("event stream went from %d to %d messages, want +2 (the two commands, no forged or reply message)", before.Msgs, after.State.Msgs)
	}
	st, _ := adminJS.Stream(ctx, natsauth.EventStream)
	for _, subj := range []string{"kpitrail.events.huairou.task.forged", "kpitrail.events.task.injected"} {
		if _, err := st.GetLastMsgForSubject(ctx, subj); !errors.Is(err, jetstream.ErrMsgNotFound) {
			t.Fatalf("a message reached %s: %v", subj, err)
		}
	}

	// Allowed: a downstream system creates its durable consumer and reads
	// the change feed.
	w.s.mustDo(http.StatusCreated, "POST", "/v1/tasks/nats-0/indicators", office, map[string]any{
		"indicator_id": "nats-firms", "name": "高新技术企业保有量", "unit": "家", "direction": "higher"})
	w.s.mustDo(http.StatusCreated, "POST", "/v1/indicators/nats-firms/figures", office, figureBody("610"))
	downJS, err := jetstream.New(down.Conn, jetstream.WithDefaultTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	cons, err := downJS.CreateOrUpdateConsumer(ctx, "KPITRAIL_CHANGES", jetstream.ConsumerConfig{
		Durable: w.downstream.name, FilterSubject: "kpitrail.changes.*.*.*", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatalf("downstream durable consumer: %v", err)
	}
	var got jetstream.Msg
	for deadline := time.Now().Add(20 * time.Second); got == nil && time.Now().Before(deadline); {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			got = m
		}
	}
	if got == nil || !strings.HasPrefix(got.Subject(), "kpitrail.changes.") {
		t.Fatal("the downstream system read nothing from the change feed")
	}
	if err := got.DoubleAck(ctx); err != nil {
		t.Fatalf("downstream ack: %v", err)
	}
	// Forbidden for a downstream system: another system's consumer, the
	// feed's subjects without a consumer, the feed stream itself, commands.
	if _, err := downJS.CreateOrUpdateConsumer(ctx, "KPITRAIL_CHANGES", jetstream.ConsumerConfig{Durable: "someone-else"}); err == nil {
		t.Fatal("a downstream system created a consumer under another name")
	}
	down.refused(t, "another consumer", "$JS.API.CONSUMER.CREATE.KPITRAIL_CHANGES.someone-else")
	if _, err := down.Subscribe("kpitrail.changes.>", func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	down.refused(t, "subscribe to the feed's subjects", "kpitrail.changes.>")
	if err := downJS.DeleteStream(ctx, "KPITRAIL_CHANGES"); err == nil {
		t.Fatal("a downstream system deleted the change feed")
	}
	if err := down.Publish("kpitrail.cmd.task.register", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	down.refused(t, "send a command", "kpitrail.cmd.task.register")
	if _, err := adminJS.Stream(ctx, "KPITRAIL_CHANGES"); err != nil {
		t.Fatalf("the change feed stream: %v", err)
	}
}

// TestNATSPermissionsOnTheEmbeddedServer runs the matrix against serve's
// own NATS, exposed with --nats-listen and two departments and one
// downstream system configured.
func TestNATSPermissionsOnTheEmbeddedServer(t *testing.T) {
	natsAddr := "127.0.0.1:" + freePort(t)
	cfg := ServeConfig{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Replicas: 1, AdminToken: adminToken, NATSListen: natsAddr,
		NATSDepartments: []string{"emergency", "science"}, NATSDownstream: []string{"analytics"}}
	srv, err := StartServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	keys := filepath.Join(cfg.DataDir, "nats")
	seed := func(file string) []nats.Option {
		o, err := nats.NkeyOptionFromSeed(filepath.Join(keys, file))
		if err != nil {
			t.Fatal(err)
		}
		return []nats.Option{o}
	}
	w := &natsWorld{s: &testServer{Server: srv, t: t, base: "http://" + srv.Addr()}, url: "nats://" + natsAddr,
		kpitrail:   natsClient{"kpitrail", seed("kpitrail.nk")},
		department: natsClient{"emergency", seed("intake/emergency.nk")}, other: "science",
		downstream: natsClient{"analytics", seed("downstream/analytics.nk")}}
	// No one gets in without a key.
	if nc, err := nats.Connect(w.url, nats.MaxReconnects(0)); err == nil {
		nc.Close()
		t.Fatal("an anonymous client connected")
	}
	w.run(t)
}
