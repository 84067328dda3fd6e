package console

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"kpitrail/httpapi"
)

// stash keeps a file between its dry run and its apply: held in memory,
// for its own session only, for stashTTL, and at most stashMax files at
// once (each at most httpapi.MaxImportBytes), the oldest let go first.
type stash struct {
	mu    sync.Mutex
	items map[string]staged
	order []string
}

type staged struct {
	req     httpapi.ImportRequest
	key     string
	owner   string
	expires time.Time
	// job is the last job that imported it, so that job's page can offer
	// to import it again (a cancelled import resumes).
	job string
}

const (
	stashTTL = 30 * time.Minute
	stashMax = 8
)

func newStash() *stash { return &stash{items: map[string]staged{}} }

// put keeps req for owner and returns its key, which also becomes the
// import's idempotency key: applying the same checked file twice is one
// batch.
func (s *stash) put(req httpapi.ImportRequest, owner string) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	key := hex.EncodeToString(b)
	req.DryRun = false
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(time.Now())
	for len(s.order) >= stashMax {
		delete(s.items, s.order[0])
		s.order = s.order[1:]
	}
	s.items[key] = staged{req: req, key: "console-" + key, owner: owner, expires: time.Now().Add(stashTTL)}
	s.order = append(s.order, key)
	return key
}

// take returns the file kept under key for owner. It stays until it
// expires, so a retried apply meets the same batch.
func (s *stash) take(key, owner string) (staged, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(time.Now())
	it, ok := s.items[key]
	if !ok || it.owner != owner {
		return staged{}, false
	}
	return it, true
}

// started records that owner's file under key is being imported by job.
func (s *stash) started(key, owner, job string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if it, ok := s.items[key]; ok && it.owner == owner {
		it.job = job
		s.items[key] = it
	}
}

// byJob returns the key of owner's file that job last imported.
func (s *stash) byJob(job, owner string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(time.Now())
	for k, it := range s.items {
		if it.job == job && it.owner == owner {
			return k, true
		}
	}
	return "", false
}

func (s *stash) filename(key string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.items[key].req.Filename
}

func (s *stash) expire(now time.Time) {
	kept := s.order[:0]
	for _, k := range s.order {
		if now.After(s.items[k].expires) {
			delete(s.items, k)
			continue
		}
		kept = append(kept, k)
	}
	s.order = kept
}
