package httpapi

import (
	"math"
	"net/http"
	"sync"
	"time"

	"kpitrail/internal/problem"
)

// RateLimiter is a token bucket per API token: one misbehaving client
// cannot starve the others or flood the log with writes. The API asks it
// before every authenticated request; the web console asks the same one
// for every signed-in request, so a token has one budget however it comes.
type RateLimiter struct {
	mu      sync.Mutex
	rate    float64
	burst   float64
	buckets map[string]*bucket
	now     func() time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewRateLimiter allows perSecond requests a second per key, in bursts of
// up to burst (perSecond+1 when burst < 1); nil when perSecond is not
// positive: no limit.
func NewRateLimiter(perSecond float64, burst int) *RateLimiter {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = int(perSecond) + 1
	}
	return &RateLimiter{rate: perSecond, burst: float64(burst), buckets: map[string]*bucket{}, now: time.Now}
}

// Allow takes one request from key's bucket. When the bucket is empty it
// says no, and how long until it holds a request again.
func (l *RateLimiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, found := l.buckets[key]
	if !found {
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false, time.Duration(math.Ceil((1 - b.tokens) / l.rate * float64(time.Second)))
	}
	b.tokens--
	return true, 0
}

// RateLimited is the answer to a request over its token's budget.
func RateLimited(path string) problem.Problem {
	return problem.New(http.StatusTooManyRequests, "rate_limited", "too many requests for this token", path)
}
