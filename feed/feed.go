package feed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/ThreeDotsLabs/watermill"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/eventstore"
)

// Feed publishes kpitrail's integration events to downstream systems.
// Open it, run Run (it blocks), and Close it. Run one Feed per data
// directory: two would publish the same ids, which JetStream drops within
// its duplicate window, but would race on the checkpoint file.
type Feed struct {
	cfg     Config
	log     *slog.Logger
	state   *state
	replica *replica
	pub     *wmnats.Publisher
	hooks   hooks

	mu      sync.Mutex
	pending map[uint64]pendingMsg // handed from the log reader to the router's handler
	stop    context.CancelFunc
	done    chan struct{}
	closed  bool
}

// hooks let tests fail a step; nil in production.
type hooks struct {
	translate    func(eventstore.Message) error // after the private read models are at the message
	beforeCommit func(position uint64) error    // after every publish was acknowledged
}

// Open creates (or updates) the stream, opens the feed's files and
// returns a Feed that is not yet running.
func Open(ctx context.Context, cfg Config) (*Feed, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("feed config: %w", err)
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("feed: %w", err)
	}
	js, err := jetstream.New(cfg.Conn, jetstream.WithDefaultTimeout(cfg.Timeout))
	if err != nil {
		return nil, err
	}
	if _, err := js.CreateOrUpdateStream(ctx, cfg.StreamConfig()); err != nil {
		return nil, fmt.Errorf("feed: create stream %s: %w", cfg.Stream, err)
	}
	f := &Feed{cfg: cfg, log: cfg.Logger, pending: map[uint64]pendingMsg{}}
	if f.state, err = openState(ctx, filepath.Join(cfg.Dir, "feed.db")); err != nil {
		return nil, err
	}
	if f.replica, err = openReplica(filepath.Join(cfg.Dir, "readmodels.db"), cfg.Log); err != nil {
		f.state.close()
		return nil, fmt.Errorf("feed: private read models: %w", err)
	}
	// Synchronous JetStream publishes, each waiting for its ack, with the
	// message UUID as Nats-Msg-Id. The publisher is never closed: closing
	// it would close the shared connection.
	f.pub, err = wmnats.NewPublisherWithNatsConn(cfg.Conn, wmnats.PublisherPublishConfig{
		Marshaler: &wmnats.NATSMarshaler{},
		// Used only to provision streams, which the feed does itself.
		SubjectCalculator: wmnats.DefaultSubjectCalculator,
		JetStream:         wmnats.JetStreamConfig{TrackMsgId: true, ConnectOptions: []nats.JSOpt{nats.MaxWait(cfg.Timeout)}},
	}, watermill.NewSlogLogger(cfg.Logger))
	if err != nil {
		f.closeFiles()
		return nil, fmt.Errorf("feed publisher: %w", err)
	}
	return f, nil
}

// Checkpoint is the last log position the feed has published (or set
// aside on the poison subject).
func (f *Feed) Checkpoint() uint64 { return f.state.Position() }

// Wait returns once the feed has passed position, or when ctx is done.
func (f *Feed) Wait(ctx context.Context, position uint64) error { return f.state.wait(ctx, position) }

// Lag is how many log positions the feed trails the log by.
func (f *Feed) Lag(ctx context.Context) (uint64, error) {
	last, err := f.cfg.Log.LastPosition(ctx)
	if err != nil {
		return 0, err
	}
	if cp := f.Checkpoint(); last > cp {
		return last - cp, nil
	}
	return 0, nil
}

// Close stops Run if it is running, waits for it, and closes the files.
// It does not close the NATS connection.
func (f *Feed) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	stop, done := f.stop, f.done
	f.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	return f.closeFiles()
}

func (f *Feed) closeFiles() error {
	return errors.Join(f.replica.close(), f.state.close())
}

// begin marks Run as running; there is at most one. finish, deferred by
// Run, lets Close return.
func (f *Feed) begin(ctx context.Context) (_ context.Context, cancel, finish func(), _ error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil, nil, nil, errors.New("feed: closed")
	}
	if f.stop != nil {
		return nil, nil, nil, errors.New("feed: already running")
	}
	ctx, cancel = context.WithCancel(ctx)
	done := make(chan struct{})
	f.stop, f.done = cancel, done
	return ctx, cancel, func() {
		cancel()
		f.mu.Lock()
		f.stop, f.done = nil, nil
		f.mu.Unlock()
		close(done)
	}, nil
}
