package audit

import (
	"context"
	"errors"
	"fmt"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/signing"
)

// AggregateReader reads one aggregate's messages from the log itself.
type AggregateReader interface {
	AggregateMessages(ctx context.Context, ref domain.AggregateRef, fn func(eventstore.Message) error) error
}

// AggregateReport is the verification of one aggregate's hash chain.
type AggregateReport struct {
	Aggregate domain.AggregateRef `json:"aggregate"`
	Messages  int                 `json:"messages"`
	Events    int                 `json:"events"`
	// Version and Head are the last event's version and hash as stored.
	Version  uint64    `json:"version"`
	Head     string    `json:"head"`
	Findings []Finding `json:"findings"`
}

// OK reports whether the chain holds.
func (r AggregateReport) OK() bool { return len(r.Findings) == 0 }

// VerifyAggregate checks one aggregate's chain as the stream stores it,
// judging each message as Verify does: its signature against kr (never
// the store's verdict), every event's hash recomputed from its content,
// every link to the one before. A message that is not history (malformed,
// not signed by a trusted key, or carrying another aggregate's event)
// moves no chain. expectVersion and expectHead, when given (the read
// models' head of the aggregate), must be where the chain ends: a chain
// that stops short of what was projected lost its last events, which no
// link can show by itself.
func VerifyAggregate(ctx context.Context, log AggregateReader, kr *signing.Keyring, ref domain.AggregateRef, expectVersion uint64, expectHead string) (AggregateReport, error) {
	if kr == nil {
		return AggregateReport{}, errors.New("audit: verification needs a keyring of trusted keys")
	}
	w := newWalker(kr)
	rep := AggregateReport{Aggregate: ref, Findings: []Finding{}}
	err := log.AggregateMessages(ctx, ref, func(m eventstore.Message) error {
		rep.Messages++
		for _, e := range m.Events {
			if m.Err == nil && e.Ref() != ref {
				rep.Findings = append(rep.Findings, Finding{Position: m.Position, Kind: "inserted", AggregateType: e.AggregateType,
					AggregateID: e.AggregateID, Version: e.AggregateVersion, EventID: e.ID,
					Detail: fmt.Sprintf("an event of %s stored on the subject of %s", e.Ref(), ref)})
				return nil
			}
		}
		st := w.step(m)
		switch {
		case st.malformed != nil:
			rep.Findings = append(rep.Findings, Finding{Position: m.Position, Kind: "malformed", AggregateType: ref.Type,
				AggregateID: ref.ID, Detail: st.malformed.Error()})
			return nil
		case st.foreign != nil:
			f := Finding{Position: m.Position, Kind: "foreign", AggregateType: ref.Type, AggregateID: ref.ID, Detail: st.foreign.Error()}
			if len(m.Events) > 0 {
				f.EventID = m.Events[0].ID
			}
			rep.Findings = append(rep.Findings, f)
			return nil
		}
		rep.Events += len(m.Events)
		if brk := st.brk; brk != nil {
			rep.Findings = append(rep.Findings, Finding{Position: m.Position, Kind: brk.Kind, AggregateType: brk.AggregateType,
				AggregateID: brk.AggregateID, Version: brk.Version, EventID: brk.EventID, Detail: brk.Detail})
			if brk.Kind != "altered" {
				return nil // not history: the chain's head stays where it was
			}
		}
		if n := len(m.Events); n > 0 {
			rep.Version, rep.Head = m.Events[n-1].AggregateVersion, m.Events[n-1].Hash
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if expectHead != "" && (rep.Version != expectVersion || rep.Head != expectHead) {
		rep.Findings = append(rep.Findings, Finding{Kind: "deleted", AggregateType: ref.Type, AggregateID: ref.ID, Version: rep.Version,
			Detail: fmt.Sprintf("the log ends %s at version %d (%s); the read models were built to version %d (%s)",
				ref, rep.Version, short(rep.Head), expectVersion, short(expectHead))})
	}
	return rep, nil
}
