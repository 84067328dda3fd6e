package httpapi

import (
	"context"
	"net"
	"net/http"
	"sync"
	"time"

	"kpitrail/domain"
)

// StreamLimits bound what change-notification streams may cost. Zero
// values take the defaults.
type StreamLimits struct {
	// Max is the most streams open at once, over all tokens. Default 256.
	Max int
	// PerToken is the most one token may hold open. Default 8: a dashboard
	// needs one, a handful of tabs a few.
	PerToken int
	// Buffer is how many changes wait for one subscriber. Default 256.
	Buffer int
	// BehindAfter is how long a subscriber's buffer may stay full before
	// its stream is ended with a "behind" event. Default 10 s.
	BehindAfter time.Duration
	// WriteTimeout is the longest one write to a subscriber may block
	// before its stream is ended. Default 30 s.
	WriteTimeout time.Duration
	// KeepAlive is how often an idle stream gets a comment. Default 15 s.
	KeepAlive time.Duration
	// SendBuffer is the kernel's send buffer for a stream's connection.
	// Default 64 KiB: left to autotuning, a client that stops reading
	// holds megabytes of kernel memory before its writes even block.
	SendBuffer int
}

func (l *StreamLimits) setDefaults() {
	if l.Max <= 0 {
		l.Max = 256
	}
	if l.PerToken <= 0 {
		l.PerToken = 8
	}
	if l.Buffer <= 0 {
		l.Buffer = 256
	}
	if l.BehindAfter <= 0 {
		l.BehindAfter = 10 * time.Second
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = 30 * time.Second
	}
	if l.KeepAlive <= 0 {
		l.KeepAlive = 15 * time.Second
	}
	if l.SendBuffer <= 0 {
		l.SendBuffer = 64 << 10
	}
}

type connKey struct{}

// ConnContext keeps each request's connection in its context, so a change
// stream can size its send buffer. Set it as http.Server.ConnContext.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

// limitSendBuffer sets the send buffer of the request's TCP connection.
func limitSendBuffer(ctx context.Context, n int) {
	c, _ := ctx.Value(connKey{}).(net.Conn)
	// Under TLS and ProblemListener the TCP connection is wrapped; both
	// wrappers hand it out as NetConn.
	for range 4 {
		w, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			break
		}
		c = w.NetConn()
	}
	if tcp, ok := c.(*net.TCPConn); ok {
		_ = tcp.SetWriteBuffer(n)
	}
}

// streamSet counts open streams and ends them all at shutdown.
type streamSet struct {
	limits  StreamLimits
	mu      sync.Mutex
	total   int
	byToken map[string]int
	stop    chan struct{}
	stopped bool
}

func newStreamSet(l StreamLimits) *streamSet {
	return &streamSet{limits: l, byToken: map[string]int{}, stop: make(chan struct{})}
}

// open admits one more stream for token, or refuses it past a cap. stop is
// closed when the server shuts down; release must be called when the
// stream ends.
func (s *streamSet) open(token string) (stop <-chan struct{}, release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.stopped:
		return nil, nil, &domain.Error{Code: domain.ETOOMANY, Rule: "shutting_down", Message: "the server is shutting down"}
	case s.byToken[token] >= s.limits.PerToken:
		return nil, nil, &domain.Error{Code: domain.ETOOMANY, Field: "Authorization", Rule: "max_streams_per_token",
			Message: "this token already has the most change streams open at once; close one first"}
	case s.total >= s.limits.Max:
		return nil, nil, &domain.Error{Code: domain.ETOOMANY, Rule: "max_streams",
			Message: "the server has the most change streams open at once; retry later"}
	}
	s.total++
	s.byToken[token]++
	var once sync.Once
	return s.stop, func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.total--
			if s.byToken[token]--; s.byToken[token] == 0 {
				delete(s.byToken, token)
			}
		})
	}, nil
}

// count is the number of streams open now.
func (s *streamSet) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// shutdown ends every open stream and refuses new ones.
func (s *streamSet) shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.stopped {
		s.stopped = true
		close(s.stop)
	}
}

// startEventStream takes a place among the open streams for the caller's
// token and answers 200 with the event-stream headers and the send buffer
// bounded: what every server-sent stream does before its first event.
// stop closes when the server wants the stream ended; release gives the
// place back.
func (s *Server) startEventStream(w http.ResponseWriter, r *http.Request) (stop <-chan struct{}, release func(), rc *http.ResponseController, err error) {
	p, _ := authPrincipal(r)
	stop, release, err = s.streams.open(p.TokenID)
	if err != nil {
		w.Header().Set("Retry-After", "5")
		return nil, nil, nil, err
	}
	limitSendBuffer(r.Context(), s.cfg.Streams.SendBuffer)
	rc = http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return stop, release, rc, nil
}
