package audit

import (
	"context"
	"fmt"

	"kpitrail/domain"
	"kpitrail/eventstore"
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

// VerifyAggregate checks one aggregate's chain as the stream stores it:
// every event's hash recomputed from its content, every link to the one
// before. expectVersion and expectHead, when given (the read models' head
// of the aggregate), must be where the chain ends: a chain that stops
// short of what was projected lost its last events, which no link can
// show by itself.
func VerifyAggregate(ctx context.Context, log AggregateReader, ref domain.AggregateRef, expectVersion uint64, expectHead string) (AggregateReport, error) {
	v := domain.NewChainVerifier()
	rep := AggregateReport{Aggregate: ref, Findings: []Finding{}}
	err := log.AggregateMessages(ctx, ref, func(m eventstore.Message) error {
		rep.Messages++
		if m.Err != nil {
			rep.Findings = append(rep.Findings, Finding{Position: m.Position, Kind: "malformed", AggregateType: ref.Type,
				AggregateID: ref.ID, Detail: m.Err.Error()})
			return nil
		}
		for _, e := range m.Events {
			rep.Events++
			if e.Ref() != ref {
				rep.Findings = append(rep.Findings, Finding{Position: m.Position, Kind: "inserted", AggregateType: e.AggregateType,
					AggregateID: e.AggregateID, Version: e.AggregateVersion, EventID: e.ID,
					Detail: fmt.Sprintf("an event of %s stored on the subject of %s", e.Ref(), ref)})
				continue
			}
			if brk := v.Check(e); brk != nil {
				rep.Findings = append(rep.Findings, Finding{Position: m.Position, Kind: brk.Kind, AggregateType: brk.AggregateType,
					AggregateID: brk.AggregateID, Version: brk.Version, EventID: brk.EventID, Detail: brk.Detail})
			}
			rep.Version, rep.Head = e.AggregateVersion, e.Hash
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

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
