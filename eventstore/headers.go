package eventstore

// Exported names of what a stored message carries, for readers of the
// KPITRAIL stream and for the AsyncAPI document.
const (
	HeaderVersion   = hdrVersion
	HeaderCommandID = hdrCommandID
	// WireFormat is the body's "format".
	WireFormat = wireFormat
)

// StoredHeaders are the headers kpitrail writes on every stored message,
// beside JetStream's own (Nats-Msg-Id, Nats-Expected-*), with what they
// hold. A header added to the append path is listed here too.
var StoredHeaders = []struct{ Name, Description string }{
	{hdrVersion, "the aggregate's version after this message: the last event's aggregate_version"},
	{hdrCommandID, "the command_id of the message's events, for operators reading the raw stream"},
	{hdrSignature, "\"<key id> <base64 Ed25519 signature>\" over the hashes of the message's events, in order, by the instance's signing key; a message without a valid one is foreign (GET /v1/audit/keys publishes the keys)"},
}

// TraceHeaders are on the messages of writes that were traced (the server
// exports traces when OTEL_EXPORTER_OTLP_ENDPOINT is set): the W3C trace
// context the read models' projection continues.
var TraceHeaders = []struct{ Name, Description string }{
	{hdrTraceParent, "W3C traceparent of the append that stored this message, present only when the writing server exported traces"},
	{hdrTraceState, "W3C tracestate that came with the traceparent, when there was one"},
}
