package eventstore_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/eventstore"
)

// TestReadsWaitForAServerToServeDirectGets: a read made while no server
// serves the stream's direct gets (here: the stream is gone, and serves
// direct gets again 300 ms later, as a just-formed or restarting replica
// set has a moment with none) waits for one, as publishes do, instead of failing with "no
// responders". Each kind of direct get the store makes is asked: a single
// message (StoredAt), an aggregate's messages in batches (AggregateMessages)
// and a unit's last message (a unit's Read).
func TestReadsWaitForAServerToServeDirectGets(t *testing.T) {
	emb, s := embeddedStore(t)
	appendOK(t, s, taskRef("a"), 0, "a1", taskIn("甲区：稳增长，完成全年目标的52％", "d1"))
	ctx := ctxFor(t)
	orig, err := s.Stream().GetMsg(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.Stream().CachedInfo().Config
	nc := connect(t, emb)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteStream(ctx, cfg.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := nc.Request("$JS.API.DIRECT.GET."+cfg.Name, []byte(`{"seq":1}`), time.Second); !errors.Is(err, nats.ErrNoResponders) {
		t.Fatalf("a direct get with the stream gone: %v, want no responders", err)
	}

	type result struct {
		what string
		took time.Duration
		err  error
	}
	// oneMessage reads with read and wants exactly the message appended.
	oneMessage := func(read func(func(eventstore.Message) error) error) error {
		n := 0
		err := read(func(m eventstore.Message) error {
			if m.Err != nil || m.Foreign != nil || len(m.Events) != 1 {
				return errors.New("not the message appended")
			}
			n++
			return nil
		})
		if err == nil && n != 1 {
			err = errors.New("read no message")
		}
		return err
	}
	reads := map[string]func() error{
		"StoredAt": func() error {
			_, err := s.StoredAt(ctx, 1)
			return err
		},
		"AggregateMessages": func() error {
			return oneMessage(func(fn func(eventstore.Message) error) error { return s.AggregateMessages(ctx, taskRef("a"), fn) })
		},
		"Read of a unit": func() error {
			return oneMessage(func(fn func(eventstore.Message) error) error {
				return s.Read(ctx, 0, eventstore.ReadOptions{Unit: "d1"}, fn)
			})
		},
	}
	results := make(chan result, len(reads))
	var wg sync.WaitGroup
	for what, read := range reads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			err := read()
			results <- result{what, time.Since(start), err}
		}()
	}

	time.Sleep(300 * time.Millisecond)
	// The stream comes back without direct gets, takes its message again,
	// and only then serves direct gets: a read never meets the stream
	// between its creation and the message.
	noDirect := cfg
	noDirect.AllowDirect = false
	if _, err := js.CreateStream(ctx, noDirect); err != nil {
		t.Fatal(err)
	}
	again := nats.NewMsg(orig.Subject)
	again.Data = orig.Data
	for k, v := range orig.Header {
		if strings.HasPrefix(k, "Kpitrail-") {
			again.Header[k] = v
		}
	}
	if _, err := js.PublishMsg(ctx, again); err != nil {
		t.Fatal(err)
	}
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(results)
	for r := range results {
		if r.err != nil {
			t.Errorf("%s: %v", r.what, r.err)
		}
		// Answered only once the stream was back: it waited.
		if r.took < 250*time.Millisecond {
			t.Errorf("%s answered after %s, before the stream was back", r.what, r.took)
		}
	}
}

// TestContradictionsThatCannotBeReadAreAnError: comparing the read models'
// last event with the stream when the stream's message cannot be read is
// an error, not "no contradictions" (which would let `kpitrail stream`
// keep read models it never compared); the same comparison that can read
// finds the message the read models name and agrees.
func TestContradictionsThatCannotBeReadAreAnError(t *testing.T) {
	_, s := embeddedStore(t)
	envs := appendOK(t, s, taskRef("a"), 0, "a1", taskIn("甲区：稳增长", "d1"))
	ctx := ctxFor(t)
	info, err := s.Stream().Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mark := eventstore.Mark{Position: 1, EventPosition: 1, EventID: envs[0].ID}
	if c, err := s.Contradictions(ctx, info, mark); err != nil || len(c) != 0 {
		t.Fatalf("the read models' own last event: %q, %v", c, err)
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if c, err := s.Contradictions(gone, info, mark); err == nil || len(c) != 0 {
		t.Fatalf("with nothing read: %q, %v; want an error", c, err)
	}
	mark.EventID = "another"
	if c, err := s.Contradictions(ctx, info, mark); err != nil || len(c) != 1 || !strings.Contains(c[0], "holds another message at position 1") {
		t.Fatalf("another event at the read models' last position: %q, %v", c, err)
	}
}
