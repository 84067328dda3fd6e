package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/domain"
)

// KV buckets of the tokens and the console sessions when several
// instances share one NATS cluster.
const (
	TokensBucket   = "KPITRAIL_TOKENS"
	SessionsBucket = "KPITRAIL_SESSIONS"
)

// KVConfig places the token and session buckets.
type KVConfig struct {
	// Replicas of each bucket: 3 on a 3-node cluster.
	Replicas int
}

// OpenTokensKV opens the token store kept in NATS KV, shared by every
// instance on the cluster: a token issued through one authenticates on
// all, and a revocation reaches all at once (each lookup reads the bucket;
// nothing is cached per instance).
//
// Layout: name.<sha256(name)> holds every token issued under the name (the
// secret only as its SHA-256, as in auth.db), and is only ever changed by
// compare-and-set on its revision, so an issue, a rotation and a
// revocation of one name are each one atomic write, and two instances
// issuing one name at once cannot both find it free. tok.<hash> and
// id.<id> point at the name's key; they are written before the name's
// entry, so a pointer whose name never got the token leads nowhere and
// authenticates nobody.
func OpenTokensKV(ctx context.Context, js jetstream.JetStream, kc KVConfig, cfg TokenConfig) (*Tokens, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if kc.Replicas <= 0 {
		kc.Replicas = 1
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: TokensBucket, History: 1, Replicas: kc.Replicas,
		Storage: jetstream.FileStorage, Description: "kpitrail API tokens, hashed"})
	if err != nil {
		return nil, fmt.Errorf("tokens bucket: %w", err)
	}
	return newTokens(&kvStore{js: js, kv: kv, replicas: kc.Replicas}, cfg), nil
}

type kvStore struct {
	js       jetstream.JetStream
	kv       jetstream.KeyValue
	sessions jetstream.KeyValue
	replicas int
}

func (s *kvStore) close() error { return nil }

func nameKey(name string) string {
	sum := sha256.Sum256([]byte(name))
	return "name." + hex.EncodeToString(sum[:])
}

func getJSON(ctx context.Context, kv jetstream.KeyValue, key string, v any) (uint64, error) {
	e, err := kv.Get(ctx, key)
	if err != nil {
		return 0, err
	}
	return e.Revision(), json.Unmarshal(e.Value(), v)
}

// byPointer follows tok.<hash> or id.<id> to the name's tokens.
func (s *kvStore) byPointer(ctx context.Context, pointer string) (string, []tokenRow, uint64, error) {
	e, err := s.kv.Get(ctx, pointer)
	if err != nil {
		return "", nil, 0, err
	}
	key := string(e.Value())
	var rows []tokenRow
	rev, err := getJSON(ctx, s.kv, key, &rows)
	return key, rows, rev, err
}

func (s *kvStore) tokenByHash(ctx context.Context, hash string) (tokenRow, error) {
	_, rows, _, err := s.byPointer(ctx, "tok."+hash)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return tokenRow{}, ErrBadToken
	}
	if err != nil {
		return tokenRow{}, err
	}
	for _, r := range rows {
		if r.Hash == hash {
			return r, nil
		}
	}
	return tokenRow{}, ErrBadToken
}

func (s *kvStore) tokens(ctx context.Context) ([]tokenRow, error) {
	keys, err := s.kv.ListKeysFiltered(ctx, "name.>")
	if err != nil {
		return nil, err
	}
	var out []tokenRow
	for k := range keys.Keys() {
		var rows []tokenRow
		if _, err := getJSON(ctx, s.kv, k, &rows); err != nil {
			if errors.Is(err, jetstream.ErrKeyNotFound) {
				continue
			}
			return nil, err
		}
		out = append(out, rows...)
	}
	slices.SortFunc(out, func(a, b tokenRow) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

// update changes the name's tokens by compare-and-set, judging again on
// the newest entry when another instance changed it meanwhile.
func (s *kvStore) update(ctx context.Context, key string, change func(rows []tokenRow) ([]tokenRow, error)) error {
	for attempt := 0; attempt < 20; attempt++ {
		var rows []tokenRow
		rev, err := getJSON(ctx, s.kv, key, &rows)
		if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return err
		}
		next, err := change(rows)
		if err != nil {
			return err
		}
		b, err := json.Marshal(next)
		if err != nil {
			return err
		}
		if rev == 0 {
			_, err = s.kv.Create(ctx, key, b)
		} else {
			_, err = s.kv.Update(ctx, key, b, rev)
		}
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue
		}
		return err
	}
	return fmt.Errorf("tokens of %s changed concurrently too often", key)
}

func (s *kvStore) issue(ctx context.Context, row tokenRow, settle func([]tokenRow) ([]tokenRow, error)) error {
	key := nameKey(row.Name)
	for _, p := range []string{"tok." + row.Hash, "id." + row.ID} {
		if _, err := s.kv.Put(ctx, p, []byte(key)); err != nil {
			return fmt.Errorf("issue token: %w", err)
		}
	}
	return s.update(ctx, key, func(rows []tokenRow) ([]tokenRow, error) {
		var unrevoked []tokenRow
		for _, r := range rows {
			if !r.revoked() {
				unrevoked = append(unrevoked, r)
			}
		}
		changed, err := settle(unrevoked)
		if err != nil {
			return nil, err
		}
		for _, c := range changed {
			for i := range rows {
				if rows[i].ID == c.ID {
					rows[i] = c
				}
			}
		}
		return append(rows, row), nil
	})
}

func (s *kvStore) revoke(ctx context.Context, id string, at time.Time) error {
	e, err := s.kv.Get(ctx, "id."+id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return domain.NotFound("token %s", id)
	}
	if err != nil {
		return err
	}
	return s.update(ctx, string(e.Value()), func(rows []tokenRow) ([]tokenRow, error) {
		for i := range rows {
			if rows[i].ID == id && !rows[i].revoked() {
				rows[i].RevokedAt = at
				return rows, nil
			}
		}
		return nil, domain.NotFound("token %s", id)
	})
}

func (s *kvStore) openSessions(ctx context.Context, absolute time.Duration) error {
	// The bucket forgets a session its own TTL after the last write: no
	// session outlives its absolute end in storage either.
	kv, err := s.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: SessionsBucket, History: 1, Replicas: s.replicas,
		TTL: absolute, Storage: jetstream.FileStorage, Description: "kpitrail console sessions, hashed"})
	if err != nil {
		return fmt.Errorf("sessions bucket: %w", err)
	}
	s.sessions = kv
	return nil
}

func (s *kvStore) putSession(ctx context.Context, idHash string, r sessionRow) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = s.sessions.Put(ctx, "s."+idHash, b)
	return err
}

func (s *kvStore) session(ctx context.Context, idHash string) (sessionRow, error) {
	var r sessionRow
	_, err := getJSON(ctx, s.sessions, "s."+idHash, &r)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return sessionRow{}, ErrNoSession
	}
	return r, err
}

func (s *kvStore) touchSession(ctx context.Context, idHash string, seen time.Time) error {
	var r sessionRow
	rev, err := getJSON(ctx, s.sessions, "s."+idHash, &r)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil // ended meanwhile: never bring it back
	}
	if err != nil {
		return err
	}
	r.SeenAt = seen
	b, _ := json.Marshal(r)
	_, err = s.sessions.Update(ctx, "s."+idHash, b, rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return nil // ended or touched by another instance
	}
	return err
}

func (s *kvStore) endSession(ctx context.Context, idHash string) error {
	// Purge, not delete: nothing of the session stays in the bucket.
	return s.sessions.Purge(ctx, "s."+idHash)
}

func (s *kvStore) sweepSessions(context.Context, time.Time, time.Time) error {
	return nil // the bucket's TTL ends them; idle ones are ended when next used
}
