package intake

// Headers of a command request. Departments' systems set them on the NATS
// request; the reply carries StatusHeader. The AsyncAPI document (package
// asyncapi) describes them from RequestHeaders and ReplyHeaders, so a
// header the intake starts reading is listed there as well.
const (
	HeaderAuthorization   = "Authorization"
	HeaderIdempotencyKey  = "Idempotency-Key"
	HeaderCorrelationID   = "X-Correlation-Id"
	HeaderExpectedVersion = "Expected-Version"
	// HeaderIfMatch is HTTP's name for the expected version, taken here too
	// so one client code path serves both transports.
	HeaderIfMatch = "If-Match"
	// HeaderTraceParent and HeaderTraceState are the W3C trace context, by
	// the W3C's (lower-case) names: NATS headers are case-sensitive.
	HeaderTraceParent = "traceparent"
	HeaderTraceState  = "tracestate"
)

// MaxIdempotencyKey is the longest Idempotency-Key taken, in bytes.
const MaxIdempotencyKey = 100

// Header describes one header: its name, whether it must be present, and
// what it carries.
type Header struct {
	Name        string
	Required    bool
	Description string
}

// RequestHeaders are the headers a command request may carry.
var RequestHeaders = []Header{
	{HeaderAuthorization, true, "Bearer <token>: the token of the identity the command is executed as"},
	{HeaderIdempotencyKey, false, "at most 100 bytes; a retry with the same key and token returns the first result instead of executing again. Without one, every request is a new command"},
	{HeaderCorrelationID, false, "stored on the events as correlation_id, to follow one piece of work across commands"},
	{HeaderIfMatch, false, "the aggregate version the command was decided against (optimistic concurrency), as over HTTP: \"3\" or 3; a stale one is refused with 409 and current_version"},
	{HeaderExpectedVersion, false, "the same as If-Match, under its older name; when both are sent they must agree"},
	{HeaderTraceParent, false, "W3C trace context: when kpitrail exports traces, the command's spans join this trace"},
	{HeaderTraceState, false, "W3C tracestate, with traceparent"},
}

// ReplyHeaders are the headers of every reply.
var ReplyHeaders = []Header{
	{StatusHeader, true, "the HTTP-equivalent status of the reply: 200, or the problem document's status"},
}
