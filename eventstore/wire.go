package eventstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"

	"kpitrail/domain"
)

// DefaultSubjectPrefix is where events live: one subject per aggregate
// instance, so the server's per-subject sequence is the aggregate's
// optimistic-concurrency token and a load reads only that aggregate.
const DefaultSubjectPrefix = "kpitrail.events"

// Header names on stored messages. Stable: they are part of the stored data.
const (
	hdrVersion   = "Kpitrail-Version"    // aggregate version after this message
	hdrCommandID = "Kpitrail-Command-Id" // for operators reading the raw stream
	wireFormat   = 1
)

// DeploymentUnit is the unit token of the aggregates that belong to the
// whole deployment rather than to one assessed unit: years, units
// themselves, keyrings, audits, checkpoints and snapshots. No unit may
// take it as its id (the domain refuses it), and the store refuses to
// place a task or an indicator in it.
const DeploymentUnit = domain.ReservedUnitID

// Subject returns the subject of one aggregate instance living in unit:
// <prefix>.<unit>.<type>.<id>. The unit comes first so that
// <prefix>.<unit>.> is one unit's whole history, for a consumer's filter,
// a mirror or a source.
func Subject(prefix, unit string, ref domain.AggregateRef) string {
	return prefix + "." + unit + "." + ref.Type + "." + ref.ID
}

// LegacySubject is where logs written before units were in subjects keep
// an aggregate: <prefix>.<type>.<id>. Such aggregates are read and
// appended there still (see docs/events.md, "Subjects").
func LegacySubject(prefix string, ref domain.AggregateRef) string {
	return prefix + "." + ref.Type + "." + ref.ID
}

// AggregateFilter matches the aggregate's subject in any unit: loads read
// it, and appends check the last sequence on it, so one id lives in one
// unit only.
func AggregateFilter(prefix string, ref domain.AggregateRef) string {
	return prefix + ".*." + ref.Type + "." + ref.ID
}

// UnitFilter matches every subject of one unit.
func UnitFilter(prefix, unit string) string { return prefix + "." + unit + ".>" }

// legacyFilter matches every subject of the old layout (two tokens after
// the prefix; the unit layout has three).
func legacyFilter(prefix string) string { return prefix + ".*.*" }

// UnitOf is the unit token a new aggregate's subject takes from the first
// event of its first append: a task's or an indicator's unit_id (the
// default unit when it names none); DeploymentUnit for every other type.
func UnitOf(ref domain.AggregateRef, first domain.Pending) (string, error) {
	if ref.Type != domain.AggregateTask && ref.Type != domain.AggregateIndicator {
		return DeploymentUnit, nil
	}
	var p struct {
		UnitID string `json:"unit_id"`
	}
	if len(first.Payload) > 0 {
		if err := json.Unmarshal(first.Payload, &p); err != nil {
			return "", domain.Invalid("payload", "json", "the first event of %s is not a JSON object: %v", ref, err)
		}
	}
	if p.UnitID == "" {
		return domain.DefaultUnitID, nil
	}
	if err := domain.ValidateID("unit_id", p.UnitID); err != nil {
		return "", err
	}
	if p.UnitID == DeploymentUnit {
		return "", domain.Invalid("unit_id", "reserved", "%q is the subject token of deployment-wide aggregates", DeploymentUnit)
	}
	return p.UnitID, nil
}

// subjectRef splits a stored subject into the unit token and the
// aggregate's type and id, in either layout (unit "" for the old one).
func subjectRef(prefix, subject string) (unit, typ, id string, ok bool) {
	rest, found := strings.CutPrefix(subject, prefix+".")
	if !found {
		return "", "", "", false
	}
	parts := strings.Split(rest, ".")
	if slices.Contains(parts, "") {
		return "", "", "", false
	}
	switch len(parts) {
	case 2:
		return "", parts[0], parts[1], true
	case 3:
		return parts[0], parts[1], parts[2], true
	}
	return "", "", "", false
}

// SubjectUnit is the unit token of a stored subject: "" for a subject of
// the old layout or one that is not an event subject.
func SubjectUnit(prefix, subject string) string {
	unit, _, _, _ := subjectRef(prefix, subject)
	return unit
}

func subjectTypeID(prefix, subject string) (typ, id string, ok bool) {
	_, typ, id, ok = subjectRef(prefix, subject)
	return typ, id, ok
}

// wireMessage is the body of one stored message: all events of one append.
// One message per append is what makes a multi-event command atomic: the
// server stores or refuses the message whole, and it costs one fsync.
type wireMessage struct {
	Format int               `json:"format"`
	Events []domain.Envelope `json:"events"`
}

// encodeMessage writes the body of one append: exactly the bytes
// json.Marshal writes for the wireMessage of envs with their positions
// cleared (the server assigns the position; it is never stored in the
// body), without reflection. wire_test.go holds it to json.Marshal byte
// for byte, and to the decoder.
func encodeMessage(envs []domain.Envelope) ([]byte, error) {
	size := len(`{"format":1,"events":[]}`)
	for i := range envs {
		size += envelopeSizeHint(&envs[i])
	}
	b := make([]byte, 0, size)
	b = append(b, `{"format":`...)
	b = strconv.AppendInt(b, wireFormat, 10)
	b = append(b, `,"events":[`...)
	for i := range envs {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendEnvelope(b, &envs[i]); err != nil {
			return nil, err
		}
	}
	return append(b, "]}"...), nil
}

// ErrMalformed marks stored bytes that are not a kpitrail message.
var ErrMalformed = errors.New("malformed message")

// decodeMessage reads a stored message and stamps its position. It checks
// the shape only; hash chains and payloads are the reader's to judge, so a
// tampered event still reaches the auditor instead of vanishing here.
func decodeMessage(prefix, subject string, seq uint64, data []byte, hdr nats.Header) Message {
	msg := Message{Position: seq, Subject: subject, Raw: data}
	msg.KeyID, msg.Signature = parseSignature(hdr.Get(hdrSignature))
	var w wireMessage
	if err := json.Unmarshal(data, &w); err != nil {
		msg.Err = fmt.Errorf("%w at position %d: %v", ErrMalformed, seq, err)
		return msg
	}
	if w.Format != wireFormat || len(w.Events) == 0 {
		msg.Err = fmt.Errorf("%w at position %d: format %d with %d events", ErrMalformed, seq, w.Format, len(w.Events))
		return msg
	}
	for i := range w.Events {
		w.Events[i].Position = seq
		w.Events[i].Index = i
		// An event must live on its own aggregate's subject: anything else is
		// a foreign publish that would slip past the per-subject version
		// check. The unit token is not in the events (only a first event
		// names it); the store that appended chose it, and a load reads
		// every unit's subject of the aggregate, so a copy in another unit
		// cannot become history (it does not link).
		if typ, id, ok := subjectTypeID(prefix, subject); !ok || typ != w.Events[i].AggregateType || id != w.Events[i].AggregateID {
			msg.Err = fmt.Errorf("%w at position %d: event %d of %s stored on subject %s", ErrMalformed, seq, i, w.Events[i].Ref(), subject)
			return msg
		}
	}
	if v := hdr.Get(hdrVersion); v != "" {
		if n, err := strconv.ParseUint(v, 10, 64); err != nil || n != w.Events[len(w.Events)-1].AggregateVersion {
			msg.Err = fmt.Errorf("%w at position %d: header version %q does not match the events", ErrMalformed, seq, v)
			return msg
		}
	}
	msg.Events = w.Events
	msg.TraceParent, msg.TraceState = hdr.Get(hdrTraceParent), hdr.Get(hdrTraceState)
	return msg
}
