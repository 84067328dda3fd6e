package eventstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/domain"
)

// maxPassOver bounds how often one append is published again past foreign
// messages that keep arriving on its subject.
const maxPassOver = 3

// afterConflict re-reads the aggregate after the server refused an append
// checked against sequence checked. The command may already be stored (a
// retry racing its original): prior is its events. A chain that moved past
// expected is a real conflict. A chain still at expected on a subject that
// moved past checked was moved only by messages that are not history:
// moved is the state to publish on top of.
//
// A view that shows neither (the chain at expected, the subject at
// checked) is stale: on a replicated stream a direct get may be answered
// by a follower that has not applied the newer message yet. It is read
// again (briefly) rather than reported as a conflict at the version the
// caller already had.
func (s *JetStream) afterConflict(ctx context.Context, ref domain.AggregateRef, expected uint64, commandID string, checked uint64) (prior []domain.Envelope, moved *aggState, err error) {
	var agg *aggState
	for attempt := 0; ; attempt++ {
		if agg, err = s.aggregate(ctx, ref, true); err != nil {
			return nil, nil, err
		}
		if prior := byCommand(agg.events, commandID); len(prior) > 0 {
			return prior, nil, nil
		}
		if agg.version() != expected || attempt >= 20 {
			break
		}
		if agg.lastSeq > checked {
			return nil, agg, nil
		}
		s.cache.forget(ref)
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
		}
	}
	if agg.version() == expected && agg.lastSeq <= checked {
		// Every read still shows the state the refusal was checked against:
		// a follower further behind than the reads waited, or a duplicate
		// id this aggregate does not hold (a foreign message took it). The
		// caller's version is not stale, so this is no conflict; whether
		// the append landed is unknown, as after a timeout.
		return nil, nil, fmt.Errorf("append %s: %w", ref, ErrOutcomeUnknown)
	}
	return nil, nil, conflict(ref, expected, agg.version())
}

// ErrOutcomeUnknown: the server refused or deduplicated an append, and the
// stream's state, read again, neither holds the command nor has moved past
// the caller's version. The caller retries with the same command id, as
// after a timeout; idempotency makes that safe.
var ErrOutcomeUnknown = errors.New("the server refused the append, yet the stream still reads as the version it was checked against; whether it landed is unknown: retry with the same command id")

// isWrongLastSequence matches the concurrency-check failure: 10071 on a
// single server, 10164 on a replicated stream.
func isWrongLastSequence(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
	}
	return false
}
