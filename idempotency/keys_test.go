package idempotency

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/internal/natstest"
)

// Both records pass the same test: the SQLite file and the KV bucket.
func TestClaimReleaseAndRace(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "idempotency.db")
		reopen := func() *Keys {
			k, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
		claimReleaseAndRace(t, reopen)
	})
	t.Run("nats-kv", func(t *testing.T) {
		srv := natstest.RunEmbedded(t)
		reopen := func() *Keys {
			js, err := jetstream.New(srv.Connect(t))
			if err != nil {
				t.Fatal(err)
			}
			k, err := OpenKV(context.Background(), js, 1)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
		claimReleaseAndRace(t, reopen)
	})
}

func claimReleaseAndRace(t *testing.T, reopen func() *Keys) {
	ctx := context.Background()
	k := reopen()
	if first, err := k.Claim(ctx, "tok/a", "d1"); err != nil || first != "" {
		t.Fatalf("first claim: %q %v", first, err)
	}
	if first, _ := k.Claim(ctx, "tok/a", "d2"); first != "d1" {
		t.Fatalf("second claim saw %q", first)
	}
	if err := k.Release(ctx, "tok/a", "d2"); err != nil {
		t.Fatal(err)
	}
	if first, _ := k.Claim(ctx, "tok/a", "d2"); first != "d1" {
		t.Fatal("a release by another request freed the key")
	}
	_ = k.Release(ctx, "tok/a", "d1")
	if first, _ := k.Claim(ctx, "tok/a", "d2"); first != "" {
		t.Fatal("a released key was not free")
	}
	// Many requests race for one key: exactly one takes it.
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, err := k.Claim(ctx, "tok/race", string(rune('a'+i)))
			if err != nil {
				t.Error(err)
			}
			if first == "" {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d requests took the key", won)
	}
	// The record outlives the process.
	k.Close()
	k = reopen()
	defer k.Close()
	if first, _ := k.Claim(ctx, "tok/a", "d3"); first != "d2" {
		t.Fatalf("after reopening the key's first request is %q", first)
	}
}
