package eventstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

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

// Subject returns the subject of one aggregate instance.
func Subject(prefix string, ref domain.AggregateRef) string {
	return prefix + "." + ref.Type + "." + ref.ID
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
		// a foreign publish that would slip past the per-subject version check.
		if want := Subject(prefix, w.Events[i].Ref()); want != subject {
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
