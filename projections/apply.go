package projections

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// Applied describes one committed batch, for change notifications.
type Applied struct {
	From, To    uint64 // first and last position applied (inclusive)
	Messages    int    // messages applied or dead-lettered
	Events      int    // events applied
	DeadLetters int    // messages sent to dead_letters
	// Tasks and Indicators are the ids whose rows changed, sorted.
	Tasks      []string
	Indicators []string
	// LastRecordedAt is the record time of the last applied event.
	LastRecordedAt time.Time
}

// Dead-letter kinds, stored in dead_letters.kind.
const (
	DeadMalformed   = "malformed"     // the stored bytes are not a kpitrail message
	DeadForeign     = "foreign"       // well formed, but not signed by kpitrail (eventstore.Authentic)
	DeadUnknown     = "unknown_event" // an event name this build does not know
	DeadUndecodable = "undecodable"   // a known event whose payload does not decode
	DeadChainBreak  = "chain_break"   // the aggregate's hash chain does not hold
	DeadInvariant   = "invariant"     // decodes, but contradicts the read models
)

// projector applies messages to one DB. Runner, Rebuild and the replays
// share it, so every path applies events the same way.
type projector struct {
	db          *DB
	now         func() time.Time
	loc         *time.Location
	dueSoonDays int
	// asOfDay, when set, is the day deadline statuses are judged on
	// (replays); otherwise it is today in loc.
	asOfDay string
	// skipDerive leaves derived columns alone, for a test that compares
	// fact rows only and applies a great many batches; nothing else changes.
	skipDerive bool
	// beforeCommit lets tests fail a batch after it is applied and before
	// it commits, which is where a crash hurts most, and look at what the
	// batch wrote through its transaction.
	beforeCommit func(Applied) error
	// build, when set, is a file built from nothing in one pass (Rebuild,
	// the replays): nobody reads it before it is finished, so derived
	// columns and chain heads are written once, by finishBuild.
	build *buildState
}

func (p *projector) today() string {
	if p.asOfDay != "" {
		return p.asOfDay
	}
	return p.now().In(p.loc).Format(time.DateOnly)
}

// applyBatch applies msgs and the checkpoint in one transaction: after a
// crash at any instant the file is at exactly the old or the new position.
// Messages at or below the stored checkpoint are skipped, so a message
// delivered twice (a consumer reset, a retried batch) is applied once.
func (p *projector) applyBatch(ctx context.Context, msgs []eventstore.Message) (Applied, error) {
	items := make([]prepared, len(msgs))
	for i, m := range msgs {
		items[i] = prepared{m: m}
	}
	return p.applyItems(ctx, items)
}

// applyItems is applyBatch for messages that may have been prepared ahead
// (a build prepares the next batch while this one is written). In a build,
// derived columns and chain heads are written once, by finishBuild, instead
// of with every batch.
func (p *projector) applyItems(ctx context.Context, items []prepared) (Applied, error) {
	ob, err := p.begin(ctx)
	if err != nil {
		return Applied{}, err
	}
	defer ob.abort()
	if err := ob.add(ctx, items); err != nil {
		return Applied{}, err
	}
	return ob.finish(ctx)
}

// prepared is a message with the part of applying it that needs no
// database: its chain checked and its events decoded.
type prepared struct {
	m      eventstore.Message
	ready  bool // prepared ahead: the chain verifier has already moved past it
	skip   bool // left out by the build's filter (as-of)
	brk    *domain.ChainBreak
	recs   []domain.Recorded
	bad    int // index of an event that did not decode, when badErr is set
	badErr error
}

// size estimates the memory a prepared message holds until its batch
// commits: its stored bytes, and per event the envelope, the decoded
// event, and the row values buffered for events_log (a boxed value per
// column). Measured on generated logs (when events_log still buffered a
// copy of the payload): about 2.5 KB per event of a few hundred bytes of
// payload.
func (it prepared) size() int64 {
	n := int64(len(it.m.Raw)) + 256
	for _, e := range it.m.Events {
		n += int64(len(e.Payload))*3 + 2048
	}
	return n
}

// prepare checks m against the chain heads in v and decodes its events.
// The heads move past a message unless it breaks the links (see
// applyMessage), which depends on the chain alone, so a build can prepare
// messages ahead of the database.
func prepare(v *domain.ChainVerifier, m eventstore.Message) prepared {
	it := prepared{m: m, ready: true}
	if m.Err != nil || m.Foreign != nil || len(m.Events) == 0 {
		return it
	}
	for i := range m.Events {
		m.Events[i].Position, m.Events[i].Index = m.Position, i
	}
	it.brk = v.Inspect(m.Events)
	if it.brk == nil || it.brk.Kind == "altered" {
		v.Accept(m.Events)
	}
	if it.brk != nil {
		return it
	}
	it.recs = make([]domain.Recorded, len(m.Events))
	for i, e := range m.Events {
		ev, err := domain.Decode(e)
		if err != nil {
			it.recs, it.bad, it.badErr = nil, i, err
			return it
		}
		it.recs[i] = domain.Recorded{Envelope: e, Data: ev}
	}
	return it
}

// applyMessage applies all events of one message or none of them: a
// message is one command, and half a command is a state no one decided.
// A message that cannot be applied goes to dead_letters whole; only a
// database failure is returned.
func (p *projector) applyMessage(b *batchTx, st *batchState, it prepared) error {
	m := it.m
	if m.Err != nil {
		return p.deadLetter(b, st, m, nil, DeadMalformed, m.Err.Error())
	}
	if len(m.Events) == 0 {
		return p.deadLetter(b, st, m, nil, DeadMalformed, "a message without events")
	}
	// A message kpitrail did not sign is not history, however well it
	// links: it is listed once and moves no chain, so the aggregate's next
	// genuine event applies as if it had never been published.
	if m.Foreign != nil {
		return p.deadLetter(b, st, m, nil, DeadForeign, m.Foreign.Error())
	}
	// The chain heads follow the links, exactly as the write model does. A
	// genuine message that does not link (replayed, or after a removed one)
	// is not part of the chain: it is dead-lettered and the heads stay, so the next genuine
	// command, which links to the last linked event, still applies. A message
	// that links but cannot be applied (altered content, unreadable,
	// breaking an invariant) is dead-lettered and the heads move past it.
	if !it.ready {
		for _, e := range m.Events {
			if err := st.seed(b, e.Ref()); err != nil {
				return err
			}
		}
		it = prepare(st.verifier, m)
	}
	advance := func() {
		for _, e := range m.Events {
			st.heads[e.Ref()] = chainHead{version: e.AggregateVersion, hash: e.Hash, position: m.Position}
		}
	}
	if brk := it.brk; brk != nil {
		e := eventByID(m.Events, brk.EventID)
		if brk.Kind == "altered" {
			advance()
		}
		return p.deadLetter(b, st, m, e, DeadChainBreak, fmt.Sprintf("%s: %s (version %d)", brk.Kind, brk.Detail, brk.Version))
	}
	if it.badErr != nil {
		kind := DeadUndecodable
		if _, known := domain.SchemaVersion(m.Events[it.bad].Name); !known {
			kind = DeadUnknown
		}
		advance()
		return p.deadLetter(b, st, m, &m.Events[it.bad], kind, it.badErr.Error())
	}
	recs := it.recs
	if b.direct = b.isSuspect(m); b.direct {
		if err := b.flush(); err != nil {
			return err
		}
	}
	logMark, changesMark := b.log.mark(), b.changes.mark()
	if err := b.exec(`SAVEPOINT message`); err != nil {
		return err
	}
	for i, r := range recs {
		err := p.applyEvent(b, st, r)
		if err == nil {
			err = logEvent(b, r.Envelope)
		}
		if err == nil {
			continue
		}
		if !isInvariant(err) {
			return err
		}
		st.rollback()
		b.figs.rollback()
		b.log.truncate(logMark)
		b.changes.truncate(changesMark)
		if rbErr := b.exec(`ROLLBACK TO message`); rbErr != nil {
			return rbErr
		}
		if rbErr := b.exec(`RELEASE message`); rbErr != nil {
			return rbErr
		}
		advance()
		return p.deadLetter(b, st, m, &m.Events[i], DeadInvariant, err.Error())
	}
	advance()
	st.keep()
	b.figs.keep()
	st.applied.Events += len(recs)
	st.applied.LastRecordedAt = m.Events[len(m.Events)-1].RecordedAt
	return b.exec(`RELEASE message`)
}

// Rows touched by a dead-lettered message stay marked dirty: recomputing an
// unchanged row is harmless, and derive skips rows that were rolled back.
func (p *projector) applyEvent(b *batchTx, st *batchState, r domain.Recorded) error {
	switch r.AggregateType {
	case domain.AggregateTask:
		return p.applyTask(b, st, r)
	case domain.AggregateIndicator:
		return p.applyIndicator(b, st, r)
	case domain.AggregateSnapshot:
		return p.applySnapshot(b, r)
	case domain.AggregateYear:
		return p.applyYear(b, st, r)
	case domain.AggregateUnit:
		return p.applyUnit(b, r)
	case domain.AggregateCheckpoint, domain.AggregateKeyring, domain.AggregateAudit:
		// Checkpoint roots, key rotations and acknowledged findings derive
		// nothing: events_log keeps them, and chain_heads moves past them
		// like past any event. The audit reads them from the log.
		return nil
	}
	return broken("unknown aggregate type %q", r.AggregateType)
}

func eventByID(events []domain.Envelope, id string) *domain.Envelope {
	for i := range events {
		if events[i].ID == id {
			return &events[i]
		}
	}
	return nil
}

func (p *projector) deadLetter(b *batchTx, st *batchState, m eventstore.Message, e *domain.Envelope, kind, reason string) error {
	raw := m.Raw
	if len(raw) == 0 && len(m.Events) > 0 {
		// Stores that hand over decoded messages (the in-memory one) keep no
		// bytes; the events themselves are the evidence then.
		raw, _ = json.Marshal(m.Events)
	}
	var eventID, name, aggType, aggID, recordedAt any
	if e == nil && len(m.Events) > 0 {
		e = &m.Events[0]
	}
	if e != nil {
		eventID, name, aggType, aggID = e.ID, e.Name, e.AggregateType, e.AggregateID
		recordedAt = formatTime(e.RecordedAt)
	}
	st.applied.DeadLetters++
	return b.exec(`INSERT INTO dead_letters (position, subject, kind, event_id, name, aggregate_type, aggregate_id, error, raw, recorded_at, dead_lettered_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.Position, m.Subject, kind, eventID, name, aggType, aggID, reason, raw, recordedAt, formatTime(p.now()))
}

// eventsLogColumns index the log (schema 7): the payload and the hashes
// stay in the log, where they are signed, and are read from there.
const eventsLogColumns = `position, idx, event_id, name, schema_version, aggregate_type, aggregate_id,
	aggregate_version, recorded_at, actor, command_id, correlation_id, causation_id, source, actor_token_id`

func logEvent(b *batchTx, e domain.Envelope) error {
	return b.row(&b.log, e.Position, e.Index, e.ID, e.Name, e.SchemaVersion, e.AggregateType, e.AggregateID, e.AggregateVersion,
		formatTime(e.RecordedAt), e.Actor, e.CommandID, nullStr(e.CorrelationID), nullStr(e.CausationID), e.Source,
		nullStr(e.ActorTokenID))
}

// nullStr stores "" as NULL: in the read models an absent value is NULL,
// so analysts test one thing.
func nullStr[T ~string](s T) any {
	if s == "" {
		return nil
	}
	return string(s)
}

func (p *projector) deriveBatch(b *batchTx, st *batchState, today string) error {
	if p.skipDerive {
		return nil
	}
	return p.derive(b, st, today)
}
