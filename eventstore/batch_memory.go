package eventstore

import (
	"context"

	"kpitrail/domain"
)

// AppendMany applies the requests one after another under one lock, which
// is the sequential meaning the JetStream store reproduces with batches.
func (m *Memory) AppendMany(ctx context.Context, reqs []AppendRequest) []AppendResult {
	out := make([]AppendResult, len(reqs))
	m.mu.Lock()
	defer m.mu.Unlock()
	stored := false
	for i, r := range reqs {
		if err := checkAppend(r.Ref, r.Meta, r.Events); err != nil {
			out[i].Err = err
			continue
		}
		if err := ctx.Err(); err != nil {
			out[i].Err = err
			continue
		}
		envs, isNew, err := m.appendLocked(r.Ref, r.Expected, r.Meta, r.Events)
		out[i] = AppendResult{Envelopes: envs, Err: err}
		stored = stored || isNew
	}
	if stored {
		close(m.changed)
		m.changed = make(chan struct{})
	}
	return out
}

// appendLocked is Append's decision and write without the wake-up, so a
// batch wakes followers once. It reports whether anything was stored.
func (m *Memory) appendLocked(ref domain.AggregateRef, expected uint64, meta domain.Meta, events []domain.Pending) ([]domain.Envelope, bool, error) {
	existing := m.byAgg[ref]
	if prior := byCommand(existing, meta.CommandID); len(prior) > 0 {
		return prior, false, nil
	}
	version, hash := head(existing)
	if version != expected {
		return nil, false, conflict(ref, expected, version)
	}
	subject, ok := m.subjects[ref]
	if !ok {
		unit, err := UnitOf(ref, events[0])
		if err != nil {
			return nil, false, err
		}
		subject = Subject(DefaultSubjectPrefix, unit, ref)
	}
	now := m.clock()
	envs, err := sealed(ref, version, hash, meta, now, events)
	if err != nil {
		return nil, false, err
	}
	pos := uint64(len(m.messages)) + 1
	for i := range envs {
		envs[i].Position = pos
	}
	keyID, sig := parseSignature(signatureHeader(m.signer, envs))
	m.messages = append(m.messages, Message{Position: pos, Subject: subject, Events: envs,
		KeyID: keyID, Signature: sig, StoredAt: now})
	m.byAgg[ref] = append(existing, envs...)
	m.subjects[ref] = subject
	return cloneEnvs(envs), true, nil
}
