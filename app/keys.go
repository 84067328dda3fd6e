package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"kpitrail/domain"
)

// Keys remember which request first used an idempotency key (the
// transport's digest of method, path and body); see package idempotency.
type Keys interface {
	// Claim returns "" when it took key for digest, otherwise the digest
	// the key was first used with.
	Claim(ctx context.Context, key, digest string) (string, error)
	// Release frees a key a refused request had claimed.
	Release(ctx context.Context, key, digest string) error
}

// claim takes the command id's key for the request, or refuses a key
// first used for another request. taken reports whether this call took
// it, so that a refusal can give it back.
func (s *Service) claim(ctx context.Context, meta domain.Meta, opts Options) (taken bool, err error) {
	if s.Keys == nil || opts.Request == "" {
		return false, nil
	}
	first, err := s.Keys.Claim(ctx, meta.CommandID, opts.Request)
	if err != nil {
		return false, domain.Internal(err, "idempotency key")
	}
	if first != "" && first != opts.Request {
		return false, ReusedKey(meta.CommandID)
	}
	return first == "", nil
}

// ReusedKey refuses an idempotency key sent again with a different request.
// commandID is the token-scoped id; the client knows only its own key.
func ReusedKey(commandID string) error {
	_, key, _ := strings.Cut(commandID, "/")
	return domain.RuleViolation("Idempotency-Key", "reused_with_different_request",
		"the key %q was first used for a different request (method, path or body); a new request needs a new key", key)
}

// RequestDigest identifies a command request for its idempotency key:
// the transport's method (NATS for the intake), the path or subject, and
// the command as decoded, so that a retry that spells the same body
// differently (spacing, key order) is still the same request.
func RequestDigest(method, path string, cmd domain.Command) string {
	body, err := json.Marshal(cmd)
	if err != nil {
		body = []byte(err.Error())
	}
	h := sha256.New()
	h.Write([]byte(method + "\n" + path + "\n" + cmd.CommandName() + "\n"))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}
