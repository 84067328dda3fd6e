package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/httpapi"
	"kpitrail/signing"
)

// keyPaths are where an instance keeps its signing key and its keyring:
// in the data directory by default, never in NATS.
type keyPaths struct {
	key, ring string
}

func (c ServeConfig) keyPaths() keyPaths {
	p := keyPaths{key: c.SigningKey, ring: c.Keyring}
	if p.key == "" {
		p.key = filepath.Join(c.DataDir, "keys", "signing.key")
	}
	if p.ring == "" {
		p.ring = filepath.Join(c.DataDir, "keys", "keyring.json")
	}
	return p
}

// next is where a rotation keeps the new key until its event is in the log.
func (p keyPaths) next() string { return p.key + ".next" }

var keyringRef = domain.AggregateRef{Type: domain.AggregateKeyring, ID: "signing"}

// openKeys loads the instance's signing key and keyring. On the first
// start on a data directory it makes both: a fresh key, and a keyring that
// trusts it. A read-only open needs only the keyring, which must exist.
func openKeys(c ServeConfig) (signer *signing.Signer, kr *signing.Keyring, fresh bool, err error) {
	p := c.keyPaths()
	if c.ReadOnlyKeys {
		kr, err = signing.LoadKeyring(p.ring)
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("no keyring at %s: give the keys trusted to sign the log with --keyring (an auditor's copy, or GET /v1/audit/keys)", p.ring)
		}
		return nil, kr, false, err
	}
	if signer, _, err = signing.LoadOrCreateSigner(p.key); err != nil {
		return nil, nil, false, err
	}
	kr, err = signing.LoadKeyring(p.ring)
	if errors.Is(err, fs.ErrNotExist) {
		kr, fresh = signing.Trusting(signer), true
		err = kr.Save(p.ring)
	}
	if err != nil {
		return nil, nil, false, err
	}
	if _, ok := kr.Key(signer.KeyID()); !ok {
		return nil, nil, false, fmt.Errorf("the signing key %s (%s) is not in the keyring %s: kpitrail changes its key with `kpitrail keys rotate`, never by replacing the key file", signer.KeyID(), p.key, p.ring)
	}
	return signer, kr, fresh, nil
}

// settleKeys finishes what the key files leave open once the store is
// open: a keyring made for a log that already has history adopts that
// history (it was written before kpitrail signed), and a rotation cut off
// between its event and the keyring's update is completed or undone.
func (sys *System) settleKeys(ctx context.Context, fresh bool) error {
	p, kr := sys.keys, sys.Store.Keyring()
	if fresh {
		last, err := sys.Store.LastPosition(ctx)
		if err != nil {
			return err
		}
		if last > 0 {
			kr.AdoptUnsigned(last)
			sys.AdoptedUnsigned = last
			if err := kr.Save(p.ring); err != nil {
				return err
			}
		}
	}
	next, err := signing.LoadSigner(p.next())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	done, err := sys.Store.ResumeRotation(ctx, keyringRef, next)
	if err != nil {
		return fmt.Errorf("an interrupted key rotation: %w", err)
	}
	return sys.finishRotation(next, done)
}

// finishRotation writes down the outcome of a rotation: the keyring as the
// store now has it, and the new key in place of the old one, or, when the
// rotation never reached the log, the new key forgotten.
func (sys *System) finishRotation(next *signing.Signer, landed bool) error {
	p, kr := sys.keys, sys.Store.Keyring()
	if !landed {
		kr.Drop(next.KeyID())
		if err := kr.Save(p.ring); err != nil {
			return err
		}
		return os.Remove(p.next())
	}
	if err := kr.Save(p.ring); err != nil {
		return err
	}
	return os.Rename(p.next(), p.key)
}

// RotateKey replaces the signing key. The new key is written down first
// (its private key beside the old one, its public key in the keyring as
// pending), then the rotation event is appended signed by the old key,
// then the keyring records the rotation and the new key takes the old
// one's place. A crash anywhere in between is settled on the next start.
func (sys *System) RotateKey(ctx context.Context, meta domain.Meta, reason string) (httpapi.KeyRotation, error) {
	sys.rotating.Lock()
	defer sys.rotating.Unlock()
	p, kr := sys.keys, sys.Store.Keyring()
	old := sys.Store.Signer()
	if old == nil {
		return httpapi.KeyRotation{}, eventstore.ErrReadOnly
	}
	agg, err := sys.Service.Load(ctx, keyringRef)
	if err != nil {
		return httpapi.KeyRotation{}, err
	}
	next, err := signing.Generate()
	if err != nil {
		return httpapi.KeyRotation{}, err
	}
	cmd := domain.RotateKey{RetiredKeyID: old.KeyID(), KeyID: next.KeyID(), Algorithm: signing.Algorithm,
		PublicKey: next.PublicKeyText(), Reason: reason}
	events, err := domain.Decide(cmd, agg, nil)
	if err != nil {
		return httpapi.KeyRotation{}, err
	}
	pending := make([]domain.Pending, len(events))
	for i, e := range events {
		if pending[i], err = domain.NewPending(e); err != nil {
			return httpapi.KeyRotation{}, domain.Internal(err, "encode event")
		}
	}
	if err := next.Save(p.next()); err != nil {
		return httpapi.KeyRotation{}, err
	}
	if err := kr.AddPending(next.Key()); err != nil {
		return httpapi.KeyRotation{}, err
	}
	if err := kr.Save(p.ring); err != nil {
		return httpapi.KeyRotation{}, err
	}
	envs, err := sys.Store.Rotate(ctx, keyringRef, agg.Version(), meta, next, pending...)
	if errors.Is(err, eventstore.ErrRotatedBefore) {
		// A retry of a rotation that was done: its answer, and the key
		// made for this attempt forgotten.
		if ferr := sys.finishRotation(next, false); ferr != nil {
			return httpapi.KeyRotation{}, ferr
		}
		return priorRotation(envs)
	}
	if err != nil && envs == nil {
		// Not appended, or not known to be: the log decides.
		done, rerr := sys.Store.ResumeRotation(ctx, keyringRef, next)
		if rerr != nil {
			return httpapi.KeyRotation{}, fmt.Errorf("%w (the rotation is settled on the next start)", err)
		}
		if ferr := sys.finishRotation(next, done); ferr != nil || !done {
			return httpapi.KeyRotation{}, errors.Join(err, ferr)
		}
		envs = []domain.Envelope{{}}
		if k, ok := kr.Key(next.KeyID()); ok {
			envs[0].Position = k.ValidAfter
		}
	} else if err != nil {
		return httpapi.KeyRotation{}, err
	} else if err := sys.finishRotation(next, true); err != nil {
		return httpapi.KeyRotation{}, err
	}
	return httpapi.KeyRotation{RetiredKeyID: old.KeyID(), KeyID: next.KeyID(), PublicKey: next.PublicKeyText(), Position: envs[0].Position}, nil
}

// priorRotation is the answer a rotation gave the first time.
func priorRotation(envs []domain.Envelope) (httpapi.KeyRotation, error) {
	for _, e := range envs {
		data, err := domain.Decode(e)
		if err != nil {
			return httpapi.KeyRotation{}, err
		}
		if r, ok := data.(*domain.KeyRotated); ok {
			return httpapi.KeyRotation{RetiredKeyID: r.RetiredKeyID, KeyID: r.KeyID, PublicKey: r.PublicKey, Position: e.Position}, nil
		}
	}
	return httpapi.KeyRotation{}, errors.New("the command's events hold no rotation")
}
