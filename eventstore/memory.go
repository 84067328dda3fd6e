package eventstore

import (
	"context"
	"sync"
	"time"

	"kpitrail/domain"
	"kpitrail/signing"
)

// Memory is an in-process store for domain and application tests. It keeps
// the same promises as the JetStream store, without durability.
type Memory struct {
	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every append, to wake followers
	messages []Message
	byAgg    map[domain.AggregateRef][]domain.Envelope
	subjects map[domain.AggregateRef]string // where each aggregate lives, as on JetStream
	clock    Clock
	// Its messages are signed like the JetStream store's, with a key of
	// its own, so readers and the audit judge both stores alike.
	signer  *signing.Signer
	trust   *signing.Keyring
	created time.Time
}

func NewMemory(clock Clock) *Memory {
	if clock == nil {
		clock = time.Now
	}
	signer, err := signing.Generate()
	if err != nil {
		panic(err) // crypto/rand failing: nothing in the process can be trusted
	}
	return &Memory{changed: make(chan struct{}), byAgg: map[domain.AggregateRef][]domain.Envelope{}, subjects: map[domain.AggregateRef]string{}, clock: clock,
		signer: signer, trust: signing.Trusting(signer), created: time.Now()}
}

// StreamCreated is when the store was made.
func (m *Memory) StreamCreated(ctx context.Context) (time.Time, error) { return m.created, ctx.Err() }

// Keyring trusts the store's own key.
func (m *Memory) Keyring() *signing.Keyring { return m.trust }

func (m *Memory) Append(ctx context.Context, ref domain.AggregateRef, expected uint64, meta domain.Meta, events ...domain.Pending) ([]domain.Envelope, error) {
	if err := checkAppend(ref, meta, events); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	envs, stored, err := m.appendLocked(ref, expected, meta, events)
	if stored {
		close(m.changed)
		m.changed = make(chan struct{})
	}
	return envs, err
}

func (m *Memory) Load(ctx context.Context, ref domain.AggregateRef) ([]domain.Envelope, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return cloneEnvs(m.byAgg[ref]), nil
}

func (m *Memory) LastPosition(ctx context.Context) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return uint64(len(m.messages)), ctx.Err()
}

func (m *Memory) Read(ctx context.Context, after uint64, opts ReadOptions, fn func(Message) error) error {
	m.mu.Lock()
	end := uint64(len(m.messages))
	m.mu.Unlock()
	n := 0
	for pos := after + 1; ; pos++ {
		if err := ctx.Err(); err != nil {
			if opts.Follow {
				return nil
			}
			return err
		}
		if !opts.Follow && pos > end {
			return nil
		}
		m.mu.Lock()
		if pos > uint64(len(m.messages)) {
			wait := m.changed
			m.mu.Unlock()
			select {
			case <-wait:
			case <-ctx.Done():
				return nil
			}
			pos--
			continue
		}
		msg := m.messages[pos-1]
		m.mu.Unlock()
		if opts.Unit != "" && SubjectUnit(DefaultSubjectPrefix, msg.Subject) != opts.Unit {
			continue
		}
		msg.Events = cloneEnvs(msg.Events)
		if !opts.Unjudged {
			msg.Foreign = Authentic(m.trust, msg)
		}
		if err := fn(msg); err != nil {
			return err
		}
		if n++; opts.Limit > 0 && n >= opts.Limit {
			return nil
		}
	}
}

func cloneEnvs(in []domain.Envelope) []domain.Envelope {
	if in == nil {
		return nil
	}
	out := make([]domain.Envelope, len(in))
	copy(out, in)
	return out
}
