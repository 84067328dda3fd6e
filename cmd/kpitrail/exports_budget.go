package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"kpitrail/domain"
)

// ExportLimits are the disk and concurrency budget of analysts' exports.
// Zero values take the defaults.
type ExportLimits struct {
	// MaxAge is how long a finished export is kept. Default 7 days.
	MaxAge time.Duration
	// MaxBytes bounds the exports directory as a whole: finished exports,
	// exports being written and their as-of replays. Default 4 GiB.
	MaxBytes int64
	// MinKeep is the youngest a finished export may be and still be removed
	// to make room for a new one: the analyst who made it needs the time
	// to download it. Default 1 hour.
	MinKeep time.Duration
	// Concurrent is the most exports (POST /v1/exports and the streamed
	// GET /v1/exports/{table}.{format}) that run at once. Default 2.
	Concurrent int
	// CheckEvery is how often a running export's disk use is checked.
	// Default 200 ms.
	CheckEvery time.Duration
}

func (l *ExportLimits) setDefaults() {
	if l.MaxAge <= 0 {
		l.MaxAge = 7 * 24 * time.Hour
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = 4 << 30
	}
	if l.MinKeep < 0 {
		l.MinKeep = 0
	} else if l.MinKeep == 0 {
		l.MinKeep = time.Hour
	}
	if l.Concurrent <= 0 {
		l.Concurrent = 2
	}
	if l.CheckEvery <= 0 {
		l.CheckEvery = 200 * time.Millisecond
	}
}

// exportInfo is one finished export in the list.
type exportInfo struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	Bytes     int64     `json:"bytes"`
	Manifest  string    `json:"manifest"`
}

// finished lists the complete exports (those with a manifest), oldest
// first.
func (e *exports) finished() []exportInfo {
	entries, _ := os.ReadDir(e.dir)
	var out []exportInfo
	for _, d := range entries {
		if !d.IsDir() || !exportIDPattern.MatchString(d.Name()) {
			continue
		}
		st, err := os.Stat(filepath.Join(e.dir, d.Name(), "manifest.json"))
		if err != nil {
			continue
		}
		out = append(out, exportInfo{ID: d.Name(), CreatedAt: st.ModTime().UTC(), ExpiresAt: st.ModTime().Add(e.limits.MaxAge).UTC(),
			Bytes: dirBytes(filepath.Join(e.dir, d.Name())), Manifest: "/v1/exports/" + d.Name() + "/manifest.json"})
	}
	slices.SortFunc(out, func(a, b exportInfo) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}

// sweep removes the exports past their age, then the oldest of those past
// MinKeep (and other than keep) while the directory is over room bytes.
// It returns the bytes the directory then holds.
func (e *exports) sweep(room int64, keep string) int64 {
	e.sweepMu.Lock()
	defer e.sweepMu.Unlock()
	now := e.now()
	var kept []exportInfo
	for _, x := range e.finished() {
		if now.Sub(x.CreatedAt) >= e.limits.MaxAge {
			os.RemoveAll(filepath.Join(e.dir, x.ID))
			continue
		}
		kept = append(kept, x)
	}
	used := dirBytes(e.dir)
	for _, x := range kept {
		if used <= room {
			break
		}
		if now.Sub(x.CreatedAt) < e.limits.MinKeep {
			break // oldest first: the rest are younger still
		}
		if x.ID == keep {
			continue
		}
		os.RemoveAll(filepath.Join(e.dir, x.ID))
		used -= x.Bytes
	}
	return used
}

// cleanStale removes what an export interrupted by a crash left behind:
// staging directories and as-of replays. Only at start, when none runs.
func (e *exports) cleanStale() {
	entries, _ := os.ReadDir(e.dir)
	for _, d := range entries {
		name := d.Name()
		if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "kpitrail-asof-") {
			os.RemoveAll(filepath.Join(e.dir, name))
			continue
		}
		if exportIDPattern.MatchString(name) {
			if _, err := os.Stat(filepath.Join(e.dir, name, "manifest.json")); err != nil {
				os.RemoveAll(filepath.Join(e.dir, name))
			}
		}
	}
}

// begin takes one of the concurrent export slots, or refuses at once.
func (e *exports) begin() (func(), error) {
	select {
	case e.running <- struct{}{}:
		return func() { <-e.running }, nil
	default:
		return nil, &domain.Error{Code: domain.ETOOMANY, Rule: "max_concurrent_exports",
			Message: fmt.Sprintf("%d exports are running, the most at once (--export-concurrency); retry when one has finished", e.limits.Concurrent)}
	}
}

// errOverBudget cancels an export that grew the directory past the budget.
var errOverBudget = errors.New("export over the disk budget")

// budgeted runs fn, which writes the export id (or, with id "", only a
// replay), within the disk budget. Before it starts, exports past their age
// go, and older ones make room; a budget that young exports hold is a 507
// at once. While it writes, it is stopped once what could not be made room
// for (everything but finished exports past MinKeep) exceeds the budget.
// Once written, older exports make room for it; one that fits in no case
// is removed, taking nobody else's room. Both are 507.
func (e *exports) budgeted(ctx context.Context, id string, fn func(ctx context.Context) error) error {
	if used := e.sweep(e.limits.MaxBytes, ""); used >= e.limits.MaxBytes {
		return &domain.Error{Code: domain.ESTORAGE, Rule: "export_budget",
			Message: fmt.Sprintf("the exports' disk budget (%s, --export-max-bytes) is spent by exports younger than %s; retry after they expire or are removed",
				bytesText(e.limits.MaxBytes), e.limits.MinKeep)}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		t := time.NewTicker(e.limits.CheckEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if dirBytes(e.dir)-e.removable("") > e.limits.MaxBytes {
					cancel(errOverBudget)
					return
				}
			}
		}
	}()
	err := fn(ctx)
	close(done)
	<-watched
	over := errors.Is(context.Cause(ctx), errOverBudget)
	if err == nil && id != "" {
		if dirBytes(e.dir)-e.removable(id) > e.limits.MaxBytes {
			os.RemoveAll(filepath.Join(e.dir, id))
			over = true
		} else {
			e.sweep(e.limits.MaxBytes, id)
		}
	}
	if over {
		return &domain.Error{Code: domain.ESTORAGE, Rule: "export_budget",
			Message: fmt.Sprintf("this export would take the exports past their disk budget (%s, --export-max-bytes) and was stopped; nothing of it is kept. Export fewer tables or formats, or retry once older exports expire",
				bytesText(e.limits.MaxBytes))}
	}
	return err
}

// removable is what sweep could free: finished exports past MinKeep,
// other than keep.
func (e *exports) removable(keep string) int64 {
	now := e.now()
	var n int64
	for _, x := range e.finished() {
		if x.ID != keep && now.Sub(x.CreatedAt) >= e.limits.MinKeep {
			n += x.Bytes
		}
	}
	return n
}

func dirBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
