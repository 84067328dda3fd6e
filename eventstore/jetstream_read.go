package eventstore

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// Read delivers every message after position `after`, in order. It uses one
// ordered consumer for the whole read (no acknowledgements, flow-controlled,
// recreated by the client on a gap), which is the fastest way JetStream
// offers to stream a log; readers keep their own checkpoint. Every message
// carries the store's verdict on it (Message.Foreign).
func (s *JetStream) Read(ctx context.Context, after uint64, opts ReadOptions, fn func(Message) error) error {
	filter := s.cfg.SubjectPrefix + ".>"
	if opts.Unit != "" {
		filter = UnitFilter(s.cfg.SubjectPrefix, opts.Unit)
	}
	end := uint64(0)
	if !opts.Follow {
		last, err := s.lastOn(ctx, filter, opts.Unit != "")
		if err != nil {
			return err
		}
		if last <= after {
			return nil
		}
		end = last
	}
	cons, err := s.js.OrderedConsumer(ctx, s.cfg.Stream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{filter},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    after + 1,
	})
	if err != nil {
		return fmt.Errorf("read from %d: %w", after+1, err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1024))
	if err != nil {
		return fmt.Errorf("read from %d: %w", after+1, err)
	}
	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			it.Stop()
		case <-stopped:
			it.Stop()
		}
	}()
	// Fetching and checking signatures run ahead of fn, on every core: a
	// signature check costs more than decoding a message, and a rebuild
	// reads as fast as it can. fn still gets the messages one at a time,
	// in order, each with its verdict.
	fetched := make(chan *readItem, readAhead)
	jobs := make(chan *readItem, readAhead)
	var wg sync.WaitGroup
	defer func() {
		close(stopped)
		for range fetched { // let the fetcher see stopped, whatever it waits on
		}
		wg.Wait()
	}()
	var verified *verifiedCache
	if !opts.Unjudged && s.cfg.VerifiedCache != "" {
		// Without the file every message is checked in full, as before.
		if verified, err = openVerifiedCache(s.cfg.VerifiedCache); err == nil {
			defer verified.Close()
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(fetched)
		defer close(jobs)
		s.fetch(it, opts, end, verified, fetched, jobs, stopped)
	}()
	if !opts.Unjudged {
		for range runtime.GOMAXPROCS(0) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for item := range jobs {
					item.msg.Foreign = Authentic(s.trust, item.msg)
					if item.msg.Foreign == nil && item.cacheable {
						verified.put(item.msg.Position, item.digest)
					}
					close(item.done)
				}
			}()
		}
	}
	for item := range fetched {
		<-item.done
		if err := item.err; err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) && ctx.Err() != nil {
				if opts.Follow {
					return nil
				}
				return ctx.Err()
			}
			return fmt.Errorf("read: %w", err)
		}
		if err := fn(item.msg); err != nil {
			return err
		}
	}
	return nil
}

// lastOn is where a read on filter ends: the stream's last position, or,
// for one unit's subjects, the position of the unit's last message (0 when
// it has none), so a read that is not following stops there.
func (s *JetStream) lastOn(ctx context.Context, filter string, unit bool) (uint64, error) {
	if !unit {
		return s.LastPosition(ctx)
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	if s.stream == nil {
		return 0, jetstream.ErrStreamNotFound
	}
	m, err := retryNoResponders(ctx, s.cfg.Timeout, func() (*jetstream.RawStreamMsg, error) {
		return s.stream.GetLastMsgForSubject(ctx, filter)
	})
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return m.Sequence, nil
}

// readAhead bounds the messages fetched ahead of the reader.
const readAhead = 64

// readItem is one fetched message; done is closed once its verdict is in.
type readItem struct {
	msg  Message
	err  error
	done chan struct{}
	// digest is the message's verified-cache entry when cacheable.
	digest    [verifiedRecord]byte
	cacheable bool
}

var closedDone = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// fetch decodes messages from it in order and hands each to the reader
// (fetched) and, unless the read is unjudged, to the signature checkers
// (jobs). It stops after an error (handed on), the read's end, or stopped.
func (s *JetStream) fetch(it jetstream.MessagesContext, opts ReadOptions, end uint64, verified *verifiedCache, fetched, jobs chan<- *readItem, stopped <-chan struct{}) {
	hand := func(item *readItem, to chan<- *readItem) bool {
		select {
		case to <- item:
			return true
		case <-stopped:
			return false
		}
	}
	n := 0
	for {
		m, err := it.Next()
		if err == nil {
			var meta *jetstream.MsgMetadata
			if meta, err = m.Metadata(); err == nil {
				item := &readItem{msg: decodeMessage(s.cfg.SubjectPrefix, m.Subject(), meta.Sequence.Stream, m.Data(), m.Headers()), done: closedDone}
				item.msg.StoredAt = meta.Timestamp
				check := !opts.Unjudged
				if check && verified != nil {
					if item.digest, item.cacheable = verified.digest(s.trust, item.msg); item.cacheable && verified.has(item.msg.Position, item.digest) {
						check = false // Foreign stays nil: checked before, unchanged since
					}
				}
				if check {
					item.done = make(chan struct{})
				}
				if !hand(item, fetched) || (check && !hand(item, jobs)) {
					return
				}
				n++
				if (opts.Limit > 0 && n >= opts.Limit) || (!opts.Follow && meta.Sequence.Stream >= end) {
					return
				}
				continue
			}
		}
		hand(&readItem{err: err, done: closedDone}, fetched)
		return
	}
}
