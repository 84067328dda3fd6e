package eventstore

import "kpitrail/domain"

// AppendRequest is one command's append inside AppendMany: the same four
// things a single Append takes.
//
// Both stores' AppendMany give a slice of requests the same meaning, checked
// by storetest.RunBatch:
//
//   - each request is judged on its own, exactly as Append would judge it:
//     validation, idempotency by command id, the expected-version check. A
//     refused request fails alone; the others still land;
//   - results come back in request order, one per request;
//   - requests for the same aggregate apply in request order, each decided
//     on top of the ones before it: after a request at expected v with n
//     events, the next one for that aggregate must expect v+n. One that does
//     not fit gets the conflict a sequential Append would have got.
//
// AppendMany is not all-or-nothing across requests: atomicity stays per
// request, as with Append. On JetStream requests share atomic batches only
// to share the sync.
type AppendRequest struct {
	Ref      domain.AggregateRef
	Expected uint64
	Meta     domain.Meta
	Events   []domain.Pending
}

// AppendResult is the outcome of one AppendRequest: what a single Append
// with the same arguments would have returned.
type AppendResult struct {
	Envelopes []domain.Envelope
	Err       error
}
