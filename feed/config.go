package feed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/eventstore"
)

// Defaults. The stream name and subjects are part of the contract with
// downstream systems (docs/downstream.md): change them only with notice.
const (
	DefaultStream          = "KPITRAIL_CHANGES"
	DefaultSubjectPrefix   = "kpitrail.changes"
	DefaultMaxAge          = 365 * 24 * time.Hour
	DefaultDuplicateWindow = 10 * time.Minute
)

// Log is what the feed needs of the event store; eventstore.Store
// satisfies it.
type Log interface {
	Read(ctx context.Context, after uint64, opts eventstore.ReadOptions, fn func(eventstore.Message) error) error
	LastPosition(ctx context.Context) (uint64, error)
}

// Config wires a Feed. Zero values take the defaults.
type Config struct {
	// Conn is the NATS connection to publish on. The feed never closes it.
	Conn *nats.Conn
	// Log is the event log the feed translates (the KPITRAIL store).
	Log Log
	// Dir holds the feed's own files: feed.db (checkpoint and the statuses
	// last published) and readmodels.db (its private read models).
	Dir string
	// Stream is the JetStream stream the feed creates and publishes into.
	Stream string
	// SubjectPrefix starts every subject; the stream takes SubjectPrefix.>.
	SubjectPrefix string
	// Replicas of the stream: 1, or 3 on a cluster.
	Replicas int
	// MaxAge is how long downstream systems can come back and still find
	// what they missed. Default 365 days: one assessment cycle and its
	// final figures, which arrive in the spring after the year.
	MaxAge time.Duration
	// DuplicateWindow is how long JetStream remembers message ids. A feed
	// that crashes between a publish and its checkpoint and comes back
	// within the window republishes nothing twice. Default 10 minutes.
	DuplicateWindow time.Duration
	// Retries of a failing message before a data failure goes to the
	// poison subject. Default 3.
	Retries int
	// RetryInterval is the first wait between retries; it doubles up to
	// 5 s. Default 100 ms.
	RetryInterval time.Duration
	// Timeout bounds each JetStream round trip. Default 10 s.
	Timeout time.Duration
	Logger  *slog.Logger
}

func (c *Config) setDefaults() {
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.SubjectPrefix == "" {
		c.SubjectPrefix = DefaultSubjectPrefix
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.MaxAge == 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = DefaultDuplicateWindow
	}
	if c.Retries == 0 {
		c.Retries = 3
	}
	if c.RetryInterval == 0 {
		c.RetryInterval = 100 * time.Millisecond
	}
	if c.Timeout == 0 {
		c.Timeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports every configuration error at once.
func (c Config) Validate() error {
	var errs []error
	if c.Conn == nil {
		errs = append(errs, errors.New("conn is required"))
	}
	if c.Log == nil {
		errs = append(errs, errors.New("log is required"))
	}
	if c.Dir == "" {
		errs = append(errs, errors.New("dir is required"))
	}
	if c.SubjectPrefix != "" && (strings.ContainsAny(c.SubjectPrefix, "*> \t") || strings.HasSuffix(c.SubjectPrefix, ".")) {
		errs = append(errs, fmt.Errorf("subject prefix %q must be literal tokens without a trailing dot", c.SubjectPrefix))
	}
	if c.Replicas < 0 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("replicas must be 1..5, got %d", c.Replicas))
	}
	if c.MaxAge < 0 || c.DuplicateWindow < 0 || c.Retries < 0 || c.RetryInterval < 0 || c.Timeout < 0 {
		errs = append(errs, errors.New("durations and retries must not be negative"))
	}
	if c.MaxAge > 0 && c.DuplicateWindow > c.MaxAge {
		errs = append(errs, errors.New("duplicate window must not exceed max age"))
	}
	return errors.Join(errs...)
}

// PoisonSubject is where a message that keeps failing is set aside, with
// its error. It is inside the stream, so an operator finds it there.
func (c Config) PoisonSubject() string { return c.SubjectPrefix + ".poison" }

// StreamConfig is the stream the feed creates. Every setting is explicit
// so that a server default never decides how long downstream systems have
// to catch up.
func (c Config) StreamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        c.Stream,
		Description: "kpitrail integration events for downstream systems (docs/downstream.md)",
		Subjects:    []string{c.SubjectPrefix + ".>"},
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      c.MaxAge,
		MaxBytes:    -1,
		MaxMsgs:     -1,
		// Age is the only limit, so old messages expire and the feed is
		// never refused for a full stream.
		Discard:    jetstream.DiscardOld,
		Storage:    jetstream.FileStorage,
		Replicas:   c.Replicas,
		Duplicates: c.DuplicateWindow,
		// What was published stays until it ages out: a downstream system
		// that resumes must not find a hole someone cut by hand.
		DenyDelete:  true,
		DenyPurge:   true,
		AllowDirect: true,
	}
}
