// Package eventstore appends and reads kpitrail's events. Every store keeps
// the same promises, checked by the conformance suite in storetest:
//
//   - an acknowledged append is never lost and never stored twice;
//   - all events of one append land together or not at all;
//   - an append names the aggregate version it was decided on, and fails with
//     a domain conflict if another writer got there first;
//   - a retried command (same command id, same aggregate) is applied at most
//     once, for all time, and the retry gets the original events back;
//   - every event carries its aggregate's hash chain.
package eventstore

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"kpitrail/domain"
)

// Message is one stored unit: the events of one append, at one position.
// Err is set, and Events empty, when the stored bytes are not a valid
// kpitrail message (a foreign or damaged publish); readers dead-letter it.
type Message struct {
	Position uint64
	Subject  string
	Events   []domain.Envelope
	Raw      []byte
	Err      error
	// KeyID and Signature are the message's signature ("" and nil when it
	// carries none); see Authentic.
	KeyID     string
	Signature []byte
	// StoredAt is the server's time of storing the message: a stream
	// published again from its own messages has them all stored anew.
	StoredAt time.Time
	// Foreign is the store's verdict on the message, Authentic against the
	// keyring it was opened with: nil for kpitrail's own messages. Readers
	// apply nothing it is set on.
	Foreign error
	// TraceParent and TraceState are the trace context the write stored in
	// the message's headers, empty when it was not traced.
	TraceParent, TraceState string
}

// ReadOptions bound a read of the log.
type ReadOptions struct {
	// Follow keeps reading new messages until ctx is done; otherwise the read
	// stops at the last position that existed when it started.
	Follow bool
	// Limit stops after this many messages (0: no limit).
	Limit int
	// Unit, when set, reads only that unit's subjects
	// (<prefix>.<unit>.>): its tasks' and indicators' messages at their
	// positions, without the other units' or the deployment's ("_"). A log
	// of the old layout's aggregates are on no unit's subjects.
	Unit string
	// Unjudged leaves Message.Foreign unset: for a reader that judges every
	// message itself, with a keyring of its own (the audit), and need not
	// pay for the store's verdict too.
	Unjudged bool
}

// Store is implemented by the in-memory and the JetStream stores.
type Store interface {
	Append(ctx context.Context, ref domain.AggregateRef, expected uint64, meta domain.Meta, events ...domain.Pending) ([]domain.Envelope, error)
	Load(ctx context.Context, ref domain.AggregateRef) ([]domain.Envelope, error)
	Read(ctx context.Context, after uint64, opts ReadOptions, fn func(Message) error) error
	LastPosition(ctx context.Context) (uint64, error)
}

// Clock is the store's source of recorded_at; tests pin it.
type Clock func() time.Time

// sealed builds and chains the envelopes of one append on top of the
// aggregate's head (version and hash).
func sealed(ref domain.AggregateRef, headVersion uint64, headHash string, meta domain.Meta, now time.Time, events []domain.Pending) ([]domain.Envelope, error) {
	out := make([]domain.Envelope, len(events))
	prev := headHash
	for i, p := range events {
		id, err := uuid.NewV7()
		if err != nil {
			return nil, fmt.Errorf("event id: %w", err)
		}
		e := domain.Envelope{
			ID: id.String(), Name: p.Name, SchemaVersion: p.SchemaVersion,
			AggregateType: ref.Type, AggregateID: ref.ID, AggregateVersion: headVersion + uint64(i) + 1,
			RecordedAt: now.UTC(), Actor: meta.Actor, ActorTokenID: meta.ActorTokenID, CommandID: meta.CommandID,
			CorrelationID: meta.CorrelationID, CausationID: meta.CausationID, Source: meta.Source,
			Payload: p.Payload, Index: i,
		}
		if err := e.Seal(prev); err != nil {
			return nil, err
		}
		prev = e.Hash
		out[i] = e
	}
	return out, nil
}

// checkAppend validates what every store must refuse before any I/O.
func checkAppend(ref domain.AggregateRef, meta domain.Meta, events []domain.Pending) error {
	if err := ref.Validate(); err != nil {
		return err
	}
	if err := meta.Validate(); err != nil {
		return err
	}
	if len(events) == 0 {
		return domain.Invalid("events", "required", "an append needs at least one event")
	}
	for i, e := range events {
		if _, ok := domain.SchemaVersion(e.Name); !ok {
			return domain.Invalid(fmt.Sprintf("events[%d].name", i), "registered", "unknown event %q", e.Name)
		}
	}
	return nil
}

// byCommand returns the events an aggregate already holds for a command id:
// the original result of a retried command.
func byCommand(events []domain.Envelope, commandID string) []domain.Envelope {
	var out []domain.Envelope
	for _, e := range events {
		if e.CommandID == commandID {
			out = append(out, e)
		}
	}
	return out
}

// linkedEvents applies the readers' rule for what belongs to an
// aggregate's history, to a message Authentic accepted. A message that does
// not continue the chain (next version, linked to the last hash) is a
// replay or follows a removed one, and is skipped. A message that links is part of history even if an event's
// content no longer matches its hash: the chain runs through its stored
// hash, so the write model keeps the event with its payload removed, which
// the command service then cannot decode and applies as a bare version.
func linkedEvents(history, events []domain.Envelope) ([]domain.Envelope, bool) {
	version, hash := head(history)
	out := make([]domain.Envelope, len(events))
	for i, e := range events {
		if e.AggregateVersion != version+1 || e.PrevHash != hash {
			return nil, false
		}
		if h, err := e.ComputeHash(); err != nil || h != e.Hash {
			e.Payload = nil
		}
		out[i] = e
		version, hash = e.AggregateVersion, e.Hash
	}
	return out, true
}

// head returns the aggregate's version and last hash.
func head(events []domain.Envelope) (uint64, string) {
	if len(events) == 0 {
		return 0, ""
	}
	last := events[len(events)-1]
	return last.AggregateVersion, last.Hash
}

func conflict(ref domain.AggregateRef, expected, current uint64) error {
	return domain.Conflict(current, "%s is at version %d, not %d", ref, current, expected)
}
