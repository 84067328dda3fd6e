package eventstore

import (
	"github.com/nats-io/nats.go"

	"kpitrail/domain"
)

// The W3C trace context of the write, on messages written while traces
// are exported (domain.Meta.TraceParent), by the names the W3C gives them.
const (
	hdrTraceParent = "traceparent"
	hdrTraceState  = "tracestate"
)

// traceHeaderReserve bounds what setTraceHeaders adds to a message: a
// traceparent is 55 bytes, and a longer tracestate than fits is dropped.
// AppendMany checks a message's size before the headers go on, so its
// reserve includes this.
const traceHeaderReserve = 320

// setTraceHeaders writes the write's trace context, when it has one, as
// headers of its stored message. They are not covered by the hash chain:
// they say how the write was observed, not what was written.
func setTraceHeaders(msg *nats.Msg, meta domain.Meta) {
	if meta.TraceParent == "" {
		return
	}
	msg.Header[hdrTraceParent] = []string{meta.TraceParent}
	if meta.TraceState != "" && len(hdrTraceParent)+len(meta.TraceParent)+len(hdrTraceState)+len(meta.TraceState)+8 <= traceHeaderReserve {
		msg.Header[hdrTraceState] = []string{meta.TraceState}
	}
}
