package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/domain"
)

// ADR-50 atomic batch publish, as nats-server 2.15 implements it
// (server/stream.go, processJetStreamAtomicBatchMsg). nats.go 1.55 has no
// API for it, so the headers are set by hand.
//
// The server stages every message of a batch and checks them all at the
// commit, under the stream's write lock, before storing any: one failed
// check (a message's Nats-Expected-Last-Subject-Sequence among them) refuses
// the whole batch and nothing of it is stored. The refusal does not say
// which message failed. A committed batch is stored at consecutive stream
// sequences with one sync, and acknowledged once, on the commit. On an R1
// file stream the server first stages the batch in a file store of its own;
// creating that store is most of a batch's fixed cost, which is why a lone
// message goes as a plain publish (publishOne).
const (
	hdrBatchID     = "Nats-Batch-Id"       // at most 64 bytes, a fresh one per attempt
	hdrBatchSeq    = "Nats-Batch-Sequence" // 1..n without gaps, or the batch is dropped
	hdrBatchCommit = "Nats-Batch-Commit"   // "1" on the last message
)

// maxAtomicBatch is the server's default limit on messages per atomic batch.
// An operator can lower it (JetStreamLimits.MaxBatchSize); the refusal then
// (10199) halves the batches of the call.
const maxAtomicBatch = 1000

// Atomic publish error codes nats.go does not name.
const (
	errCodeBatchIncomplete  jetstream.ErrorCode = 10176 // a message of the batch never reached the server
	errCodeBatchTooLarge    jetstream.ErrorCode = 10199
	errCodeBatchDuplicateID jetstream.ErrorCode = 10201 // a Nats-Msg-Id already stored or twice in the batch
	errCodeBatchInflight    jetstream.ErrorCode = 10210 // more than 50 batches open on the stream
)

// maxRefusals bounds consecutive refused batches within one call. Each
// refusal normally settles at least its offender, so reaching the bound
// means the server keeps refusing for a reason no refresh explains.
const maxRefusals = 8

// batchHeaderReserve is room for the batch, subject-check and trace
// headers, which are set after the payload size check.
const batchHeaderReserve = 192 + traceHeaderReserve

// loadWorkers bounds the parallel direct gets when a call needs many
// aggregates: sequential gets would cost more than the batch's sync.
const loadWorkers = 8

// AppendMany stores the requests with as few syncs as possible: each becomes
// the same message Append would publish, and they go to the server as atomic
// batches, each message keeping its own subject check. Requests are judged
// first against the write model; when the server refuses a batch, the
// aggregates in it are re-read, the offenders get their conflict (or their
// stored result, for a retried command), and the rest go again in a new
// batch. See AppendRequest for the per-request semantics.
func (s *JetStream) AppendMany(ctx context.Context, reqs []AppendRequest) []AppendResult {
	out := make([]AppendResult, len(reqs))
	open := make([]int, 0, len(reqs))
	for i, r := range reqs {
		if err := checkAppend(r.Ref, r.Meta, r.Events); err != nil {
			out[i].Err = err
			continue
		}
		open = append(open, i)
	}
	s.signMu.RLock()
	defer s.signMu.RUnlock()
	if s.signer == nil {
		fail(reqs, out, open, ErrReadOnly)
		return out
	}
	limit, refusals := maxAtomicBatch, 0
	for len(open) > 0 {
		if err := ctx.Err(); err != nil {
			fail(reqs, out, open, err)
			break
		}
		b, rest := s.planBatch(ctx, reqs, out, open, limit)
		if len(b) == 0 {
			// Every request was settled before publishing; the planner never
			// defers without having planned an item first.
			open = rest
			continue
		}
		s.signBatch(b)
		first, err := s.commitBatch(ctx, b)
		if err == nil {
			s.landed(out, b, first)
			open, refusals = rest, 0
			continue
		}
		retry := mergeOpen(b, rest)
		switch code := apiErrorCode(err); {
		case code == errCodeBatchTooLarge && len(b) > 1:
			limit = max(1, len(b)/2)
			open = retry
			continue
		case code != 0 && !retryable(code):
			// Refusals of this kind concern the stream, not one message
			// (sealed, full, atomic publish off): nothing was stored.
			fail(reqs, out, indices(b), err)
			open = rest
			continue
		}
		if refusals++; refusals > maxRefusals || ctx.Err() != nil {
			// Giving up. If the last commit timed out, its outcome is
			// unknown and the cache must claim neither; a retry with the
			// same command ids settles it.
			for _, it := range b {
				s.cache.forget(it.ref)
			}
			fail(reqs, out, retry, err)
			break
		}
		if !s.refresh(ctx, b) {
			sleepCtx(ctx, backoff(refusals))
		}
		open = retry
	}
	return out
}

// batchItem is one request planned into a batch.
type batchItem struct {
	req  int
	ref  domain.AggregateRef
	envs []domain.Envelope
	msg  *nats.Msg
	at   placement
	// after is the subject sequence the item is checked against. A chained
	// item follows an earlier item of the same aggregate in the batch and
	// carries no check of its own: the server refuses subject checks on a
	// subject already written in the batch, and needs none, because the
	// batch is stored contiguously or not at all, so the first item's check
	// covers the whole chain.
	after   uint64
	chained bool
}

// refPlan is one aggregate's view while a batch is planned: its stored
// state, and its head once the batch's items for it are applied.
type refPlan struct {
	state     *aggState
	version   uint64
	hash      string
	cmds      []string // command ids of this batch's items for the aggregate
	refreshed bool
	deferred  bool // a request was held back: later ones must wait too, to keep order
	// at is where the batch's first item for the aggregate goes, and so
	// every later one: for a new aggregate only the first item's first
	// event names its unit.
	at placement
}

// planBatch judges the open requests in order and plans at most limit of
// them into one batch. Requests it can settle without the server (retried
// commands, stale versions, load failures) get their result in out; those
// that must wait for the batch's outcome come back in rest.
func (s *JetStream) planBatch(ctx context.Context, reqs []AppendRequest, out []AppendResult, open []int, limit int) (items []batchItem, rest []int) {
	plans := s.loadPlans(ctx, reqs, open[:min(len(open), limit)])
	for _, i := range open {
		r := reqs[i]
		p := plans[r.Ref]
		if p == nil {
			p = &refPlan{}
			plans[r.Ref] = p
		}
		if len(items) == limit || p.deferred {
			p.deferred = true
			rest = append(rest, i)
			continue
		}
		if p.state == nil {
			agg, err := s.aggregate(ctx, r.Ref, false)
			if err != nil {
				out[i].Err = err
				continue
			}
			p.setState(agg)
		}
		// A new command, nearly every request, is known not to be a retry
		// from the write model's index, without scanning the history.
		if !s.cache.lacks(r.Ref, r.Meta.CommandID, p.state.lastSeq) {
			if prior := byCommand(p.state.events, r.Meta.CommandID); len(prior) > 0 {
				out[i].Envelopes = prior
				continue
			}
		}
		chained := len(p.cmds) > 0
		if chained {
			// Decided on top of this batch's earlier items, which may still
			// be refused: a request that does not fit waits for that outcome
			// and is judged then, as a sequential Append would judge it.
			if slices.Contains(p.cmds, r.Meta.CommandID) || r.Expected != p.version {
				p.deferred = true
				rest = append(rest, i)
				continue
			}
		} else {
			if p.version < r.Expected && !p.refreshed {
				// Another process may have written; the cached view is behind.
				agg, err := s.aggregate(ctx, r.Ref, true)
				if err != nil {
					out[i].Err = err
					continue
				}
				p.setState(agg)
				p.refreshed = true
				if prior := byCommand(p.state.events, r.Meta.CommandID); len(prior) > 0 {
					out[i].Envelopes = prior
					continue
				}
			}
			if p.version != r.Expected {
				out[i].Err = conflict(r.Ref, r.Expected, p.version)
				continue
			}
		}
		envs, err := sealed(r.Ref, p.version, p.hash, r.Meta, s.cfg.Clock(), r.Events)
		if err != nil {
			out[i].Err = err
			continue
		}
		if !chained {
			if p.at, err = s.place(r.Ref, p.state, r.Events); err != nil {
				out[i].Err = err
				continue
			}
		}
		msg, err := s.appendMsg(r.Ref, p.at.subject, r.Meta.CommandID, envs)
		if err != nil {
			out[i].Err = err
			continue
		}
		setTraceHeaders(msg, r.Meta)
		if !chained {
			msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(p.state.lastSeq, 10))
			if check := s.checkSubject(r.Ref, p.at); check != "" {
				msg.Header.Set(jetstream.ExpectedLastSubjSeqSubjHeader, check)
			}
		}
		items = append(items, batchItem{req: i, ref: r.Ref, envs: envs, msg: msg, at: p.at, after: p.state.lastSeq, chained: chained})
		p.cmds = append(p.cmds, r.Meta.CommandID)
		p.version, p.hash = head(envs)
	}
	return items, rest
}

func (p *refPlan) setState(agg *aggState) {
	p.state, p.version, p.hash = agg, agg.version(), agg.hash()
}

// loadPlans reads the write models of the requests' aggregates in parallel.
// A failed load is left out; the planner loads it again and reports it.
func (s *JetStream) loadPlans(ctx context.Context, reqs []AppendRequest, open []int) map[domain.AggregateRef]*refPlan {
	refs := make([]domain.AggregateRef, 0, len(open))
	plans := make(map[domain.AggregateRef]*refPlan, len(open))
	for _, i := range open {
		if _, ok := plans[reqs[i].Ref]; !ok {
			plans[reqs[i].Ref] = &refPlan{}
			refs = append(refs, reqs[i].Ref)
		}
	}
	states := make([]*aggState, len(refs))
	parallel(len(refs), func(k int) {
		if agg, err := s.aggregate(ctx, refs[k], false); err == nil {
			states[k] = agg
		}
	})
	for k, ref := range refs {
		if states[k] != nil {
			plans[ref].setState(states[k])
		}
	}
	return plans
}

// refresh re-reads the aggregates of a refused batch and reports whether any
// moved past the sequence its check expected: an offender was found, and the
// next plan settles it.
func (s *JetStream) refresh(ctx context.Context, b []batchItem) bool {
	var firsts []batchItem
	for _, it := range b {
		if !it.chained {
			firsts = append(firsts, it)
		}
	}
	moved := make([]bool, len(firsts))
	parallel(len(firsts), func(k int) {
		agg, err := s.aggregate(ctx, firsts[k].ref, true)
		if err != nil {
			s.cache.forget(firsts[k].ref)
			return
		}
		moved[k] = agg.lastSeq != firsts[k].after
	})
	return slices.Contains(moved, true)
}

// landed records a committed batch: the server stored item k at first+k.
func (s *JetStream) landed(out []AppendResult, b []batchItem, first uint64) {
	last := map[domain.AggregateRef]uint64{}
	for k, it := range b {
		seq := first + uint64(k)
		for j := range it.envs {
			it.envs[j].Position = seq
		}
		prev := it.after
		if it.chained {
			prev = last[it.ref]
		}
		s.cache.extend(it.ref, it.at, prev, seq, it.envs)
		last[it.ref] = seq
		out[it.req].Envelopes = it.envs
	}
}

// appendMsg builds the message Append publishes for one command, without
// the subject check, which depends on the item's place in the batch.
func (s *JetStream) appendMsg(ref domain.AggregateRef, subject, commandID string, envs []domain.Envelope) (*nats.Msg, error) {
	data, err := encodeMessage(envs)
	if err != nil {
		return nil, err
	}
	msg := nats.NewMsg(subject)
	msg.Data = data
	msg.Header.Set(hdrVersion, strconv.FormatUint(envs[len(envs)-1].AggregateVersion, 10))
	msg.Header.Set(hdrCommandID, commandID)
	// Allowed in atomic batches, and the same id Append uses, so the dedupe
	// window sees a command alike whichever path stored it. A hit refuses
	// the whole batch (10201) and is settled like a failed subject check.
	msg.Header.Set(jetstream.MsgIDHeader, ref.String()+"/"+commandID)
	msg.Header.Set(jetstream.ExpectedStreamHeader, s.cfg.Stream)
	// One oversized message would refuse every batch it is in; refuse it
	// alone, as the client refuses it on a single Append. The signature is
	// set once the batch is planned (signBatch).
	if size := int64(len(data) + headerSize(msg.Header) + batchHeaderReserve + signatureReserve); size > s.js.Conn().MaxPayload() {
		return nil, fmt.Errorf("append %s: %w", ref, nats.ErrMaxPayload)
	}
	return msg, nil
}

// batchAck is the server's reply to a batch commit.
type batchAck struct {
	Stream   string              `json:"stream"`
	Sequence uint64              `json:"seq"` // of the batch's last message
	BatchID  string              `json:"batch"`
	Count    uint64              `json:"count"`
	Error    *jetstream.APIError `json:"error"`
}

// commitBatch publishes the items as one atomic batch and returns the
// stream sequence of the first. Only the commit asks for a reply: the
// server answers the others with an empty ack that would cost a round trip
// each, and a message that goes missing fails the commit (10176) anyway.
// An error that is not an *jetstream.APIError leaves the outcome unknown.
func (s *JetStream) commitBatch(ctx context.Context, b []batchItem) (uint64, error) {
	if len(b) == 1 {
		return s.publishOne(ctx, b[0])
	}
	id := uuid.NewString()
	nc := s.js.Conn()
	n := len(b)
	for k, it := range b {
		it.msg.Header.Set(hdrBatchID, id)
		it.msg.Header.Set(hdrBatchSeq, strconv.Itoa(k+1))
		if k == n-1 {
			it.msg.Header.Set(hdrBatchCommit, "1")
			break
		}
		if err := nc.PublishMsg(it.msg); err != nil {
			return 0, fmt.Errorf("append batch: %w", err)
		}
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	resp, err := nc.RequestMsgWithContext(ctx, b[n-1].msg)
	if err != nil {
		return 0, fmt.Errorf("append batch: %w", err)
	}
	var ack batchAck
	if err := json.Unmarshal(resp.Data, &ack); err != nil {
		return 0, fmt.Errorf("append batch: unreadable ack %q: %w", resp.Data, err)
	}
	if ack.Error != nil {
		return 0, ack.Error
	}
	if ack.Stream != s.cfg.Stream || ack.BatchID != id || ack.Count != uint64(n) || ack.Sequence < uint64(n) {
		return 0, fmt.Errorf("append batch: ack %q does not match batch %s of %d", resp.Data, id, n)
	}
	return ack.Sequence - uint64(n) + 1, nil
}

// publishOne sends a lone item as the plain message Append sends: it is
// atomic by itself, and a batch costs the server several syncs (staging,
// then commit) where a plain message costs one.
func (s *JetStream) publishOne(ctx context.Context, it batchItem) (uint64, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	ack, err := s.js.PublishMsg(ctx, it.msg)
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) {
			return 0, apiErr
		}
		return 0, fmt.Errorf("append %s: %w", it.ref, err)
	}
	if ack.Duplicate {
		// Stored before, within the dedupe window: the re-read that follows
		// finds the original.
		return 0, fmt.Errorf("append %s: %w", it.ref, errDuplicate)
	}
	return ack.Sequence, nil
}

var errDuplicate = errors.New("command already stored")

// retryable tells refusals that a re-read and a new batch can get past:
// a failed check of one message, or a batch that did not arrive whole.
func retryable(code jetstream.ErrorCode) bool {
	switch code {
	case jetstream.JSErrCodeStreamWrongLastSequence, jetstream.JSErrCodeStreamWrongLastSequenceConstant,
		errCodeBatchDuplicateID, errCodeBatchIncomplete, errCodeBatchInflight:
		return true
	}
	return false
}

func apiErrorCode(err error) jetstream.ErrorCode {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode
	}
	return 0
}

func fail(reqs []AppendRequest, out []AppendResult, open []int, err error) {
	for _, i := range open {
		out[i].Err = fmt.Errorf("append %s: %w", reqs[i].Ref, err)
	}
}

func indices(b []batchItem) []int {
	out := make([]int, len(b))
	for k, it := range b {
		out[k] = it.req
	}
	return out
}

// mergeOpen puts a refused batch's requests back among the deferred ones in
// request order, which the next plan relies on.
func mergeOpen(b []batchItem, rest []int) []int {
	out := append(indices(b), rest...)
	slices.Sort(out)
	return out
}

func backoff(refusals int) time.Duration {
	return min(5*time.Millisecond<<(refusals-1), 250*time.Millisecond)
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// parallel runs fn(0..n-1) on at most loadWorkers goroutines.
func parallel(n int, fn func(int)) {
	if n == 1 {
		fn(0)
		return
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, loadWorkers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				fn(k)
			}
		}()
	}
	for k := range n {
		next <- k
	}
	close(next)
	wg.Wait()
}

// headerSize is the encoded size of h, as the client counts it against the
// server's max payload.
func headerSize(h nats.Header) int {
	n := len("NATS/1.0\r\n\r\n")
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(": ") + len(v) + len("\r\n")
		}
	}
	return n
}
