// Package audit verifies the event log: every aggregate's hash chain, the
// log's own sequence, and the roots of checkpoints published earlier.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// Finding is one place where the log is not what was written.
type Finding struct {
	Position      uint64 `json:"position"`
	Kind          string `json:"kind"` // altered, gap, reordered, inserted, deleted, malformed, root_mismatch
	AggregateType string `json:"aggregate_type,omitempty"`
	AggregateID   string `json:"aggregate_id,omitempty"`
	Version       uint64 `json:"aggregate_version,omitempty"`
	EventID       string `json:"event_id,omitempty"`
	Detail        string `json:"detail"`
}

// Checkpoint is the combined root of every aggregate's head hash at a log
// position. Published outside kpitrail, it lets anyone later prove the log
// up to that position is unchanged, including the deletion of an
// aggregate's last events, which no chain can show by itself.
type Checkpoint struct {
	Position uint64 `json:"position"`
	Root     string `json:"root"`
	// Aggregates counts the heads that went into the root.
	Aggregates int `json:"aggregates"`
}

// Report is the result of a verification.
type Report struct {
	Messages   int        `json:"messages"`
	Events     int        `json:"events"`
	Aggregates int        `json:"aggregates"`
	Last       uint64     `json:"last_position"`
	Findings   []Finding  `json:"findings"`
	Checkpoint Checkpoint `json:"checkpoint"`
	// Against is the given checkpoint, and whether the log reproduced it.
	Against      *Checkpoint `json:"against,omitempty"`
	AgainstValid *bool       `json:"against_valid,omitempty"`
}

// OK reports whether nothing was found.
func (r Report) OK() bool { return len(r.Findings) == 0 }

// Reader is the part of a store verification reads.
type Reader interface {
	Read(ctx context.Context, after uint64, opts eventstore.ReadOptions, fn func(eventstore.Message) error) error
}

// Verify walks the whole log. When against is given, the root at its
// position is recomputed and compared.
func Verify(ctx context.Context, log Reader, against *Checkpoint) (Report, error) {
	v := domain.NewChainVerifier()
	rep := Report{Findings: []Finding{}}
	var expect uint64 = 1
	checked := against == nil
	snapshot := func() {
		cp := Root(v.Heads(), rep.Last)
		rep.Against = against
		ok := cp.Root == against.Root && cp.Aggregates == against.Aggregates
		rep.AgainstValid = &ok
		if !ok {
			rep.Findings = append(rep.Findings, Finding{Position: against.Position, Kind: "root_mismatch",
				Detail: fmt.Sprintf("the log up to position %d gives root %s over %d aggregates; the checkpoint says %s over %d", against.Position, cp.Root, cp.Aggregates, against.Root, against.Aggregates)})
		}
		checked = true
	}
	err := log.Read(ctx, 0, eventstore.ReadOptions{}, func(m eventstore.Message) error {
		if !checked && m.Position > against.Position {
			snapshot()
		}
		rep.Messages++
		// The stream never deletes (DenyDelete, DenyPurge): a hole in the
		// sequence is a message removed behind kpitrail's back.
		if m.Position > expect {
			rep.Findings = append(rep.Findings, Finding{Position: expect, Kind: "deleted",
				Detail: fmt.Sprintf("positions %d..%d are missing from the log", expect, m.Position-1)})
		}
		expect = m.Position + 1
		rep.Last = m.Position
		if m.Err != nil {
			rep.Findings = append(rep.Findings, Finding{Position: m.Position, Kind: "malformed", Detail: m.Err.Error()})
			return nil
		}
		for _, e := range m.Events {
			rep.Events++
			if brk := v.Check(e); brk != nil {
				rep.Findings = append(rep.Findings, Finding{Position: m.Position, Kind: brk.Kind, AggregateType: brk.AggregateType,
					AggregateID: brk.AggregateID, Version: brk.Version, EventID: brk.EventID, Detail: brk.Detail})
			}
		}
		return nil
	})
	if err != nil {
		return rep, err
	}
	if !checked {
		if against.Position > rep.Last {
			rep.Findings = append(rep.Findings, Finding{Position: rep.Last, Kind: "deleted",
				Detail: fmt.Sprintf("the checkpoint is at position %d but the log ends at %d", against.Position, rep.Last)})
		}
		snapshot()
	}
	heads := v.Heads()
	rep.Aggregates = len(heads)
	rep.Checkpoint = Root(heads, rep.Last)
	return rep, nil
}

// CheckpointAt computes the checkpoint root of the log up to position.
func CheckpointAt(ctx context.Context, log Reader, position uint64) (Checkpoint, error) {
	v := domain.NewChainVerifier()
	var last uint64
	errStop := fmt.Errorf("stop")
	err := log.Read(ctx, 0, eventstore.ReadOptions{}, func(m eventstore.Message) error {
		if m.Position > position {
			return errStop
		}
		last = m.Position
		for _, e := range m.Events {
			v.Check(e)
		}
		return nil
	})
	if err != nil && err != errStop {
		return Checkpoint{}, err
	}
	if last < position {
		return Checkpoint{}, fmt.Errorf("checkpoint: the log ends at %d, before %d", last, position)
	}
	return Root(v.Heads(), position), nil
}

// Root combines head hashes into one: SHA-256 over the sorted lines
// "<type>/<id> <head hash>\n". Sorting makes it independent of map order
// and of the order aggregates were first written.
func Root(heads map[domain.AggregateRef]string, position uint64) Checkpoint {
	lines := make([]string, 0, len(heads))
	for ref, h := range heads {
		lines = append(lines, ref.String()+" "+h+"\n")
	}
	sort.Strings(lines)
	sum := sha256.New()
	for _, l := range lines {
		sum.Write([]byte(l))
	}
	return Checkpoint{Position: position, Root: hex.EncodeToString(sum.Sum(nil)), Aggregates: len(heads)}
}
