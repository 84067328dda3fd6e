package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// Bucket is the KV bucket of the record on a cluster.
const Bucket = "KPITRAIL_IDEMPOTENCY"

// OpenKV opens (or creates) the record in a KV bucket with replicas.
func OpenKV(ctx context.Context, js jetstream.JetStream, replicas int) (*Keys, error) {
	if replicas <= 0 {
		replicas = 1
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: Bucket, History: 1, Replicas: replicas,
		Storage: jetstream.FileStorage, Description: "kpitrail idempotency keys: digest of the request that first used each"})
	if err != nil {
		return nil, fmt.Errorf("idempotency bucket: %w", err)
	}
	return &Keys{kv: kv}, nil
}

// kvKey names a key in the bucket by its SHA-256: a client's key may hold
// any character, a bucket key only a few.
func kvKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "k." + hex.EncodeToString(sum[:])
}

func (k *Keys) claimKV(ctx context.Context, key, digest string) (string, error) {
	for attempt := 0; attempt < 10; attempt++ {
		_, err := k.kv.Create(ctx, kvKey(key), []byte(digest))
		if err == nil {
			return "", nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return "", fmt.Errorf("claim idempotency key: %w", err)
		}
		e, err := k.kv.Get(ctx, kvKey(key))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // released between the two calls: take it
		}
		if err != nil {
			return "", fmt.Errorf("read idempotency key: %w", err)
		}
		return string(e.Value()), nil
	}
	return "", errors.New("claim idempotency key: claimed and released concurrently too often")
}

func (k *Keys) releaseKV(ctx context.Context, key, digest string) error {
	e, err := k.kv.Get(ctx, kvKey(key))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if string(e.Value()) != digest {
		return nil // another request's claim
	}
	err = k.kv.Purge(ctx, kvKey(key), jetstream.LastRevision(e.Revision()))
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return nil
	}
	return err
}
