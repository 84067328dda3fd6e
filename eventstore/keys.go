package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"kpitrail/domain"
	"kpitrail/signing"
)

// Keyring is the keyring the store judges messages with.
func (s *JetStream) Keyring() *signing.Keyring { return s.trust }

// Signer is the key the store signs appends with now.
func (s *JetStream) Signer() *signing.Signer {
	s.signMu.RLock()
	defer s.signMu.RUnlock()
	return s.signer
}

// Rotate appends the events of a key rotation, signed by the current key,
// records the rotation in the store's keyring (which must hold next as
// pending) and signs every later append with next. No other append is in
// flight meanwhile, so nothing signed with the retired key lands after the
// rotation event.
//
// When the append's outcome is unknown (a timeout), the aggregate is read
// again: a rotation that landed is completed, one that did not is not.
func (s *JetStream) Rotate(ctx context.Context, ref domain.AggregateRef, expected uint64, meta domain.Meta, next *signing.Signer, events ...domain.Pending) ([]domain.Envelope, error) {
	if err := checkAppend(ref, meta, events); err != nil {
		return nil, err
	}
	s.signMu.Lock()
	defer s.signMu.Unlock()
	old := s.signer
	if old == nil {
		return nil, ErrReadOnly
	}
	envs, err := s.append(ctx, ref, expected, meta, events)
	if err != nil {
		agg, lerr := s.aggregate(ctx, ref, true)
		if lerr != nil {
			return nil, fmt.Errorf("%w (and whether the rotation landed is unknown: %v)", err, lerr)
		}
		if envs = byCommand(agg.events, meta.CommandID); len(envs) == 0 {
			return nil, err
		}
	}
	if r, err := rotationIn(envs); err != nil || r.KeyID != next.KeyID() || r.RetiredKeyID != old.KeyID() {
		// A retried command id: the stored events are an earlier rotation's.
		return envs, ErrRotatedBefore
	}
	if err := s.trust.Rotate(old.KeyID(), next.Key(), envs[0].Position); err != nil {
		return envs, err
	}
	s.signer = next
	return envs, nil
}

// ErrRotatedBefore is Rotate's answer to a command id that already rotated
// the key (to another key): its events come back and nothing changes.
var ErrRotatedBefore = errors.New("event store: this command rotated the key before")

// rotationIn is the rotation among a message's events.
func rotationIn(envs []domain.Envelope) (*domain.KeyRotated, error) {
	for _, e := range envs {
		if e.Name != domain.EvKeyRotated {
			continue
		}
		data, err := domain.Decode(e)
		if err != nil {
			return nil, err
		}
		return data.(*domain.KeyRotated), nil
	}
	return nil, errors.New("no keyring.key_rotated among the events")
}

// ResumeRotation completes a rotation to next whose event reached the log
// while its outcome was unknown to the process that appended it (a crash
// or a timeout between the append and the keyring's update): when the
// aggregate's last rotation, signed by the current key, introduces next,
// the keyring records it and the store signs with next from now on. It
// reports whether it did.
func (s *JetStream) ResumeRotation(ctx context.Context, ref domain.AggregateRef, next *signing.Signer) (bool, error) {
	s.signMu.Lock()
	defer s.signMu.Unlock()
	if s.signer == nil {
		return false, ErrReadOnly
	}
	agg, err := s.aggregate(ctx, ref, true)
	if err != nil {
		return false, err
	}
	for i := len(agg.events) - 1; i >= 0; i-- {
		e := agg.events[i]
		if e.Name != domain.EvKeyRotated {
			continue
		}
		r, err := rotationIn([]domain.Envelope{e})
		if err != nil {
			return false, fmt.Errorf("rotation at %d: %w", e.Position, err)
		}
		if r.KeyID != next.KeyID() || r.RetiredKeyID != s.signer.KeyID() {
			return false, nil
		}
		if err := s.trust.Rotate(r.RetiredKeyID, next.Key(), e.Position); err != nil {
			return false, err
		}
		s.signer = next
		return true, nil
	}
	return false, nil
}

// StreamCreated is when the server created the stream: a stream deleted
// and created again, even from its own messages, has another.
func (s *JetStream) StreamCreated(ctx context.Context) (time.Time, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	info, err := s.stream.Info(ctx)
	if err != nil {
		return time.Time{}, err
	}
	return info.Created, nil
}

// StoredAt is the server's time of storing the message at position.
func (s *JetStream) StoredAt(ctx context.Context, position uint64) (time.Time, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	m, err := s.getMsg(ctx, s.stream, position)
	if err != nil {
		return time.Time{}, err
	}
	return m.Time, nil
}
