package jobs

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"kpitrail/domain"
)

var owner = Owner{Actor: "考评办", TokenID: "tok-1", Role: "office"}

// waitState waits until job id reaches state.
func waitState(t *testing.T, m *Manager, id string, want State) Snapshot {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s, ok := m.Get(id); ok && s.State == want {
			return s
		}
		time.Sleep(5 * time.Millisecond)
	}
	s, _ := m.Get(id)
	t.Fatalf("job %s is %s, want %s", id, s.State, want)
	return s
}

func TestConcurrencyCapQueuesAndQueueLimitRefuses(t *testing.T) {
	m := New(Limits{Concurrent: 1, Queued: 2})
	defer m.Close()
	release := make(chan struct{})
	block := func(ctx context.Context) (any, error) {
		select {
		case <-release:
			return "done", nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	a, err := m.Start(owner, "import", "first", block)
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, m, a.ID, Running)
	b, _ := m.Start(owner, "rebuild", "", block)
	c, _ := m.Start(owner, "export", "", block)
	if s, _ := m.Get(b.ID); s.State != Queued {
		t.Fatalf("past the concurrency cap a job waits: %s", s.State)
	}
	_, err = m.Start(owner, "replay", "", block)
	if domain.ErrorCode(err) != domain.ETOOMANY {
		t.Fatalf("past the queue limit a job is refused: %v", err)
	}
	// A queued job is cancelled without ever running.
	m.Cancel(c.ID)
	if s := waitState(t, m, c.ID, Cancelled); s.StartedAt != nil {
		t.Fatalf("a cancelled queued job never started: %+v", s)
	}
	close(release)
	if s := waitState(t, m, a.ID, Succeeded); s.Result != "done" || s.Reason != "first" || s.StartedBy != owner {
		t.Fatalf("record: %+v", s)
	}
	waitState(t, m, b.ID, Succeeded)
}

func TestProgressRateAndETA(t *testing.T) {
	m := New(Limits{})
	defer m.Close()
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	step := make(chan struct{})
	j, _ := m.Start(owner, "import", "", func(ctx context.Context) (any, error) {
		<-step
		now = now.Add(10 * time.Second)
		Report(ctx, 250, 1000, "commands")
		<-step
		return nil, errors.New("store gone")
	})
	waitState(t, m, j.ID, Running)
	step <- struct{}{}
	deadline := time.Now().Add(10 * time.Second)
	var s Snapshot
	for time.Now().Before(deadline) {
		if s, _ = m.Get(j.ID); s.Progress.Done == 250 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if s.Rate != 25 || s.ETASeconds == nil || *s.ETASeconds != 30 || s.Progress.Unit != "commands" {
		t.Fatalf("250 of 1000 in 10 s: rate 25/s, 30 s left; got %+v", s)
	}
	step <- struct{}{}
	if s = waitState(t, m, j.ID, Failed); s.Err == nil || s.ETASeconds != nil {
		t.Fatalf("a failed job keeps its error and has no ETA: %+v", s)
	}
}

func TestCancelledOperationEndsCancelledAndWatchersAreWoken(t *testing.T) {
	m := New(Limits{})
	defer m.Close()
	j, _ := m.Start(owner, "import", "", func(ctx context.Context) (any, error) {
		<-ctx.Done()
		return nil, CancelledError("import cancelled: 3 of 9 commands ran", map[string]int{"not_run": 6})
	})
	wake, stop, ok := m.Watch(j.ID)
	if !ok {
		t.Fatal("watch")
	}
	defer stop()
	waitState(t, m, j.ID, Running)
	m.Cancel(j.ID)
	select {
	case <-wake:
	case <-time.After(10 * time.Second):
		t.Fatal("a watcher is woken when the record changes")
	}
	s := waitState(t, m, j.ID, Cancelled)
	if e, ok := domain.AsError(s.Err); !ok || e.Details == nil {
		t.Fatalf("the cancelled job keeps what its operation said: %v", s.Err)
	}
}

func TestFinishedJobsAreForgottenPastTheRetentionLimits(t *testing.T) {
	m := New(Limits{KeepFinished: 2, KeepFor: time.Hour})
	defer m.Close()
	now := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	quick := func(context.Context) (any, error) { return nil, nil }
	var ids []string
	for range 3 {
		j, _ := m.Start(owner, "rebuild", "", quick)
		waitState(t, m, j.ID, Succeeded)
		ids = append(ids, j.ID)
	}
	all := func(Snapshot) bool { return true }
	if got := m.List(all); len(got) != 2 || got[0].ID != ids[2] || got[1].ID != ids[1] {
		t.Fatalf("the two newest finished jobs are kept, newest first: %v", got)
	}
	now = now.Add(2 * time.Hour)
	if got := m.List(all); len(got) != 0 {
		t.Fatalf("finished jobs older than KeepFor are forgotten: %v", got)
	}
}

func TestCloseCancelsRunningJobsAndRefusesNewOnes(t *testing.T) {
	m := New(Limits{})
	j, _ := m.Start(owner, "rebuild", "", func(ctx context.Context) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	waitState(t, m, j.ID, Running)
	m.Close()
	if s, _ := m.Get(j.ID); s.State != Cancelled {
		t.Fatalf("after Close: %s", s.State)
	}
	if _, err := m.Start(owner, "rebuild", "", nil); domain.ErrorCode(err) != domain.EUNAVAILABLE {
		t.Fatalf("start after Close: %v", err)
	}
}

func TestHeavyResultsAreForgottenOldestFirst(t *testing.T) {
	m := New(Limits{KeepBytes: 2500})
	defer m.Close()
	heavy := func(context.Context) (any, error) { return strings.Repeat("行", 300), nil } // ~900 bytes of JSON
	var ids []string
	for range 4 {
		j, _ := m.Start(owner, "import", "", heavy)
		waitState(t, m, j.ID, Succeeded)
		ids = append(ids, j.ID)
	}
	got := m.List(func(Snapshot) bool { return true })
	if len(got) != 2 || got[0].ID != ids[3] || got[1].ID != ids[2] {
		t.Fatalf("within 2500 bytes the two newest results are kept: %d kept", len(got))
	}
	// The newest is kept whatever it weighs.
	m2 := New(Limits{KeepBytes: 10})
	defer m2.Close()
	j, _ := m2.Start(owner, "import", "", heavy)
	waitState(t, m2, j.ID, Succeeded)
	if got := m2.List(func(Snapshot) bool { return true }); len(got) != 1 {
		t.Fatalf("the newest finished job is kept: %v", got)
	}
}
