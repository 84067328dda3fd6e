// Package datadir guards kpitrail's data directory: one process owns it at a
// time. The embedded NATS server's store, the read models and auth.db all
// live there, and none of them survives two writers: two embedded servers
// on one JetStream directory both acknowledge appends at the same stream
// positions, and after a restart only one history remains.
package datadir

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// LockFile is the name of the lock inside the data directory. It stays in
// place when its owner stops: the lock is the kernel's, held on the open
// file, so a crashed owner leaves nothing that blocks the next one.
const LockFile = "kpitrail.lock"

// Holder describes the process that owns a data directory. It is written
// into the lock file so a process refused the directory can say who has it.
type Holder struct {
	Command string    `json:"command"`
	PID     int       `json:"pid"`
	Host    string    `json:"host,omitempty"`
	Started time.Time `json:"started"`
	HTTP    string    `json:"http,omitempty"`
	NATS    string    `json:"nats,omitempty"`
}

// String names the holder the way an operator looks for it.
func (h Holder) String() string {
	if h.PID == 0 {
		return "a process that has not written its details yet"
	}
	parts := []string{fmt.Sprintf("pid %d", h.PID)}
	if h.Host != "" {
		parts = append(parts, "host "+h.Host)
	}
	if !h.Started.IsZero() {
		parts = append(parts, "started "+h.Started.Format(time.RFC3339))
	}
	if h.HTTP != "" {
		parts = append(parts, "http "+h.HTTP)
	}
	if h.NATS != "" {
		parts = append(parts, "nats "+h.NATS)
	}
	cmd := h.Command
	if cmd == "" {
		cmd = "kpitrail"
	}
	return fmt.Sprintf("kpitrail %s (%s)", cmd, strings.Join(parts, ", "))
}

// HeldError is returned when another process owns the directory.
type HeldError struct {
	Dir    string
	Holder Holder
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("data directory %s is in use by %s", e.Dir, e.Holder)
}

// ErrHeld matches a *HeldError with errors.Is.
var ErrHeld = errors.New("data directory in use")

func (e *HeldError) Is(target error) bool { return target == ErrHeld }

// Lock is an exclusive hold on a data directory.
type Lock struct {
	dir    string
	f      *os.File
	holder Holder
}

// Acquire takes the directory for this process or fails at once, never
// waiting: an operator who starts a second server, or an offline tool
// while the server runs, learns it immediately and from whom. The
// directory is created if missing. PID, host and start time are filled in
// when zero.
func Acquire(dir string, h Holder) (*Lock, error) {
	if dir == "" {
		return nil, errors.New("data directory: no path given")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data directory lock: %w", err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("data directory lock %s: %w", path, err)
	}
	if held {
		f.Close()
		return nil, &HeldError{Dir: dir, Holder: readHolder(path)}
	}
	if h.PID == 0 {
		h.PID = os.Getpid()
	}
	if h.Host == "" {
		h.Host, _ = os.Hostname()
	}
	if h.Started.IsZero() {
		h.Started = time.Now().UTC().Truncate(time.Second)
	}
	l := &Lock{dir: dir, f: f, holder: h}
	if err := l.write(); err != nil {
		l.Release()
		return nil, err
	}
	return l, nil
}

// Holder is what the lock file says about this process.
func (l *Lock) Holder() Holder { return l.holder }

// Update rewrites the holder's details, e.g. once the listeners are bound
// and their ports known.
func (l *Lock) Update(fn func(*Holder)) error {
	fn(&l.holder)
	return l.write()
}

func (l *Lock) write() error {
	data, err := json.Marshal(l.holder)
	if err != nil {
		return err
	}
	if err := l.f.Truncate(0); err != nil {
		return fmt.Errorf("data directory lock: %w", err)
	}
	if _, err := l.f.WriteAt(append(data, '\n'), 0); err != nil {
		return fmt.Errorf("data directory lock: %w", err)
	}
	return nil
}

// Release empties the lock file and lets the directory go. Safe to call
// more than once.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := unlock(l.f)
	err = errors.Join(err, l.f.Close())
	l.f = nil
	return err
}

// readHolder reads the owner's details. The owner writes them right after
// it takes the lock, so an empty file is read again for a moment before it
// is reported as an owner without details.
func readHolder(path string) Holder {
	var h Holder
	for i := 0; i < 20; i++ {
		data, err := os.ReadFile(path)
		if err == nil && len(strings.TrimSpace(string(data))) > 0 && json.Unmarshal(data, &h) == nil {
			return h
		}
		time.Sleep(10 * time.Millisecond)
	}
	return Holder{}
}
