package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/domain"
	"kpitrail/signing"
)

// Config sets up the JetStream stream. Zero values take the defaults.
type Config struct {
	Stream        string // default "KPITRAIL"
	SubjectPrefix string // default DefaultSubjectPrefix
	Replicas      int    // default 1; 3 on a cluster
	// DuplicateWindow is JetStream's own message-id dedupe window. kpitrail's
	// idempotency does not depend on it (see Append); it only saves a
	// round trip for a retry that comes quickly. Default 2 minutes.
	DuplicateWindow time.Duration
	MaxAge          time.Duration // default 0: keep forever
	MaxBytes        int64         // default -1: unlimited
	// CacheAggregates bounds the write model kept in memory. Default 10000.
	CacheAggregates int
	// Timeout bounds each server round trip. Default 10 s.
	Timeout time.Duration
	Clock   Clock
	// Attach opens the store on the stream as it is, never creating or
	// changing it: the stream guard (OpenGuard) decides that, or, for a
	// tool that only reads, nothing may.
	Attach bool
	// Signer signs every appended message. Default: a fresh key, for tests
	// and throwaway stores; serve passes the instance's key, kept in a file
	// outside NATS.
	Signer *signing.Signer
	// Trust is the keyring the write model and Read judge messages with
	// (Authentic). Default: the signer's key alone. It must trust the
	// signer, or the store would write what its own readers refuse.
	Trust *signing.Keyring
	// Shared says other processes append to the stream too (several
	// kpitrail instances on one cluster): every Load reads what is new on
	// the aggregate's subject since the cached write model, one direct-get
	// round trip, so rules decided on a dependency (a locked year, a
	// task's state) see what another instance appended. The target's own
	// staleness needs no such read: the append's subject check refuses it.
	Shared bool
	// VerifiedCache, when set, is a file in the instance's data directory
	// where Read records the messages whose signature it checked, so the
	// next read of the same, unchanged message skips the check (see
	// verifiedCache). Empty: every read checks every signature.
	VerifiedCache string
}

func (c *Config) setDefaults() {
	if c.Stream == "" {
		c.Stream = "KPITRAIL"
	}
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = DefaultSubjectPrefix
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = 2 * time.Minute
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = -1
	}
	if c.CacheAggregates == 0 {
		c.CacheAggregates = 10000
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
}

// setKeys fills in the signing defaults, which can fail. A Trust without
// a Signer opens the store read-only: it judges what it reads and refuses
// every append (offline tools that verify or rebuild need no private key).
func (c *Config) setKeys() error {
	switch {
	case c.Signer == nil && c.Trust != nil:
		return nil
	case c.Signer == nil:
		s, err := signing.Generate()
		if err != nil {
			return err
		}
		c.Signer, c.Trust = s, signing.Trusting(s)
	case c.Trust == nil:
		c.Trust = signing.Trusting(c.Signer)
	}
	return checkSigner(c.Trust, c.Signer)
}

// ErrReadOnly is returned by appends to a store opened without a signing
// key.
var ErrReadOnly = errors.New("event store: opened without a signing key, it appends nothing")

// checkSigner refuses a signer whose messages the keyring would refuse.
func checkSigner(trust *signing.Keyring, s *signing.Signer) error {
	k, ok := trust.Key(s.KeyID())
	if !ok || k.PublicKey != s.PublicKeyText() {
		return fmt.Errorf("the signing key %s is not in the keyring", s.KeyID())
	}
	if k.Pending || k.RetiredAfter != 0 {
		return fmt.Errorf("the signing key %s is %s in the keyring", s.KeyID(), map[bool]string{true: "pending", false: "retired"}[k.Pending])
	}
	return nil
}

func (c Config) validate() error {
	var errs []error
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("replicas must be 1..5, got %d", c.Replicas))
	}
	if c.DuplicateWindow < 0 || c.MaxAge < 0 {
		errs = append(errs, errors.New("duplicate window and max age must not be negative"))
	}
	if c.MaxAge > 0 && c.DuplicateWindow > c.MaxAge {
		errs = append(errs, errors.New("duplicate window must not exceed max age"))
	}
	return errors.Join(errs...)
}

// StreamConfig is the stream kpitrail creates. Every setting is explicit so
// a server default can never change what the audit log keeps.
func (c Config) StreamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        c.Stream,
		Description: "kpitrail events: one subject per aggregate instance",
		Subjects:    []string{c.SubjectPrefix + ".>"},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      c.MaxAge,
		MaxBytes:    c.MaxBytes,
		MaxMsgs:     -1,
		Discard:     jetstream.DiscardNew, // when full, refuse new events rather than drop old ones
		Storage:     jetstream.FileStorage,
		Replicas:    c.Replicas,
		Duplicates:  c.DuplicateWindow,
		DenyDelete:  true,
		DenyPurge:   true,
		AllowDirect: true, // loads use direct get: no consumer per load
		// Atomic batches let many appends, each with its own subject check,
		// share one sync (imports and concurrent writers).
		AllowAtomicPublish: true,
	}
}

// JetStream is the production store.
type JetStream struct {
	cfg     Config
	js      jetstream.JetStream
	stream  jetstream.Stream
	cache   *aggCache
	replies *replyInboxes
	// signMu is held shared by every append from signing to acknowledgement
	// and exclusively by a key rotation, so no message signed with a
	// retired key lands after the rotation event.
	signMu sync.RWMutex
	signer *signing.Signer
	trust  *signing.Keyring
	// legacy caches whether the stream holds messages on subjects of the
	// old layout (legacyUnknown until the first cold load asks).
	legacy atomic.Int32
}

// OpenJetStream creates or updates the stream and returns the store.
func OpenJetStream(ctx context.Context, nc *nats.Conn, cfg Config) (*JetStream, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("event store config: %w", err)
	}
	if err := cfg.setKeys(); err != nil {
		return nil, fmt.Errorf("event store config: %w", err)
	}
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(cfg.Timeout))
	if err != nil {
		return nil, err
	}
	s := &JetStream{cfg: cfg, js: js, cache: newAggCache(cfg.CacheAggregates), replies: &replyInboxes{nc: nc},
		signer: cfg.Signer, trust: cfg.Trust}
	if cfg.Attach {
		// A missing stream is the guard's to judge; the store then fails
		// every read and append until one exists.
		st, err := js.Stream(ctx, cfg.Stream)
		if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return nil, fmt.Errorf("stream %s: %w", cfg.Stream, err)
		}
		s.stream = st
		return s, nil
	}
	if s.stream, err = ensureStream(ctx, js, cfg.StreamConfig()); err != nil {
		return nil, err
	}
	return s, nil
}

// ensureStream creates the stream, or updates it only when a setting kpitrail
// owns differs. An update is a replicated proposal that can wait out a
// missing peer; starting against a cluster with a node down must not.
func ensureStream(ctx context.Context, js jetstream.JetStream, want jetstream.StreamConfig) (jetstream.Stream, error) {
	st, err := js.Stream(ctx, want.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		if st, err = js.CreateStream(ctx, want); err != nil {
			return nil, fmt.Errorf("create stream %s: %w", want.Name, err)
		}
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", want.Name, err)
	}
	if len(guardedOf(st.CachedInfo().Config).diff(guardedOf(want))) == 0 {
		return st, nil
	}
	if st, err = js.UpdateStream(ctx, want); err != nil {
		return nil, fmt.Errorf("update stream %s: %w", want.Name, err)
	}
	return st, nil
}

// Stream returns the underlying stream (for audit and operations).
func (s *JetStream) Stream() jetstream.Stream { return s.stream }

// JetStreamContext returns the JetStream handle.
func (s *JetStream) JetStreamContext() jetstream.JetStream { return s.js }

// Config returns the effective configuration.
func (s *JetStream) Config() Config { return s.cfg }

// Append stores the events of one command as one message on the aggregate's
// subject, with the expected last subject sequence as the concurrency check.
//
// Idempotency holds for all time because it is decided from the aggregate's
// own history, not from JetStream's dedupe window: a command id already
// present on the aggregate returns the events it produced. The history is in
// the write model (cache) or re-read from the stream after any doubt.
func (s *JetStream) Append(ctx context.Context, ref domain.AggregateRef, expected uint64, meta domain.Meta, events ...domain.Pending) ([]domain.Envelope, error) {
	if err := checkAppend(ref, meta, events); err != nil {
		return nil, err
	}
	s.signMu.RLock()
	defer s.signMu.RUnlock()
	if s.signer == nil {
		return nil, ErrReadOnly
	}
	return s.append(ctx, ref, expected, meta, events)
}

// append is Append under signMu, held by the caller.
func (s *JetStream) append(ctx context.Context, ref domain.AggregateRef, expected uint64, meta domain.Meta, events []domain.Pending) ([]domain.Envelope, error) {
	agg, err := s.aggregate(ctx, ref, false)
	if err != nil {
		return nil, err
	}
	if s.cache.mayHold(ref, meta.CommandID) {
		if prior := byCommand(agg.events, meta.CommandID); len(prior) > 0 {
			return prior, nil
		}
	}
	// Another process may have written, or (on a replicated stream) a
	// follower answered a direct get before applying the latest message: a
	// view behind the version the caller decided on is read again, briefly.
	for attempt := 0; agg.version() < expected && attempt < 20; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(attempt) * 10 * time.Millisecond):
			}
		}
		if agg, err = s.aggregate(ctx, ref, true); err != nil {
			return nil, err
		}
		if prior := byCommand(agg.events, meta.CommandID); len(prior) > 0 {
			return prior, nil
		}
	}
	if agg.version() != expected {
		return nil, conflict(ref, expected, agg.version())
	}
	envs, err := sealed(ref, agg.version(), agg.hash(), meta, s.cfg.Clock(), events)
	if err != nil {
		return nil, err
	}
	at, err := s.place(ref, agg, events)
	if err != nil {
		return nil, err
	}
	data, err := encodeMessage(envs)
	if err != nil {
		return nil, err
	}
	// The headers jetstream.WithExpectLastSequencePerSubject, WithMsgID and
	// WithExpectStream would set, written directly (in canonical form) to
	// spare an append the options' allocations.
	values := [...]string{strconv.FormatUint(envs[len(envs)-1].AggregateVersion, 10), meta.CommandID,
		strconv.FormatUint(agg.lastSeq, 10), ref.String() + "/" + meta.CommandID, s.cfg.Stream,
		signatureHeader(s.signer, envs), s.checkSubject(ref, at)}
	msg := &nats.Msg{Subject: at.subject, Data: data, Header: nats.Header{
		hdrVersion:                          values[0:1:1],
		hdrCommandID:                        values[1:2:2],
		jetstream.ExpectedLastSubjSeqHeader: values[2:3:3],
		jetstream.MsgIDHeader:               values[3:4:4],
		jetstream.ExpectedStreamHeader:      values[4:5:5],
		hdrSignature:                        values[5:6:6],
	}}
	if values[6] != "" {
		msg.Header[jetstream.ExpectedLastSubjSeqSubjHeader] = values[6:7:7]
	}
	setTraceHeaders(msg, meta)
	checked := agg.lastSeq
	for retries := 0; ; retries++ {
		ack, err := s.publish(ctx, msg)
		if err == nil && !ack.Duplicate {
			for i := range envs {
				envs[i].Position = ack.Sequence
			}
			s.cache.extend(ref, at, checked, ack.Sequence, envs)
			return envs, nil
		}
		s.cache.forget(ref)
		if err != nil && !isWrongLastSequence(err) {
			return nil, fmt.Errorf("append %s: %w", ref, err)
		}
		// Refused by the subject check, or a duplicate of a message stored
		// within the dedupe window: the stored state decides.
		prior, moved, err := s.afterConflict(ctx, ref, expected, meta.CommandID, checked)
		if err != nil || prior != nil {
			return prior, err
		}
		if retries >= maxPassOver {
			return nil, fmt.Errorf("append %s: the subject keeps moving without its chain moving: %w", ref, conflict(ref, expected, moved.version()))
		}
		// Only messages that are not history (foreign publishes) moved the
		// subject: the same message goes again, checked against the new
		// sequence. values[2] backs the header's value.
		checked = moved.lastSeq
		values[2] = strconv.FormatUint(checked, 10)
	}
}

// Load returns the aggregate's events from the write model, reading from the
// stream only what the model does not hold yet.
func (s *JetStream) Load(ctx context.Context, ref domain.AggregateRef) ([]domain.Envelope, error) {
	if err := ref.Validate(); err != nil {
		return nil, err
	}
	agg, err := s.aggregate(ctx, ref, s.cfg.Shared)
	if err != nil {
		return nil, err
	}
	return cloneEnvs(agg.events), nil
}

// LastPosition is the stream's last sequence.
func (s *JetStream) LastPosition(ctx context.Context) (uint64, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	if s.stream == nil { // attached to a missing stream
		st, err := s.js.Stream(ctx, s.cfg.Stream)
		if err != nil {
			return 0, err
		}
		return st.CachedInfo().State.LastSeq, nil
	}
	info, err := s.stream.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.LastSeq, nil
}

// withTimeout bounds one server round trip by cfg.Timeout even when the
// caller's context allows longer: a reply lost with a connection (a node
// killed mid-request) would otherwise hold the caller until its own
// deadline, while a retry on the reconnected client succeeds at once.
func (s *JetStream) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.Timeout)
}
