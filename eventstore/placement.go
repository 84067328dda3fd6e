package eventstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/domain"
)

// States of JetStream.legacy.
const (
	legacyUnknown int32 = iota
	legacyNone
	legacyPresent
)

// place is where an append to ref goes: the subject its history is on, or,
// for a new aggregate, the subject of the unit its first event names.
func (s *JetStream) place(ref domain.AggregateRef, agg *aggState, events []domain.Pending) (placement, error) {
	if agg.subject != "" {
		return agg.placement, nil
	}
	unit, err := UnitOf(ref, events[0])
	if err != nil {
		return placement{}, err
	}
	return placement{subject: Subject(s.cfg.SubjectPrefix, unit, ref)}, nil
}

// checkSubject is the filter an append's last-sequence check runs on
// (the Nats-Expected-Last-Subject-Sequence-Subject header): the aggregate's
// subject in every unit, so a second unit cannot start a history under an
// id another unit holds. An aggregate of the old layout is checked on its
// own subject: "" leaves the header out.
func (s *JetStream) checkSubject(ref domain.AggregateRef, at placement) string {
	if at.legacy {
		return ""
	}
	return AggregateFilter(s.cfg.SubjectPrefix, ref)
}

// aggregate returns the cached write model of ref. With refresh, or when not
// cached, it reads the aggregate's messages newer than what is held, by
// batched direct get on the aggregate's filter over every unit (or, for an
// aggregate of the old layout, its one subject): no consumer is created per
// load. Measured here (BenchmarkLoad*, 1,000 aggregates of 10 messages, one
// node, 2 cores): a cold load took 2.8-4.6 ms by direct get on the exact
// subject and 3.5-5.6 ms with a consumer per load; both are dominated by the
// server scanning a block for the subject, and on a cluster creating a
// consumer adds a replicated round of its own (~200 ms). The filter over
// every unit costs more: 4.3-6.4 ms against 3.3-4.0 ms for the exact subject
// in runs alternated on the same, busy machine (go test -bench
// BenchmarkLoadDirectGet -benchtime 2s -count 3). Warm loads come from the
// write model in memory and cost no round trip at all.
func (s *JetStream) aggregate(ctx context.Context, ref domain.AggregateRef, refresh bool) (*aggState, error) {
	cached, ok := s.cache.get(ref)
	if ok && !refresh {
		return cached, nil
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	var from uint64 = 1
	state := &aggState{}
	switch {
	case ok:
		from = cached.lastSeq + 1
		state = cached.clone()
	default:
		old, err := s.legacyAggregate(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", ref, err)
		}
		if old != nil {
			s.cache.put(ref, old)
			return old, nil
		}
	}
	filter := AggregateFilter(s.cfg.SubjectPrefix, ref)
	if state.legacy {
		filter = state.subject
	}
	if err := s.readAggregate(ctx, filter, from, state); err != nil {
		return nil, fmt.Errorf("load %s: %w", ref, err)
	}
	s.cache.put(ref, state)
	return state, nil
}

// readAggregate adds to state the messages on filter from sequence from on.
func (s *JetStream) readAggregate(ctx context.Context, filter string, from uint64, state *aggState) error {
	return s.subjectMessages(ctx, filter, from, func(raw *jetstream.RawStreamMsg) {
		// Whatever the message, its sequence counts: the next append's
		// subject check is against the filter's last sequence.
		state.lastSeq = raw.Sequence
		msg := decodeMessage(s.cfg.SubjectPrefix, raw.Subject, raw.Sequence, raw.Data, raw.Header)
		// A foreign message on an aggregate's subject is skipped by the
		// write model (the readers dead-letter it), and so is a genuine one
		// that does not continue the chain.
		if Authentic(s.trust, msg) != nil {
			return
		}
		if linked, ok := linkedEvents(state.events, msg.Events); ok {
			if len(state.events) == 0 {
				// The aggregate lives where its history starts; a copy of a
				// message in another unit never links after it.
				state.subject = raw.Subject
			}
			state.events = append(state.events, linked...)
		}
	})
}

// legacyAggregate reads ref from its subject of the old layout when the
// stream holds any, and returns it when history is there: nil when the
// aggregate is not of the old layout.
func (s *JetStream) legacyAggregate(ctx context.Context, ref domain.AggregateRef) (*aggState, error) {
	present, err := s.legacyLog(ctx)
	if err != nil || !present {
		return nil, err
	}
	old := &aggState{placement: placement{subject: LegacySubject(s.cfg.SubjectPrefix, ref), legacy: true}}
	if err := s.readAggregate(ctx, old.subject, 1, old); err != nil {
		return nil, err
	}
	if len(old.events) == 0 {
		return nil, nil
	}
	return old, nil
}

// legacyLog reports whether the stream holds any message on a subject of
// the old layout, asking the server once (one direct get): a log written
// since units are in subjects never gets such a message from kpitrail, so
// "none" stays true for the store's life. Every instance writing to the
// stream must run a version that knows the unit layout (docs/events.md).
func (s *JetStream) legacyLog(ctx context.Context) (bool, error) {
	switch s.legacy.Load() {
	case legacyNone:
		return false, nil
	case legacyPresent:
		return true, nil
	}
	st := s.stream
	if st == nil {
		// Attached to a stream that did not exist: ask again each time.
		var err error
		if st, err = s.js.Stream(ctx, s.cfg.Stream); err != nil {
			return false, err
		}
	}
	_, err := s.getMsg(ctx, st, 1, jetstream.WithGetMsgSubject(legacyFilter(s.cfg.SubjectPrefix)))
	switch {
	case errors.Is(err, jetstream.ErrMsgNotFound):
		s.legacy.Store(legacyNone)
		return false, nil
	case err != nil:
		return false, fmt.Errorf("look for subjects of the old layout: %w", err)
	}
	s.legacy.Store(legacyPresent)
	return true, nil
}

// Placement is the subject ref's history lives on, and whether it is of
// the old layout; "" when the aggregate has no history.
func (s *JetStream) Placement(ctx context.Context, ref domain.AggregateRef) (subject string, legacy bool, err error) {
	agg, err := s.aggregate(ctx, ref, true)
	if err != nil {
		return "", false, err
	}
	return agg.subject, agg.legacy, nil
}
