package audit

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// resolveBefore computes the root of every claim at a position before pos:
// the heads now are the heads at the claim's position, as no message lies
// between it and pos.
func (v *verification) resolveBefore(pos uint64) {
	for v.next < len(v.claims) && v.claims[v.next].Position < pos {
		c := &v.claims[v.next]
		if c.Position > 0 {
			c.Log = v.w.root(c.Position)
		}
		v.next++
	}
}

// storedAt notes the storage time of the message at a claim's position.
func (v *verification) storedAt(m eventstore.Message) {
	for i := v.next; i < len(v.claims) && v.claims[i].Position == m.Position; i++ {
		if c := &v.claims[i]; !c.StoredAt.IsZero() && !c.StoredAt.Equal(m.StoredAt) {
			v.find(Finding{Position: m.Position, Kind: "republished",
				Detail: fmt.Sprintf("the message at position %d was stored at %s; %s says %s: the stream was published again from its messages",
					m.Position, m.StoredAt.UTC().Format(time.RFC3339Nano), c.Source, c.StoredAt.UTC().Format(time.RFC3339Nano))})
		}
	}
}

// inLog checks what a sound event of the log claims about the log.
func (v *verification) inLog(r domain.Recorded) {
	var cp Checkpoint
	var what string
	switch e := r.Data.(type) {
	case *domain.CheckpointRecorded:
		cp, what = Checkpoint{Position: e.Position, Root: e.Root, Aggregates: e.Aggregates}, "checkpoint.recorded"
	case *domain.SnapshotRecorded:
		cp, what = Checkpoint{Position: e.Position, Root: e.Root, Aggregates: e.Aggregates}, fmt.Sprintf("snapshot.recorded of %d", e.Year)
	case *domain.FindingAcknowledged:
		v.acks = append(v.acks, Acknowledged{Finding: Finding{Position: e.Position, Kind: e.Kind, AggregateType: e.AggregateType,
			AggregateID: e.AggregateID}, By: r.Actor, Reason: e.Reason, At: r.RecordedAt, EventPosition: r.Position})
		return
	default:
		return
	}
	if cp.Position >= r.Position {
		v.find(Finding{Position: r.Position, Kind: "checkpoint_mismatch", AggregateType: r.AggregateType, AggregateID: r.AggregateID,
			EventID: r.ID, Detail: fmt.Sprintf("%s at position %d names position %d, which is not before it", what, r.Position, cp.Position)})
		return
	}
	got, err := v.w.rootAt(cp.Position)
	if errors.Is(err, errTooOld) {
		v.deferred = append(v.deferred, deferredClaim{at: r.Position, claim: cp, what: what})
		return
	}
	v.compareInLog(r.Position, what, cp, got)
}

func (v *verification) compareInLog(at uint64, what string, claim, got Checkpoint) {
	if got.Root != claim.Root || got.Aggregates != claim.Aggregates {
		v.find(Finding{Position: at, Kind: "checkpoint_mismatch",
			Detail: fmt.Sprintf("%s at position %d says the root at %d is %s over %d aggregates; the log gives %s over %d",
				what, at, claim.Position, short(claim.Root), claim.Aggregates, short(got.Root), got.Aggregates)})
	}
}

// secondRead checks the claims the journal could no longer reach.
func (v *verification) secondRead(ctx context.Context) error {
	if len(v.deferred) == 0 {
		return nil
	}
	sort.Slice(v.deferred, func(i, j int) bool { return v.deferred[i].claim.Position < v.deferred[j].claim.Position })
	for _, d := range v.deferred {
		got, err := CheckpointAt(ctx, v.log, v.opts.Keyring, d.claim.Position)
		if err != nil {
			return err
		}
		v.compareInLog(d.at, d.what, d.claim, got)
	}
	return nil
}

// judgeClaims turns the resolved claims into findings.
func (v *verification) judgeClaims() {
	for i := range v.claims {
		c := &v.claims[i]
		if st := c.statement; st != nil {
			if err := st.Verify(v.w.kr); err != nil {
				v.find(Finding{Position: c.Position, Kind: "statement_invalid", Detail: fmt.Sprintf("%s: %v", c.Source, err)})
				continue
			}
		}
		switch {
		case c.Position > v.rep.Last:
			v.find(Finding{Position: c.Position, Kind: "truncated",
				Detail: fmt.Sprintf("the log ends at position %d; %s knows it up to position %d", v.rep.Last, c.Source, c.Position)})
		case c.Position == 0:
			c.Valid = c.Aggregates == 0
		case c.Log.Root != c.Root || c.Log.Aggregates != c.Aggregates:
			v.find(Finding{Position: c.Position, Kind: "root_mismatch",
				Detail: fmt.Sprintf("the log up to position %d gives root %s over %d aggregates; %s says %s over %d",
					c.Position, short(c.Log.Root), c.Log.Aggregates, c.Source, short(c.Root), c.Aggregates)})
		default:
			c.Valid = true
		}
	}
}

// judgeRecord compares the stream with the one verified last time.
func (v *verification) judgeRecord() {
	r := v.opts.Record
	if r == nil || r.StreamCreated.IsZero() || v.rep.StreamCreated.IsZero() || r.StreamCreated.Equal(v.rep.StreamCreated) {
		return
	}
	v.find(Finding{Position: r.Position, Kind: "republished",
		Detail: fmt.Sprintf("the stream was created at %s; the one verified on %s was created at %s: it was deleted and created again",
			v.rep.StreamCreated.UTC().Format(time.RFC3339Nano), r.VerifiedAt.UTC().Format(time.RFC3339), r.StreamCreated.UTC().Format(time.RFC3339Nano))})
}

// settle moves acknowledged findings out of the findings.
func (v *verification) settle() {
	v.rep.Acknowledged = []Acknowledged{}
	open := v.rep.Findings[:0]
	for _, f := range v.rep.Findings {
		i := slices.IndexFunc(v.acks, func(a Acknowledged) bool { return a.Position == f.Position && a.Kind == f.Kind })
		if i < 0 {
			open = append(open, f)
			continue
		}
		a := v.acks[i]
		a.Finding = f
		v.rep.Acknowledged = append(v.rep.Acknowledged, a)
	}
	v.rep.Findings = open
}
