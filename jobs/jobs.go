// Package jobs runs the server's long operations (imports, rebuilds,
// exports, replays) in the background with a record of each: who started
// it and why, its state, its progress and its result or problem. The
// operations themselves live with their owners (cmd wires them); this
// package only schedules them within a budget, keeps their records for a
// while, and tells watchers how they are doing.
//
// Records are kept in memory: a restart forgets them (what a job stored,
// an import's commands, stays in the log and is found again by running
// the same import, which appends nothing twice).
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"

	"kpitrail/domain"
)

// State is where a job is in its life.
type State string

const (
	Queued    State = "queued"
	Running   State = "running"
	Succeeded State = "succeeded"
	Failed    State = "failed"
	Cancelled State = "cancelled"
)

// Finished reports whether a job in this state will change no more.
func (s State) Finished() bool { return s == Succeeded || s == Failed || s == Cancelled }

// Owner is who started a job.
type Owner struct {
	Actor   string `json:"actor"`
	TokenID string `json:"token_id"`
	Role    string `json:"role"`
}

// Progress is how far a running job is, in the unit of its work: rows of
// an import, events of a rebuild or replay, rows of an export. Total is 0
// while unknown.
type Progress struct {
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
	Unit  string `json:"unit"`
}

// Snapshot is a job's record at one moment. Err is the job's failure, a
// domain error when the operation says what went wrong; transports render
// it as they render every other error.
type Snapshot struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	State      State      `json:"state"`
	StartedBy  Owner      `json:"started_by"`
	Reason     string     `json:"reason,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	Progress   Progress   `json:"progress"`
	// Rate is units per second since the job started running.
	Rate float64 `json:"rate"`
	// ETASeconds is the time left at the current rate, when known.
	ETASeconds *float64 `json:"eta_seconds,omitempty"`
	Result     any      `json:"result,omitempty"`
	Err        error    `json:"-"`
	// Version counts changes to the record, so a watcher knows it has
	// seen the last one.
	Version uint64 `json:"version"`
}

// Func is a job's work. It reports progress with Report(ctx, ...) and
// returns its result; ctx is cancelled when the job is.
type Func func(ctx context.Context) (any, error)

// Limits are the jobs' budget. Zero values take the defaults.
type Limits struct {
	// Concurrent is the most jobs running at once. Default 2: a job is a
	// rebuild's or an import's worth of CPU, and the API must stay quick.
	Concurrent int
	// Queued is the most jobs waiting to run. Default 16; past it a new
	// job is refused with 429.
	Queued int
	// KeepFinished is how many finished jobs are remembered. Default 200.
	KeepFinished int
	// KeepFor is how long a finished job is remembered. Default 24 h.
	KeepFor time.Duration
	// KeepBytes bounds the memory the finished jobs' results and problems
	// hold (an import's report has a line per command): past it the
	// oldest are forgotten, the newest always kept. Default 64 MiB.
	KeepBytes int64
}

func (l *Limits) setDefaults() {
	if l.Concurrent <= 0 {
		l.Concurrent = 2
	}
	if l.Queued <= 0 {
		l.Queued = 16
	}
	if l.KeepFinished <= 0 {
		l.KeepFinished = 200
	}
	if l.KeepFor <= 0 {
		l.KeepFor = 24 * time.Hour
	}
	if l.KeepBytes <= 0 {
		l.KeepBytes = 64 << 20
	}
}

type job struct {
	snap    Snapshot
	cancel  context.CancelFunc
	watch   map[chan struct{}]struct{}
	started time.Time
	// size is what the finished record's result and error weigh, as JSON.
	size int64
}

// Manager runs jobs and keeps their records.
type Manager struct {
	limits Limits
	now    func() time.Time
	slots  chan struct{}
	ctx    context.Context
	stop   context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	jobs   map[string]*job
	order  []string // ids, oldest first
	queued int
}

// New returns a manager; Close cancels what still runs.
func New(l Limits) *Manager {
	l.setDefaults()
	ctx, stop := context.WithCancel(context.Background())
	return &Manager{limits: l, now: time.Now, slots: make(chan struct{}, l.Concurrent), ctx: ctx, stop: stop,
		jobs: map[string]*job{}}
}

// Limits returns the budget in force.
func (m *Manager) Limits() Limits { return m.limits }

// Start queues fn as a job of kind for owner. It refuses with ETOOMANY
// when the queue is full.
func (m *Manager) Start(owner Owner, kind, reason string, fn Func) (Snapshot, error) {
	m.mu.Lock()
	if m.ctx.Err() != nil {
		m.mu.Unlock()
		return Snapshot{}, &domain.Error{Code: domain.EUNAVAILABLE, Rule: "shutting_down", Message: "the server is shutting down"}
	}
	if m.queued >= m.limits.Queued {
		m.mu.Unlock()
		return Snapshot{}, &domain.Error{Code: domain.ETOOMANY, Rule: "max_queued_jobs",
			Message: "the server has the most jobs waiting to run; retry when one has finished"}
	}
	m.sweepLocked()
	ctx, cancel := context.WithCancel(m.ctx)
	j := &job{cancel: cancel, watch: map[chan struct{}]struct{}{},
		snap: Snapshot{ID: newID(), Kind: kind, State: Queued, StartedBy: owner, Reason: reason, CreatedAt: m.now().UTC(), Version: 1}}
	m.jobs[j.snap.ID] = j
	m.order = append(m.order, j.snap.ID)
	m.queued++
	snap := j.snap
	m.mu.Unlock()

	m.wg.Add(1)
	go m.run(ctx, j, fn)
	return snap, nil
}

func (m *Manager) run(ctx context.Context, j *job, fn Func) {
	defer m.wg.Done()
	defer j.cancel()
	select {
	case m.slots <- struct{}{}:
	case <-ctx.Done():
		m.mu.Lock()
		m.queued--
		m.finishLocked(j, nil, ctx.Err())
		m.mu.Unlock()
		return
	}
	defer func() { <-m.slots }()
	m.mu.Lock()
	m.queued--
	now := m.now()
	j.started = now
	t := now.UTC()
	j.snap.StartedAt, j.snap.State = &t, Running
	m.changedLocked(j)
	m.mu.Unlock()

	res, err := fn(withReporter(ctx, func(p Progress) { m.progress(j, p) }))
	m.mu.Lock()
	m.finishLocked(j, res, err)
	m.mu.Unlock()
}

func (m *Manager) finishLocked(j *job, res any, err error) {
	t := m.now().UTC()
	j.snap.FinishedAt, j.snap.Result, j.snap.Err = &t, res, err
	j.snap.ETASeconds = nil
	switch {
	case err == nil:
		j.snap.State = Succeeded
		if j.snap.Progress.Total > 0 {
			j.snap.Progress.Done = j.snap.Progress.Total
		}
	case cancelled(err):
		j.snap.State = Cancelled
	default:
		j.snap.State = Failed
	}
	j.size = weigh(res, err)
	m.changedLocked(j)
}

// weigh is the size of a finished job's result and error as JSON, the
// form every reader gets them in.
func weigh(res any, err error) int64 {
	n := int64(0)
	if b, jerr := json.Marshal(res); jerr == nil {
		n += int64(len(b))
	}
	if e, ok := domain.AsError(err); ok {
		if b, jerr := json.Marshal(e.Details); jerr == nil {
			n += int64(len(b))
		}
		n += int64(len(e.Message))
	}
	return n
}

func cancelled(err error) bool {
	if e, ok := domain.AsError(err); ok && e.Rule == "cancelled" {
		return true
	}
	return err == context.Canceled
}

func (m *Manager) progress(j *job, p Progress) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j.snap.Progress = p
	if el := m.now().Sub(j.started).Seconds(); el > 0 && p.Done > 0 {
		j.snap.Rate = float64(p.Done) / el
		if p.Total >= p.Done {
			eta := float64(p.Total-p.Done) / j.snap.Rate
			j.snap.ETASeconds = &eta
		}
	}
	m.changedLocked(j)
}

// changedLocked bumps the version and wakes the watchers. A watcher's
// channel holds one wake-up: a slow watcher sees the latest record, not
// every step, and costs nothing while it lags.
func (m *Manager) changedLocked(j *job) {
	j.snap.Version++
	for ch := range j.watch {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Get returns a job's record.
func (m *Manager) Get(id string) (Snapshot, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok {
		return Snapshot{}, false
	}
	return j.snap, true
}

// List returns the records, newest first, that keep says to.
func (m *Manager) List(keep func(Snapshot) bool) []Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweepLocked()
	out := []Snapshot{}
	for i := len(m.order) - 1; i >= 0; i-- {
		if s := m.jobs[m.order[i]].snap; keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// Cancel asks a job to stop. A queued job is cancelled at once; a running
// one when its work next looks at its context. It returns the record.
func (m *Manager) Cancel(id string) (Snapshot, bool) {
	m.mu.Lock()
	j, ok := m.jobs[id]
	m.mu.Unlock()
	if !ok {
		return Snapshot{}, false
	}
	j.cancel()
	m.mu.Lock()
	defer m.mu.Unlock()
	return j.snap, true
}

// Watch returns a channel woken when the job's record changes, and a
// function to stop watching.
func (m *Manager) Watch(id string) (<-chan struct{}, func(), bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[id]
	if !ok {
		return nil, nil, false
	}
	ch := make(chan struct{}, 1)
	j.watch[ch] = struct{}{}
	return ch, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		delete(j.watch, ch)
	}, true
}

// sweepLocked forgets finished jobs past the retention limits.
func (m *Manager) sweepLocked() {
	finished := 0
	for _, id := range m.order {
		if m.jobs[id].snap.State.Finished() {
			finished++
		}
	}
	var weight int64
	newest := ""
	for _, id := range m.order {
		if j := m.jobs[id]; j.snap.State.Finished() {
			weight += j.size
			newest = id
		}
	}
	cutoff := m.now().Add(-m.limits.KeepFor)
	kept := m.order[:0]
	for _, id := range m.order {
		j := m.jobs[id]
		s := j.snap
		heavy := weight > m.limits.KeepBytes && id != newest
		if s.State.Finished() && (finished > m.limits.KeepFinished || s.FinishedAt.Before(cutoff) || heavy) {
			finished--
			weight -= j.size
			delete(m.jobs, id)
			continue
		}
		kept = append(kept, id)
	}
	m.order = kept
}

// Close cancels every job and waits for them to stop.
func (m *Manager) Close() {
	m.mu.Lock()
	m.stop()
	m.mu.Unlock()
	m.wg.Wait()
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "j-" + hex.EncodeToString(b)
}

type reporterKey struct{}

func withReporter(ctx context.Context, fn func(Progress)) context.Context {
	return context.WithValue(ctx, reporterKey{}, fn)
}

// Report tells the job running in ctx how far it is; outside a job it does
// nothing, so an operation reports the same way whether it runs as a job
// or inline.
func Report(ctx context.Context, done, total int64, unit string) {
	if fn, ok := ctx.Value(reporterKey{}).(func(Progress)); ok {
		fn(Progress{Done: done, Total: total, Unit: unit})
	}
}

// CancelledError is the error an operation returns when its job was cancelled
// part-way; details say what it did before it stopped.
func CancelledError(message string, details any) error {
	return &domain.Error{Code: domain.ECONFLICT, Rule: "cancelled", Message: message, Details: details}
}
