package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"kpitrail/audit"
	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/httpapi"
	"kpitrail/projections"
	"kpitrail/signing"
)

// auditor verifies the log for the API and the CLI. Besides the log
// itself it checks what is known of the log elsewhere: the read models'
// checkpoint and snapshots, and the record of the last passing
// verification, which it keeps outside the store.
type auditor struct {
	store *eventstore.JetStream
	// keyring is the keys trusted to sign the log: the instance's keyring
	// file, or an auditor's own copy given to the CLI.
	keyring *signing.Keyring
	// readModels runs fn on the read models (nil: none to compare with).
	readModels func(ctx context.Context, fn func(*projections.DB) error) error
	// record is the file of the last passing verification ("": none).
	record string
	sys    *System // for key rotation; nil offline
	// signer signs root statements when the store has none (offline).
	signer *signing.Signer
	now    func() time.Time
	// mu runs one verification at a time: each reads the whole log.
	mu sync.Mutex
}

var _ httpapi.Audit = (*auditor)(nil)

func (a *auditor) Keyring() *signing.Keyring { return a.keyring }

// Verify checks the log against claims and everything known of it
// elsewhere; a passing verification moves the record to the log's end.
func (a *auditor) Verify(ctx context.Context, claims []audit.Claim) (audit.Report, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.readModels != nil {
		known, err := readModelClaims(ctx, a.readModels)
		if err != nil {
			return audit.Report{}, err
		}
		claims = append(known, claims...)
	}
	var rec *audit.Record
	if a.record != "" {
		var err error
		if rec, err = audit.LoadRecord(a.record); err != nil {
			return audit.Report{}, err
		}
	}
	rep, err := audit.Verify(ctx, a.store, audit.Options{Keyring: a.keyring, Claims: claims, Record: rec})
	if err != nil {
		return rep, err
	}
	if rep.OK() && a.record != "" {
		if err := rep.Record(a.now()).Save(a.record); err != nil {
			return rep, fmt.Errorf("verification record: %w", err)
		}
	}
	return rep, nil
}

// readModelClaims are the roots the read models know: the root over the
// chain heads at their checkpoint, and the latest snapshot of each year.
func readModelClaims(ctx context.Context, with func(context.Context, func(*projections.DB) error) error) ([]audit.Claim, error) {
	var out []audit.Claim
	err := with(ctx, func(db *projections.DB) error {
		pos, heads, err := db.ChainHeads(ctx)
		if err != nil {
			return err
		}
		if pos > 0 {
			out = append(out, audit.Claim{Source: "the read models' checkpoint", Checkpoint: audit.Root(heads, pos)})
		}
		snaps, err := db.Snapshots(ctx, 0)
		if err != nil {
			return err
		}
		for i, s := range snaps { // oldest first within a year
			if i+1 < len(snaps) && snaps[i+1].Year == s.Year {
				continue
			}
			out = append(out, audit.Claim{Source: fmt.Sprintf("the read models' snapshot of %d", s.Year),
				Checkpoint: audit.Checkpoint{Position: s.Position, Root: s.Root, Aggregates: s.Aggregates}})
		}
		return nil
	})
	return out, err
}

// Root signs the root of the log at the read models' checkpoint (computed
// from the chain heads they keep, as the checkpointer does), or at the
// log's end when there are no read models.
func (a *auditor) Root(ctx context.Context) (audit.Statement, error) {
	signer := a.signer
	if signer == nil {
		signer = a.store.Signer()
	}
	if signer == nil {
		return audit.Statement{}, errors.New("a root statement needs the instance's signing key")
	}
	var cp audit.Checkpoint
	if a.readModels != nil {
		err := a.readModels(ctx, func(db *projections.DB) error {
			pos, heads, err := db.ChainHeads(ctx)
			cp = audit.Root(heads, pos)
			return err
		})
		if err != nil {
			return audit.Statement{}, err
		}
	} else {
		last, err := a.store.LastPosition(ctx)
		if err != nil {
			return audit.Statement{}, err
		}
		if last > 0 {
			if cp, err = audit.CheckpointAt(ctx, a.store, a.keyring, last); err != nil {
				return audit.Statement{}, err
			}
		}
	}
	if cp.Position == 0 {
		return audit.Statement{}, domain.RuleViolation("position", "empty_log", "there is nothing in the log to state a root of")
	}
	stored, err := a.store.StoredAt(ctx, cp.Position)
	if err != nil {
		return audit.Statement{}, err
	}
	return audit.NewStatement(signer, cp, stored, a.now()), nil
}

func (a *auditor) RotateKey(ctx context.Context, meta domain.Meta, reason string) (httpapi.KeyRotation, error) {
	if a.sys == nil {
		return httpapi.KeyRotation{}, errors.New("keys are rotated by the running server")
	}
	return a.sys.RotateKey(ctx, meta, reason)
}
