package eventstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/domain"
)

// Mark is what the read models hold of the log (projections.LogMark): the
// last position they include and the last event they applied.
type Mark struct {
	Position      uint64
	EventPosition uint64
	EventIndex    int
	EventID       string
}

// GuardConfig configures a Guard.
type GuardConfig struct {
	// File records the stream's identity beside the read models
	// (<data>/stream.json).
	File string
	// Mark reads what the read models hold of the log. Read before the
	// stream, so a projector that moves on in between cannot cause a
	// false alarm.
	Mark func(ctx context.Context) (Mark, error)
	// ReadOnly never creates, changes or records anything: for tools that
	// only read.
	ReadOnly bool
	// Every is how often Watch checks the stream. Default 10 s; advisories
	// from the server trigger a check at once.
	Every time.Duration
	// By names who records the identity (e.g. "kpitrail serve, pid 42").
	By     string
	Logger *slog.Logger
}

// Guard checks that the event stream is still the one kpitrail recorded
// and that it still holds what the read models were projected from.
//
// Without it, a deleted stream was silently created again empty: the read
// models kept serving the old history, a write was acknowledged at position
// 1 and then not found, and a verification of the empty log passed. The
// JetStream API also lets an identity with access shrink the stream
// (max_msgs with discard old drops history despite DenyDelete and
// DenyPurge) or replace it. The guard records the stream's creation time,
// configuration and first sequence when kpitrail creates it, checks them at
// start, every Every, and whenever the server announces a change to the
// stream, and compares the stream's sequences with the read models'
// checkpoint. A failed check is sticky: kpitrail stops writing (Err, which
// the command path and /readyz ask) until an operator restores the stream
// and adopts it explicitly (kpitrail stream adopt), because only a person
// can decide what the true history is.
type Guard struct {
	store *JetStream
	cfg   GuardConfig

	mu     sync.Mutex
	record *StreamRecord
	fault  error
	poke   chan struct{}
	stop   context.CancelFunc
	done   chan struct{}
}

// OpenGuard checks the stream before anything else uses the store. It
// creates the stream only over a directory with no history (no record, no
// projected position); over one with history a missing stream is a fault,
// never an empty new stream. When the stream's configuration is what was
// recorded but kpitrail now wants other settings (flags, a new version), it
// applies them and records them. A fault does not fail OpenGuard: the
// caller runs degraded (reads, no writes) and shows the cause.
func OpenGuard(ctx context.Context, store *JetStream, cfg GuardConfig) (*Guard, error) {
	if cfg.Every <= 0 {
		cfg.Every = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	g := &Guard{store: store, cfg: cfg, poke: make(chan struct{}, 1)}
	rec, err := ReadStreamRecord(cfg.File)
	if err != nil {
		return nil, err
	}
	g.record = rec
	mark, err := cfg.Mark(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream guard: read models: %w", err)
	}
	name := store.cfg.Stream
	want := store.cfg.StreamConfig()
	st, err := store.js.Stream(ctx, name)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		if rec != nil || mark.Position > 0 {
			g.trip(fmt.Sprintf("the event stream %s is missing, but %s; kpitrail does not create an empty stream over it",
				name, historyEvidence(cfg.File, rec, mark)))
			return g, nil
		}
		if cfg.ReadOnly {
			return nil, fmt.Errorf("there is no event stream %s", name)
		}
		if st, err = store.js.CreateStream(ctx, want); err != nil {
			return nil, fmt.Errorf("create stream %s: %w", name, err)
		}
		store.stream = st
		return g, g.recordNow(st.CachedInfo(), "created the stream", "")
	case err != nil:
		return nil, fmt.Errorf("stream %s: %w", name, err)
	}
	have := guardedOf(st.CachedInfo().Config)
	switch {
	case cfg.ReadOnly:
		if rec == nil {
			// Nothing recorded to compare with: only the sequences are judged.
			g.record = recordOf(st.CachedInfo(), nil)
		}
	case rec == nil:
		// A directory from before the guard, or a new one on a cluster whose
		// stream exists: trust what is there, in kpitrail's configuration.
		if st, err = ensureStream(ctx, store.js, want); err != nil {
			return nil, err
		}
		if err := g.recordNow(st.CachedInfo(), "recorded the existing stream (no earlier record)", ""); err != nil {
			return nil, err
		}
	case len(have.diff(rec.Config)) == 0 && len(have.diff(guardedOf(want))) > 0:
		// The stream is as kpitrail left it and kpitrail's own settings
		// changed (--replicas, a new version): apply and record them.
		changes := strings.Join(guardedOf(want).diff(have), ", ")
		if st, err = ensureStream(ctx, store.js, want); err != nil {
			return nil, err
		}
		if err := g.recordNow(st.CachedInfo(), "applied kpitrail's configuration: "+changes, ""); err != nil {
			return nil, err
		}
	}
	store.stream = st
	g.check(ctx, mark, st.CachedInfo())
	return g, nil
}

// Err is the guard's verdict: nil, or a *domain.Error (unavailable) naming
// the cause.
func (g *Guard) Err() error {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.fault
}

// Record is the identity on record.
func (g *Guard) Record() *StreamRecord {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.record
}

// Check judges the stream now and returns the verdict.
func (g *Guard) Check(ctx context.Context) error {
	if err := g.Err(); err != nil {
		return err
	}
	mark, err := g.cfg.Mark(ctx)
	if err != nil {
		g.cfg.Logger.Warn("stream guard: cannot read the read models' checkpoint", "err", err)
		return nil
	}
	st, err := g.store.js.Stream(ctx, g.store.cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		// Asked once more before the verdict: a fault stops all writes, and
		// a cluster between leaders should not be taken for a deletion.
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(500 * time.Millisecond):
		}
		if st, err = g.store.js.Stream(ctx, g.store.cfg.Stream); errors.Is(err, jetstream.ErrStreamNotFound) {
			g.trip(fmt.Sprintf("the event stream %s is missing", g.store.cfg.Stream))
			return g.Err()
		}
	}
	if err != nil {
		// Unreachable is not altered: the store's own errors tell.
		g.cfg.Logger.Debug("stream guard: stream info", "err", err)
		return nil
	}
	g.check(ctx, mark, st.CachedInfo())
	return g.Err()
}

// Watch checks every cfg.Every and at once when the server announces that
// the stream was created, updated or deleted, until Close.
func (g *Guard) Watch(ctx context.Context, nc *nats.Conn) error {
	sub, err := nc.Subscribe("$JS.EVENT.ADVISORY.STREAM.*."+g.store.cfg.Stream, func(*nats.Msg) { g.Poke() })
	if err != nil {
		return fmt.Errorf("stream guard: advisories: %w", err)
	}
	ctx, g.stop = context.WithCancel(ctx)
	g.done = make(chan struct{})
	go func() {
		defer close(g.done)
		defer sub.Unsubscribe()
		t := time.NewTicker(g.cfg.Every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-g.poke:
			}
			cctx, cancel := context.WithTimeout(ctx, g.store.cfg.Timeout)
			_ = g.Check(cctx)
			cancel()
		}
	}()
	return nil
}

// Poke asks Watch for a check now.
func (g *Guard) Poke() {
	select {
	case g.poke <- struct{}{}:
	default:
	}
}

// Close stops Watch.
func (g *Guard) Close() {
	if g != nil && g.stop != nil {
		g.stop()
		<-g.done
	}
}

func (g *Guard) check(ctx context.Context, mark Mark, info *jetstream.StreamInfo) {
	g.mu.Lock()
	rec := g.record
	g.mu.Unlock()
	if causes := g.judge(ctx, rec, mark, info); len(causes) > 0 {
		g.trip(fmt.Sprintf("the event stream %s %s", g.store.cfg.Stream, strings.Join(causes, "; ")))
	}
}

// judge lists what contradicts the record or the read models.
func (g *Guard) judge(ctx context.Context, rec *StreamRecord, mark Mark, info *jetstream.StreamInfo) []string {
	var causes []string
	if !info.Created.Equal(rec.Created) {
		causes = append(causes, fmt.Sprintf("was created at %s, not at %s as recorded: it is another stream",
			info.Created.UTC().Format(time.RFC3339Nano), rec.Created.UTC().Format(time.RFC3339Nano)))
	}
	if d := guardedOf(info.Config).diff(rec.Config); len(d) > 0 {
		causes = append(causes, "changed its configuration: "+strings.Join(d, ", "))
	}
	if rec.Config.MaxAge == 0 {
		if cause := lostBeginning(info.State, rec.FirstSeq); cause != "" {
			causes = append(causes, cause)
		}
	}
	c, err := g.store.Contradictions(ctx, info, mark)
	if err != nil {
		// Not read is not altered: the next check asks again.
		g.cfg.Logger.Debug("stream guard: compare with the read models", "err", err)
	}
	return append(causes, c...)
}

// lostBeginning says so when a stream that keeps everything no longer
// starts where it started.
func lostBeginning(st jetstream.StreamState, firstSeq uint64) string {
	from := max(firstSeq, 1)
	switch {
	case st.LastSeq == 0 || st.FirstSeq <= from:
	case st.FirstSeq == from+1:
		return fmt.Sprintf("starts at position %d: position %d is gone", st.FirstSeq, from)
	default:
		return fmt.Sprintf("starts at position %d: positions %d-%d are gone", st.FirstSeq, from, st.FirstSeq-1)
	}
	return ""
}

// Contradictions lists what in the stream contradicts what the read models
// were projected from: a log that ends before their checkpoint, or holds
// at the position of the last event they applied another message (a stream
// rebuilt or re-published under the same name, even at the same length).
// A message it could not read is an error, not an absence of
// contradictions: the comparison was not made.
func (s *JetStream) Contradictions(ctx context.Context, info *jetstream.StreamInfo, mark Mark) ([]string, error) {
	st := info.State
	if st.LastSeq < mark.Position {
		return []string{fmt.Sprintf("ends at position %d, but the read models include position %d", st.LastSeq, mark.Position)}, nil
	}
	if mark.EventPosition == 0 || mark.EventPosition < st.FirstSeq {
		return nil, nil
	}
	stream, err := s.js.Stream(ctx, s.cfg.Stream)
	if err != nil {
		return nil, fmt.Errorf("compare the read models with the stream: %w", err)
	}
	raw, err := s.getMsg(ctx, stream, mark.EventPosition)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return []string{fmt.Sprintf("has no message at position %d, where the read models applied event %s", mark.EventPosition, mark.EventID)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("compare the read models with the stream: read position %d: %w", mark.EventPosition, err)
	}
	m := decodeMessage(s.cfg.SubjectPrefix, raw.Subject, raw.Sequence, raw.Data, raw.Header)
	if m.Err != nil || mark.EventIndex >= len(m.Events) || m.Events[mark.EventIndex].ID != mark.EventID {
		return []string{fmt.Sprintf("holds another message at position %d than the one the read models applied (event %s)", mark.EventPosition, mark.EventID)}, nil
	}
	return nil, nil
}

// LostBeginning says what is missing when the stream, whose configuration
// keeps every message, no longer starts at position 1 ("" when it does).
func LostBeginning(info *jetstream.StreamInfo) string {
	if info.Config.MaxAge > 0 {
		return ""
	}
	return lostBeginning(info.State, 1)
}

// EnsureStream creates the stream in kpitrail's configuration, or updates
// it to that configuration, and attaches the store to it. For the operator's
// explicit adoption of a stream (and tests); serve goes through OpenGuard.
func (s *JetStream) EnsureStream(ctx context.Context) (*jetstream.StreamInfo, error) {
	st, err := ensureStream(ctx, s.js, s.cfg.StreamConfig())
	if err != nil {
		return nil, err
	}
	s.stream = st
	return st.CachedInfo(), nil
}

// RecordStream records the stream as it is now as kpitrail's, keeping the
// record's history and adding entry to it.
func RecordStream(file string, info *jetstream.StreamInfo, entry RecordEntry) (*StreamRecord, error) {
	prev, err := ReadStreamRecord(file)
	if err != nil {
		return nil, err
	}
	rec := recordOf(info, prev)
	if entry.At.IsZero() {
		entry.At = time.Now().UTC()
	}
	rec.History = append(rec.History, entry)
	return rec, WriteStreamRecord(file, rec)
}

func (g *Guard) trip(cause string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fault != nil {
		return
	}
	g.fault = &domain.Error{Code: domain.EUNAVAILABLE, Rule: "stream_guard",
		Message: cause + ". Writes are refused until an operator restores the stream and runs `kpitrail stream adopt` (docs/reliability.md, restore runbook)"}
	g.cfg.Logger.Error("event stream guard failed: kpitrail refuses writes", "cause", cause)
}

func (g *Guard) recordNow(info *jetstream.StreamInfo, action, reason string) error {
	rec, err := RecordStream(g.cfg.File, info, RecordEntry{By: g.cfg.By, Action: action, Reason: reason})
	if err != nil {
		return err
	}
	g.mu.Lock()
	g.record = rec
	g.mu.Unlock()
	g.cfg.Logger.Info("stream guard: recorded the event stream", "stream", rec.Stream, "created", rec.Created, "action", action)
	return nil
}

func historyEvidence(file string, rec *StreamRecord, mark Mark) string {
	var why []string
	if rec != nil {
		why = append(why, fmt.Sprintf("%s records it, created at %s", file, rec.Created.UTC().Format(time.RFC3339)))
	}
	if mark.Position > 0 {
		why = append(why, fmt.Sprintf("the read models include the log up to position %d", mark.Position))
	}
	return strings.Join(why, ", and ")
}
