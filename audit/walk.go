package audit

import (
	"errors"
	"fmt"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/signing"
)

// walker follows the log's history exactly as the write model and the
// read models do: a message is history when eventstore.Authentic accepts
// it and its events continue their aggregates' chains (an event whose
// content no longer matches its hash still links, and is passed over).
// Anything else moves no chain. So the heads, and the root over them, are
// the ones the read models keep, and a foreign message, whatever it
// claims, changes nothing after it.
type walker struct {
	kr     *signing.Keyring // learns rotations from the log
	chains *domain.ChainVerifier
	heads  map[domain.AggregateRef]string
	// journal lets a root be computed for a position already passed: the
	// checkpoint events in the log name positions before their own.
	journal []undo
	// journalFrom is the first position the journal still covers.
	journalFrom uint64
}

// undo is one head change: the aggregate's head before the message at pos.
type undo struct {
	pos  uint64
	ref  domain.AggregateRef
	prev string
	had  bool
}

// maxJournal bounds the journal; a claim older than what it still holds
// is checked by a second read of the log.
const maxJournal = 1 << 20

func newWalker(kr *signing.Keyring) *walker {
	return &walker{kr: kr.Clone(), chains: domain.NewChainVerifier(), heads: map[domain.AggregateRef]string{}, journalFrom: 1}
}

// step is the judgement of one message.
type step struct {
	// malformed or foreign, when the message is not history.
	malformed, foreign error
	// brk is a break of the chain by a genuine message: it is history only
	// when brk is nil or "altered".
	brk *domain.ChainBreak
	// sound events decoded (nil unless the message is history with no
	// break), for the claims and acknowledgements they carry.
	recorded []domain.Recorded
	// keyErr is a rotation in the message the keyring cannot follow.
	keyErr error
}

func (w *walker) step(m eventstore.Message) step {
	if m.Err != nil {
		return step{malformed: m.Err}
	}
	if err := eventstore.Authentic(w.kr, m); err != nil {
		return step{foreign: err}
	}
	for i := range m.Events {
		m.Events[i].Position, m.Events[i].Index = m.Position, i
	}
	st := step{brk: w.chains.Inspect(m.Events)}
	if st.brk != nil && st.brk.Kind != "altered" {
		return st
	}
	w.chains.Accept(m.Events)
	for _, e := range m.Events {
		prev, had := w.heads[e.Ref()]
		w.journal = append(w.journal, undo{pos: m.Position, ref: e.Ref(), prev: prev, had: had})
		w.heads[e.Ref()] = e.Hash
	}
	if len(w.journal) > maxJournal {
		drop := len(w.journal) / 2
		w.journalFrom = w.journal[drop].pos + 1
		for drop < len(w.journal) && w.journal[drop].pos < w.journalFrom {
			drop++
		}
		w.journal = append(w.journal[:0], w.journal[drop:]...)
	}
	if st.brk != nil {
		return st
	}
	for _, e := range m.Events {
		data, err := domain.Decode(e)
		if err != nil {
			continue // a known-bad event carries no claim; the read models dead-letter it
		}
		st.recorded = append(st.recorded, domain.Recorded{Envelope: e, Data: data})
		if r, ok := data.(*domain.KeyRotated); ok && st.keyErr == nil {
			st.keyErr = w.learn(m, r)
		}
	}
	return st
}

// learn follows a rotation: the message announcing the new key must be
// signed by the key it retires, which the keyring already trusts.
func (w *walker) learn(m eventstore.Message, r *domain.KeyRotated) error {
	if m.KeyID != r.RetiredKeyID {
		return fmt.Errorf("the rotation retires key %s but is signed by %q", r.RetiredKeyID, m.KeyID)
	}
	return w.kr.Rotate(r.RetiredKeyID, signing.Key{ID: r.KeyID, Algorithm: r.Algorithm, PublicKey: r.PublicKey}, m.Position)
}

// errTooOld means the journal no longer reaches back to a position.
var errTooOld = errors.New("before the journal")

// rootAt is the checkpoint root of the log up to position, which must not
// be after the last message stepped.
func (w *walker) rootAt(position uint64) (Checkpoint, error) {
	if position+1 < w.journalFrom {
		return Checkpoint{}, errTooOld
	}
	heads := make(map[domain.AggregateRef]string, len(w.heads))
	for k, v := range w.heads {
		heads[k] = v
	}
	for i := len(w.journal) - 1; i >= 0 && w.journal[i].pos > position; i-- {
		u := w.journal[i]
		if u.had {
			heads[u.ref] = u.prev
		} else {
			delete(heads, u.ref)
		}
	}
	return Root(heads, position), nil
}

// root is the checkpoint root at the last message stepped.
func (w *walker) root(position uint64) Checkpoint { return Root(w.heads, position) }
