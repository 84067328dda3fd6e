package auth

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/internal/natstest"
)

// Every token and session test runs against both stores: auth.db (one
// instance) and the NATS KV buckets (many instances on a cluster).

// StoreKinds names the stores.
var StoreKinds = []string{"sqlite", "nats-kv"}

// OpenTestTokens opens a fresh store of kind for t, closed when t ends.
func OpenTestTokens(t *testing.T, kind string, cfg TokenConfig) *Tokens {
	t.Helper()
	var tok *Tokens
	var err error
	switch kind {
	case "sqlite":
		tok, err = OpenTokens(filepath.Join(t.TempDir(), "auth.db"), cfg)
	case "nats-kv":
		srv := natstest.RunEmbedded(t)
		js, jerr := jetstream.New(srv.Connect(t))
		if jerr != nil {
			t.Fatal(jerr)
		}
		tok, err = OpenTokensKV(context.Background(), js, KVConfig{}, cfg)
	default:
		t.Fatalf("unknown store %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tok.Close() })
	return tok
}

// EachStore runs fn once per store kind, as a subtest.
func EachStore(t *testing.T, fn func(t *testing.T, kind string)) {
	for _, k := range StoreKinds {
		t.Run(k, func(t *testing.T) { fn(t, k) })
	}
}

// rawSessions is everything the store holds of sessions, as text, and how
// many sessions it holds.
func rawSessions(t *testing.T, tok *Tokens) (string, int) {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	n := 0
	switch st := tok.store.(type) {
	case *sqliteStore:
		rows, err := st.db.Query(`SELECT id_hash || token_hash || token_id || created_at FROM sessions`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			b.WriteString(s)
			n++
		}
	case *kvStore:
		keys, err := st.sessions.ListKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for k := range keys.Keys() {
			e, err := st.sessions.Get(ctx, k)
			if err != nil {
				continue
			}
			b.WriteString(k)
			b.Write(e.Value())
			n++
		}
	}
	return b.String(), n
}
