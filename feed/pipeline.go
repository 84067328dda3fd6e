package feed

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"kpitrail/eventstore"
)

// The log reader hands each message to watermill's router over an
// in-process channel that blocks until the handler acknowledges: one
// message at a time, in log order, with the router's retry, poison-queue
// and recoverer middleware around the handler.
const (
	logTopic     = "kpitrail.feed.log"
	metaPosition = "position"
	handlerName  = "downstream-feed"
)

type pendingMsg struct {
	msg  eventstore.Message
	prev uint64 // the position handled before it
}

// Run follows the log from the checkpoint and publishes until ctx is done
// or Close is called; then it returns nil. A failing store read is retried
// with a backoff, so the caller only starts it.
func (f *Feed) Run(ctx context.Context) error {
	ctx, cancel, finish, err := f.begin(ctx)
	if err != nil {
		return err
	}
	defer finish()
	logger := watermill.NewSlogLogger(f.log)
	pipe := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, logger)
	router, err := f.router(pipe, logger)
	if err != nil {
		return err
	}
	routerDone := make(chan error, 1)
	go func() { routerDone <- router.Run(ctx) }()
	select {
	case <-router.Running():
	case err := <-routerDone:
		return fmt.Errorf("feed router: %w", err)
	}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		f.follow(ctx, pipe)
	}()
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-routerDone:
		routerDone = nil
		if runErr == nil && ctx.Err() == nil {
			runErr = errors.New("feed router stopped")
		}
	}
	cancel()
	// Close the router first so an unfinished handler stops, then the
	// channel so a reader still waiting for an ack is let go.
	_ = router.Close()
	_ = pipe.Close()
	<-readerDone
	if routerDone != nil {
		<-routerDone
	}
	return runErr
}

func (f *Feed) router(pipe *gochannel.GoChannel, logger watermill.LoggerAdapter) (*message.Router, error) {
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second}, logger)
	if err != nil {
		return nil, err
	}
	poison, err := middleware.PoisonQueueWithFilter(poisonPublisher{pub: f.pub}, f.cfg.PoisonSubject(), poisonable)
	if err != nil {
		return nil, err
	}
	// Outermost first. settle moves the checkpoint past a message once it
	// is published or poisoned; the poison queue takes a data failure that
	// survived the retries; the recoverer turns a panic into such a failure.
	router.AddMiddleware(
		f.settle,
		poison,
		middleware.Retry{MaxRetries: f.cfg.Retries, InitialInterval: f.cfg.RetryInterval, MaxInterval: 5 * time.Second,
			Multiplier: 2, Logger: logger,
			ShouldRetry: func(p middleware.RetryParams) bool { return !errors.Is(p.Err, context.Canceled) }}.Middleware,
		middleware.Recoverer,
	)
	router.AddConsumerHandler(handlerName, logTopic, pipe, f.handle)
	return router, nil
}

// poisonable: what a retry cannot fix and waiting will not fix either.
// Outages are not poisonable: the poison publish would fail with them, and
// setting messages aside during an outage would lose them for nothing.
func poisonable(err error) bool {
	var panicked middleware.RecoveredPanicError
	return errors.Is(err, errTranslate) || errors.As(err, &panicked)
}

// follow reads the log from the checkpoint and hands each message to the
// router, restarting the read after a failure.
func (f *Feed) follow(ctx context.Context, pipe message.Publisher) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		prev := f.state.Position()
		err := f.cfg.Log.Read(ctx, prev, eventstore.ReadOptions{Follow: true}, func(m eventstore.Message) error {
			if err := f.dispatch(pipe, m, prev); err != nil {
				return err
			}
			prev = m.Position
			backoff = 100 * time.Millisecond
			return nil
		})
		if ctx.Err() != nil {
			return
		}
		f.log.Error("feed: reading the log failed, restarting", "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

var errNotSettled = errors.New("message not settled")

// dispatch blocks until the router's handler acknowledged the message,
// which it does once the message is published or poisoned.
func (f *Feed) dispatch(pipe message.Publisher, m eventstore.Message, prev uint64) error {
	if m.Position <= f.state.Position() {
		return nil
	}
	f.mu.Lock()
	f.pending[m.Position] = pendingMsg{msg: m, prev: prev}
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.pending, m.Position)
		f.mu.Unlock()
	}()
	wm := message.NewMessage("log:"+strconv.FormatUint(m.Position, 10), summarize(m))
	wm.Metadata.Set(metaPosition, strconv.FormatUint(m.Position, 10))
	if err := pipe.Publish(logTopic, wm); err != nil {
		return err
	}
	if f.state.Position() < m.Position {
		// Acknowledged without being settled: the router is shutting down.
		return fmt.Errorf("position %d: %w", m.Position, errNotSettled)
	}
	return nil
}

func (f *Feed) handle(msg *message.Message) error {
	p, err := strconv.ParseUint(msg.Metadata.Get(metaPosition), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: log message without a position: %v", errTranslate, err)
	}
	f.mu.Lock()
	pm, ok := f.pending[p]
	f.mu.Unlock()
	if !ok {
		return fmt.Errorf("position %d is not pending", p)
	}
	return f.process(msg.Context(), pm.msg, pm.prev)
}

// process publishes one log message's integration events and then, only
// after every publish was acknowledged, records the position.
func (f *Feed) process(ctx context.Context, m eventstore.Message, prev uint64) error {
	if m.Position <= f.state.Position() {
		return nil // a redelivery after the commit
	}
	moved, err := f.replica.advance(ctx, m, prev)
	if err != nil {
		return err
	}
	if f.hooks.translate != nil {
		if err := f.hooks.translate(m); err != nil {
			return err
		}
	}
	out, err := f.translate(ctx, m)
	if err != nil {
		return err
	}
	derived, err := f.statuses(ctx, m, moved)
	if err != nil {
		return err
	}
	out = append(out, derived...)
	// Encode everything first: a message that cannot be encoded is poison,
	// and must not leave half of its events published.
	type outgoing struct {
		subject string
		msg     *message.Message
	}
	msgs := make([]outgoing, len(out))
	var updates []stateUpdate
	for i, c := range out {
		if msgs[i].subject, msgs[i].msg, err = f.encode(m.Position, c); err != nil {
			return err
		}
		if c.update != nil {
			updates = append(updates, *c.update)
		}
	}
	for _, o := range msgs {
		if err := f.pub.Publish(o.subject, o.msg); err != nil {
			return fmt.Errorf("publish %s: %w", o.msg.UUID, err)
		}
	}
	if f.hooks.beforeCommit != nil {
		if err := f.hooks.beforeCommit(m.Position); err != nil {
			return err
		}
	}
	// Record what was published even if shutdown began meanwhile: it saves
	// a republish.
	return f.state.commit(context.WithoutCancel(ctx), m.Position, updates)
}

// settle moves the checkpoint past a message the handler got through,
// published or poisoned. A failure that is neither (an outage) pauses
// before the message comes round again.
func (f *Feed) settle(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := h(msg)
		if err == nil {
			p, perr := strconv.ParseUint(msg.Metadata.Get(metaPosition), 10, 64)
			if perr == nil && f.state.Position() < p {
				f.log.Error("feed: message set aside on the poison subject", "position", p,
					"subject", f.cfg.PoisonSubject(), "reason", oneLine(msg.Metadata.Get(middleware.ReasonForPoisonedKey), 512))
				err = f.state.advance(context.WithoutCancel(msg.Context()), p)
			}
			if err == nil {
				return out, nil
			}
		}
		select {
		case <-time.After(time.Second):
		case <-msg.Context().Done():
		}
		return out, err
	}
}
