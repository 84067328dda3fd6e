// Package audit verifies the event log without trusting it: every message's
// signature against a keyring kept outside the log, every aggregate's hash
// chain, the log's own sequence, the roots the log's checkpoint and
// snapshot events name, and the log against what is known of it from
// elsewhere (the read models, a root statement an auditor kept, the last
// verification's record).
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/signing"
)

// Finding is one place where the log is not what was written.
type Finding struct {
	Position      uint64 `json:"position"`
	Kind          string `json:"kind"` // one of domain.FindingKinds
	AggregateType string `json:"aggregate_type,omitempty"`
	AggregateID   string `json:"aggregate_id,omitempty"`
	Version       uint64 `json:"aggregate_version,omitempty"`
	EventID       string `json:"event_id,omitempty"`
	Detail        string `json:"detail"`
}

// Acknowledged is a finding an auditor accepted (audit.finding_acknowledged).
type Acknowledged struct {
	Finding
	By     string    `json:"acknowledged_by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"acknowledged_at"`
	// EventPosition is where the acknowledgement is in the log.
	EventPosition uint64 `json:"acknowledgement_position"`
}

// Checkpoint is the combined root of every aggregate's head hash at a log
// position. Published outside kpitrail, it lets anyone later prove the log
// up to that position is unchanged, including the deletion of an
// aggregate's last events, which no chain can show by itself.
type Checkpoint struct {
	Position uint64 `json:"position"`
	Root     string `json:"root"`
	// Aggregates counts the heads that went into the root.
	Aggregates int `json:"aggregates"`
}

// Claim is a root of the log known from outside it: the read models'
// checkpoint and snapshots, a root statement, a published root, the last
// verification. Verify recomputes the root at the claim's position.
type Claim struct {
	Source string `json:"source"`
	Checkpoint
	// StoredAt, when known, is the server's time of storing the message at
	// the position: a stream published again has it stored anew.
	StoredAt time.Time `json:"stored_at,omitzero"`
	// statement, when set, must verify before the claim counts.
	statement *Statement
}

// ClaimResult is a claim and what the log says at its position.
type ClaimResult struct {
	Claim
	// Log is the root the log gives at the position (zero when the log
	// ends before it).
	Log   Checkpoint `json:"log"`
	Valid bool       `json:"valid"`
}

// Options say what Verify checks the log against.
type Options struct {
	// Keyring is the keys trusted to sign the log: an auditor's copy, or
	// the instance's keyring file. Required. Rotations in the log extend a
	// copy of it when the key they retire signs them.
	Keyring *signing.Keyring
	// Claims are roots known from outside the log.
	Claims []Claim
	// Record is what the last verification found (nil: none).
	Record *Record
}

// Report is the result of a verification.
type Report struct {
	Messages   int        `json:"messages"`
	Events     int        `json:"events"`
	Aggregates int        `json:"aggregates"`
	Last       uint64     `json:"last_position"`
	Findings   []Finding  `json:"findings"`
	Checkpoint Checkpoint `json:"checkpoint"`
	// Acknowledged are findings an auditor accepted; they do not fail
	// the verification.
	Acknowledged []Acknowledged `json:"acknowledged"`
	Claims       []ClaimResult  `json:"claims"`
	// Keys is the keyring after the rotations in the log.
	Keys []signing.Key `json:"keys"`
	// LastStoredAt and StreamCreated identify this copy of the log; the
	// record of a passing verification keeps them.
	LastStoredAt  time.Time `json:"last_stored_at,omitzero"`
	StreamCreated time.Time `json:"stream_created,omitzero"`
}

// OK reports whether nothing unacknowledged was found.
func (r Report) OK() bool { return len(r.Findings) == 0 }

// Reader is the part of a store verification reads.
type Reader interface {
	Read(ctx context.Context, after uint64, opts eventstore.ReadOptions, fn func(eventstore.Message) error) error
}

// creator is a store that knows when its stream was created.
type creator interface {
	StreamCreated(ctx context.Context) (time.Time, error)
}

// Verify walks the whole log and checks it (see the package doc). It
// judges each message with eventstore.Authentic against opts.Keyring, not
// with the store's own verdict.
func Verify(ctx context.Context, log Reader, opts Options) (Report, error) {
	if opts.Keyring == nil {
		return Report{}, errors.New("audit: verification needs a keyring of trusted keys")
	}
	v := &verification{log: log, opts: opts, w: newWalker(opts.Keyring), rep: Report{Findings: []Finding{}}}
	return v.run(ctx)
}

type verification struct {
	log    Reader
	opts   Options
	w      *walker
	rep    Report
	claims []ClaimResult // sorted by position
	next   int           // first claim not yet resolved
	acks   []Acknowledged
	// deferred are checkpoint events whose position the journal no longer
	// reached; a second read checks them.
	deferred []deferredClaim
}

type deferredClaim struct {
	at    uint64 // position of the event naming it
	claim Checkpoint
	what  string
}

func (v *verification) run(ctx context.Context) (Report, error) {
	claims := slices.Clone(v.opts.Claims)
	if r := v.opts.Record; r != nil {
		claims = append(claims, r.claim())
	}
	for _, c := range claims {
		v.claims = append(v.claims, ClaimResult{Claim: c})
	}
	sort.SliceStable(v.claims, func(i, j int) bool { return v.claims[i].Position < v.claims[j].Position })

	var expect uint64 = 1
	err := v.log.Read(ctx, 0, eventstore.ReadOptions{Unjudged: true}, func(m eventstore.Message) error {
		v.resolveBefore(m.Position)
		v.rep.Messages++
		// The stream never deletes (DenyDelete, DenyPurge): a hole in the
		// sequence is a message removed behind kpitrail's back.
		if m.Position > expect {
			v.find(Finding{Position: expect, Kind: "deleted",
				Detail: fmt.Sprintf("positions %d..%d are missing from the log", expect, m.Position-1)})
		}
		expect = m.Position + 1
		v.rep.Last, v.rep.LastStoredAt = m.Position, m.StoredAt
		v.storedAt(m)
		st := v.w.step(m)
		switch {
		case st.malformed != nil:
			v.find(Finding{Position: m.Position, Kind: "malformed", Detail: st.malformed.Error()})
			return nil
		case st.foreign != nil:
			f := Finding{Position: m.Position, Kind: "foreign", Detail: st.foreign.Error()}
			if len(m.Events) > 0 {
				f.AggregateType, f.AggregateID, f.EventID = m.Events[0].AggregateType, m.Events[0].AggregateID, m.Events[0].ID
			}
			v.find(f)
			return nil
		}
		v.rep.Events += len(m.Events)
		if brk := st.brk; brk != nil {
			v.find(Finding{Position: m.Position, Kind: brk.Kind, AggregateType: brk.AggregateType,
				AggregateID: brk.AggregateID, Version: brk.Version, EventID: brk.EventID, Detail: brk.Detail})
		}
		if st.keyErr != nil {
			v.find(Finding{Position: m.Position, Kind: "key_mismatch", AggregateType: domain.AggregateKeyring, Detail: st.keyErr.Error()})
		}
		for _, r := range st.recorded {
			v.inLog(r)
		}
		return nil
	})
	if err != nil {
		return v.rep, err
	}
	v.resolveBefore(v.rep.Last + 1)
	if err := v.secondRead(ctx); err != nil {
		return v.rep, err
	}
	if v.rep.Messages == 0 {
		v.find(Finding{Kind: "empty", Detail: "the log holds no messages: there is nothing to verify"})
	}
	if c, ok := v.log.(creator); ok {
		if v.rep.StreamCreated, err = c.StreamCreated(ctx); err != nil {
			return v.rep, err
		}
	}
	v.judgeClaims()
	v.judgeRecord()
	v.rep.Aggregates = len(v.w.heads)
	v.rep.Checkpoint = v.w.root(v.rep.Last)
	v.rep.Keys = v.w.kr.Keys()
	v.rep.Claims = v.claims
	if v.rep.Claims == nil {
		v.rep.Claims = []ClaimResult{}
	}
	v.settle()
	return v.rep, nil
}

func (v *verification) find(f Finding) { v.rep.Findings = append(v.rep.Findings, f) }

// CheckpointAt computes the checkpoint root of the log up to position,
// following history as Verify does.
func CheckpointAt(ctx context.Context, log Reader, kr *signing.Keyring, position uint64) (Checkpoint, error) {
	if kr == nil {
		return Checkpoint{}, errors.New("audit: a checkpoint needs a keyring of trusted keys")
	}
	w := newWalker(kr)
	var last uint64
	errStop := errors.New("stop")
	err := log.Read(ctx, 0, eventstore.ReadOptions{Unjudged: true}, func(m eventstore.Message) error {
		if m.Position > position {
			return errStop
		}
		last = m.Position
		w.step(m)
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return Checkpoint{}, err
	}
	if last < position {
		return Checkpoint{}, fmt.Errorf("checkpoint: the log ends at %d, before %d", last, position)
	}
	return w.root(position), nil
}

// Root combines head hashes into one: SHA-256 over the sorted lines
// "<type>/<id> <head hash>\n". Sorting makes it independent of map order
// and of the order aggregates were first written.
func Root(heads map[domain.AggregateRef]string, position uint64) Checkpoint {
	lines := make([]string, 0, len(heads))
	for ref, h := range heads {
		lines = append(lines, ref.String()+" "+h+"\n")
	}
	sort.Strings(lines)
	sum := sha256.New()
	for _, l := range lines {
		sum.Write([]byte(l))
	}
	return Checkpoint{Position: position, Root: hex.EncodeToString(sum.Sum(nil)), Aggregates: len(heads)}
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
