package eventstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"kpitrail/domain"
)

// The envelope encoder below writes what encoding/json writes for a
// domain.Envelope (fields in declaration order, the same omitempty fields,
// HTML-safe string escaping, the payload compacted), but without
// reflection: the store encodes every event it appends, and encoding/json
// was a tenth of a command's cost. wire_test.go compares it with
// json.Marshal byte for byte and checks that it knows every field of
// domain.Envelope, so a new field cannot be dropped silently.

// envelopeSizeHint is about what appendEnvelope writes for e, so one
// allocation usually holds a whole message.
func envelopeSizeHint(e *domain.Envelope) int {
	const keys = 256 // field names, quotes, separators, numbers, the time
	return keys + len(e.ID) + len(e.Name) + len(e.AggregateType) + len(e.AggregateID) + len(e.Actor) +
		len(e.ActorTokenID) + len(e.CommandID) + len(e.CorrelationID) + len(e.CausationID) + len(e.Source) + len(e.Payload) +
		len(e.PrevHash) + len(e.Hash)
}

// appendEnvelope appends the stored JSON of e. Position is never written:
// the server assigns it.
func appendEnvelope(b []byte, e *domain.Envelope) ([]byte, error) {
	b = append(b, `{"id":`...)
	b = domain.AppendJSONString(b, e.ID)
	b = append(b, `,"name":`...)
	b = domain.AppendJSONString(b, e.Name)
	b = append(b, `,"schema_version":`...)
	b = strconv.AppendInt(b, int64(e.SchemaVersion), 10)
	b = append(b, `,"aggregate_type":`...)
	b = domain.AppendJSONString(b, e.AggregateType)
	b = append(b, `,"aggregate_id":`...)
	b = domain.AppendJSONString(b, e.AggregateID)
	b = append(b, `,"aggregate_version":`...)
	b = strconv.AppendUint(b, e.AggregateVersion, 10)
	if e.Index != 0 {
		b = append(b, `,"index":`...)
		b = strconv.AppendInt(b, int64(e.Index), 10)
	}
	b = append(b, `,"recorded_at":"`...)
	b, err := e.RecordedAt.AppendText(b)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: recorded_at: %w", e.ID, err)
	}
	b = append(b, `","actor":`...)
	b = domain.AppendJSONString(b, e.Actor)
	if e.ActorTokenID != "" {
		b = append(b, `,"actor_token_id":`...)
		b = domain.AppendJSONString(b, e.ActorTokenID)
	}
	b = append(b, `,"command_id":`...)
	b = domain.AppendJSONString(b, e.CommandID)
	if e.CorrelationID != "" {
		b = append(b, `,"correlation_id":`...)
		b = domain.AppendJSONString(b, e.CorrelationID)
	}
	if e.CausationID != "" {
		b = append(b, `,"causation_id":`...)
		b = domain.AppendJSONString(b, e.CausationID)
	}
	b = append(b, `,"source":`...)
	b = domain.AppendJSONString(b, e.Source)
	b = append(b, `,"payload":`...)
	if b, err = appendPayload(b, e.Payload); err != nil {
		return nil, fmt.Errorf("encode event %s: payload: %w", e.ID, err)
	}
	b = append(b, `,"prev_hash":`...)
	b = domain.AppendJSONString(b, e.PrevHash)
	b = append(b, `,"hash":`...)
	b = domain.AppendJSONString(b, e.Hash)
	return append(b, '}'), nil
}

// appendPayload writes a json.RawMessage as encoding/json does: null when
// nil, otherwise validated and compacted, with <, >, &, U+2028 and U+2029
// escaped.
func appendPayload(b []byte, p json.RawMessage) ([]byte, error) {
	if p == nil {
		return append(b, "null"...), nil
	}
	start := len(b)
	b, err := domain.AppendCompactJSON(b, p) // json.Compact's bytes and errors
	if err != nil {
		return nil, err
	}
	if !needsHTMLEscape(b[start:]) {
		return b, nil
	}
	compacted := bytes.Clone(b[start:])
	buf := bytes.NewBuffer(b[:start])
	json.HTMLEscape(buf, compacted)
	return buf.Bytes(), nil
}

// needsHTMLEscape reports whether json.HTMLEscape would change s.
func needsHTMLEscape(s []byte) bool {
	for i, c := range s {
		switch {
		case c == '<' || c == '>' || c == '&':
			return true
		case c == 0xE2 && i+2 < len(s) && s[i+1] == 0x80 && s[i+2]&^1 == 0xA8:
			return true
		}
	}
	return false
}
