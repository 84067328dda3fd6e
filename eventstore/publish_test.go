package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// jetstreamPubAck is how jetstream's PublishMsg reads a reply: the
// reference parsePubAck must agree with.
func jetstreamPubAck(data []byte) (*jetstream.PubAck, error) {
	var ack struct {
		Type  string              `json:"type"`
		Error *jetstream.APIError `json:"error,omitempty"`
		*jetstream.PubAck
	}
	if err := json.Unmarshal(data, &ack); err != nil {
		return nil, jetstream.ErrInvalidJSAck
	}
	if ack.Error != nil {
		return nil, fmt.Errorf("nats: %w", ack.Error)
	}
	if ack.PubAck == nil || ack.PubAck.Stream == "" {
		return nil, jetstream.ErrInvalidJSAck
	}
	return ack.PubAck, nil
}

func checkPubAck(t *testing.T, s *JetStream, data string) {
	t.Helper()
	got, err := s.parsePubAck([]byte(data))
	want, wantErr := jetstreamPubAck([]byte(data))
	if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("%s: error %v, jetstream %v", data, err, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: %+v, jetstream %+v", data, got, want)
	}
	var apiErr *jetstream.APIError
	if errors.As(wantErr, &apiErr) {
		var gotAPI *jetstream.APIError
		if !errors.As(err, &gotAPI) || gotAPI.ErrorCode != apiErr.ErrorCode {
			t.Fatalf("%s: API error %v not found in %v", data, apiErr, err)
		}
	}
}

func TestParsePubAckIsJetstreams(t *testing.T) {
	s := &JetStream{cfg: Config{Stream: "KPITRAIL"}}
	for _, data := range []string{
		`{"stream":"KPITRAIL","seq":1}`, `{"stream":"KPITRAIL","seq":18446744073709551615}`,
		fmt.Sprintf(`{"stream":"KPITRAIL","seq":%d}`, uint64(math.MaxUint64)/3),
		`{"stream":"KPITRAIL","seq":18446744073709551616}`, `{"stream":"KPITRAIL","seq":0}`, `{"stream":"KPITRAIL","seq":01}`,
		`{"stream":"KPITRAIL","seq":-1}`, `{"stream":"KPITRAIL","seq":1.5}`, `{"stream":"KPITRAIL","seq":}`, `{"stream":"KPITRAIL","seq":1} `,
		`{"stream":"KPITRAIL","domain":"hub","seq":7}`, `{"stream":"KPITRAIL","seq":7,"duplicate": true}`,
		`{"stream":"OTHER","seq":7}`, `{"stream":"KPITRAILX","seq":7}`, `{"stream":"","seq":7}`, `{"seq":7}`, `{}`, ``, `nonsense`,
		`{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 5"}}`,
		`{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"},"stream":"KPITRAIL","seq":1}`,
		`{"type":"io.nats.jetstream.api.v1.pub_ack","stream":"KPITRAIL","seq":3}`,
		`{ "stream" : "KPITRAIL" , "seq" : 9 }`,
	} {
		checkPubAck(t, s, data)
	}
}

func FuzzParsePubAck(f *testing.F) {
	f.Add([]byte(`{"stream":"KPITRAIL","seq":12}`))
	f.Add([]byte(`{"stream":"KPITRAIL","seq":7,"duplicate": true}`))
	f.Add([]byte(`{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 5"}}`))
	s := &JetStream{cfg: Config{Stream: "KPITRAIL"}}
	f.Fuzz(func(t *testing.T, data []byte) { checkPubAck(t, s, string(data)) })
}

func replyTestConn(t *testing.T) *nats.Conn {
	t.Helper()
	emb, err := StartEmbedded(EmbeddedConfig{StoreDir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Shutdown)
	nc, err := emb.Connect(t.Name())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// TestReplyInboxes: every request gets its own reply, inboxes are reused
// one request at a time, an inbox whose request gave up is never read
// again, and a subject nobody serves is ErrNoResponders, as with
// nats.Conn.RequestMsg.
func TestReplyInboxes(t *testing.T) {
	nc := replyTestConn(t)
	var slow atomic.Bool
	if _, err := nc.Subscribe("svc.echo", func(m *nats.Msg) {
		if slow.Swap(false) {
			time.Sleep(300 * time.Millisecond)
		}
		_ = m.Respond(m.Data)
	}); err != nil {
		t.Fatal(err)
	}
	r := &replyInboxes{nc: nc}
	wait := 5 * time.Second
	ask := func(ctx context.Context, body string) (string, error) {
		m := nats.NewMsg("svc.echo")
		m.Data = []byte(body)
		resp, err := r.request(ctx, m, time.Now().Add(wait))
		if err != nil {
			return "", err
		}
		if m.Reply != "" {
			t.Fatalf("the caller's message keeps reply subject %q", m.Reply)
		}
		return string(resp.Data), nil
	}
	ctx := context.Background()
	for i := range 100 {
		if got, err := ask(ctx, fmt.Sprint("one-", i)); err != nil || got != fmt.Sprint("one-", i) {
			t.Fatalf("request %d: %q, %v", i, got, err)
		}
	}
	if len(r.free) != 1 {
		t.Fatalf("%d inboxes for one requester", len(r.free))
	}

	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				body := fmt.Sprintf("w%d-%d", w, i)
				if got, err := ask(ctx, body); err != nil || got != body {
					t.Errorf("%s: %q, %v", body, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := len(r.free); n < 1 || n > 17 {
		t.Fatalf("%d inboxes for 16 requesters", n)
	}

	// A request that gives up leaves its inbox behind: the late reply is
	// not taken for the next request's.
	r.free = r.free[:1]
	slow.Store(true)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err := ask(short, "late")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow reply: %v", err)
	}
	if len(r.free) != 0 {
		t.Fatal("the inbox of an abandoned request went back to the pool")
	}
	for i := range 5 {
		time.Sleep(100 * time.Millisecond)
		if got, err := ask(ctx, fmt.Sprint("after-", i)); err != nil || got != fmt.Sprint("after-", i) {
			t.Fatalf("after a late reply: %q, %v", got, err)
		}
	}
	// The same with a context that is never cancelled: the deadline ends
	// the wait.
	slow.Store(true)
	wait = 50 * time.Millisecond
	if _, err := ask(ctx, "late"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow reply past the deadline: %v", err)
	}
	wait = 5 * time.Second
	for i := range 5 {
		time.Sleep(100 * time.Millisecond)
		if got, err := ask(ctx, fmt.Sprint("again-", i)); err != nil || got != fmt.Sprint("again-", i) {
			t.Fatalf("after a late reply: %q, %v", got, err)
		}
	}

	m := nats.NewMsg("svc.nobody")
	if _, err := r.request(ctx, m, time.Now().Add(5*time.Second)); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("nobody serves it: %v", err)
	}
	if _, err := nc.RequestMsg(nats.NewMsg("svc.nobody"), time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("nats' own request: %v", err)
	}

	nc.Close()
	if _, err := ask(ctx, "closed"); !errors.Is(err, nats.ErrConnectionClosed) {
		t.Fatalf("closed connection: %v", err)
	}
}
