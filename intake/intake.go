// Package intake takes commands from departments' systems as NATS requests:
// one subject per command (kpitrail.cmd.<command name>), a JSON body, and a
// reply with the result or a problem document. Messages are routed by
// watermill's router with retry, poison-queue and recoverer middleware; the
// command path after decoding is the same as over HTTP.
package intake

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/trace"

	"kpitrail/app"
	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/internal/jsonin"
	"kpitrail/internal/problem"
)

// Subjects.
const (
	SubjectPrefix = "kpitrail.cmd."
	PoisonSubject = "kpitrail.intake.poison"
	// ReplyPrefix starts every subject the intake answers on.
	ReplyPrefix = "_INBOX."
	// StatusHeader carries the HTTP-equivalent status of a reply.
	StatusHeader = "Kpitrail-Status"
)

// Metadata keys set by the unmarshaler.
const (
	metaReply   = "nats_reply"
	metaSubject = "nats_subject"
	metaAuth    = "authorization"
	metaKey     = "idempotency_key"
	metaCorr    = "correlation_id"
	// The expected version, under either header name.
	metaExpected = "expected_version"
	metaIfMatch  = "if_match"
	// The requester's trace context, for the tracing middleware.
	metaTraceParent = "traceparent"
	metaTraceState  = "tracestate"
)

// Authenticator resolves a bearer token.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (auth.Principal, error)
}

// Config wires the intake.
type Config struct {
	Conn    *nats.Conn
	Service *app.Service
	Auth    Authenticator
	Logger  *slog.Logger
	// Retries of transient (internal) failures before the poison queue.
	Retries int
	// MaxBodyBytes bounds a request. Default 512 KiB, as over HTTP.
	MaxBodyBytes int
	// Tracer, when it records, opens a span per request (trace.go).
	Tracer trace.TracerProvider
}

// Intake is a running command intake.
type Intake struct {
	cfg    Config
	router *message.Router
	sub    *wmnats.Subscriber
	pub    *wmnats.Publisher
}

// Start subscribes and starts the router; it returns once the router runs.
func Start(ctx context.Context, cfg Config) (*Intake, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 512 << 10
	}
	logger := watermill.NewSlogLogger(cfg.Logger)
	sub, err := wmnats.NewSubscriberWithNatsConn(cfg.Conn, wmnats.SubscriberSubscriptionConfig{
		Unmarshaler:      requestUnmarshaler{},
		SubscribersCount: 4,
		AckWaitTimeout:   30 * time.Second,
		CloseTimeout:     10 * time.Second,
		SubjectCalculator: func(queueGroupPrefix, topic string) *wmnats.SubjectDetail {
			// A queue group, so several kpitrail instances share the intake.
			return &wmnats.SubjectDetail{Primary: topic, QueueGroup: "kpitrail-intake"}
		},
		JetStream: wmnats.JetStreamConfig{Disabled: true},
	}, logger)
	if err != nil {
		return nil, fmt.Errorf("intake subscriber: %w", err)
	}
	pub, err := wmnats.NewPublisherWithNatsConn(cfg.Conn, wmnats.PublisherPublishConfig{
		Marshaler: &wmnats.NATSMarshaler{}, JetStream: wmnats.JetStreamConfig{Disabled: true},
	}, logger)
	if err != nil {
		return nil, fmt.Errorf("intake publisher: %w", err)
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 10 * time.Second}, logger)
	if err != nil {
		return nil, err
	}
	in := &Intake{cfg: cfg, router: router, sub: sub, pub: pub}
	poison, err := middleware.PoisonQueue(pub, PoisonSubject)
	if err != nil {
		return nil, err
	}
	// Outermost first: a message that still fails after the retries gets a
	// 500 reply (so the requester is not left waiting), then goes to the
	// poison queue for an operator. Recoverer turns a panic into an error the
	// retry can see.
	if mw := traceRequests(cfg.Tracer); mw != nil {
		router.AddMiddleware(mw)
	}
	router.AddMiddleware(
		poison,
		in.replyOnFailure,
		middleware.Retry{MaxRetries: cfg.Retries, InitialInterval: 50 * time.Millisecond, Logger: logger,
			ShouldRetry: func(p middleware.RetryParams) bool { return errors.Is(p.Err, errTransient) }}.Middleware,
		middleware.Recoverer,
	)
	router.AddConsumerHandler("command-intake", SubjectPrefix+">", sub, in.handle)
	go func() {
		if err := router.Run(context.WithoutCancel(ctx)); err != nil {
			cfg.Logger.Error("intake router stopped", "err", err)
		}
	}()
	select {
	case <-router.Running():
		return in, nil
	case <-time.After(10 * time.Second):
		_ = router.Close()
		return nil, errors.New("intake router did not start")
	}
}

// Close stops the router, letting in-flight commands finish.
func (in *Intake) Close() error {
	return errors.Join(in.router.Close(), in.pub.Close())
}

// errTransient marks failures worth retrying (the store was unreachable, a
// timeout): domain refusals are answered at once.
var errTransient = errors.New("transient")

func (in *Intake) handle(msg *message.Message) error {
	ctx := msg.Context()
	name := strings.TrimPrefix(msg.Metadata.Get(metaSubject), SubjectPrefix)
	res, err := in.execute(ctx, name, msg)
	if err != nil {
		if domain.ErrorCode(err) == domain.EINTERNAL {
			return fmt.Errorf("%w: %s: %v", errTransient, name, err)
		}
		in.replyProblem(msg, err)
		return nil
	}
	in.reply(msg, 200, res)
	return nil
}

func (in *Intake) execute(ctx context.Context, name string, msg *message.Message) (Response, error) {
	token, ok := strings.CutPrefix(msg.Metadata.Get(metaAuth), "Bearer ")
	if !ok || token == "" {
		return Response{}, domain.Unauthorized("send the header Authorization: Bearer <token>")
	}
	p, err := in.cfg.Auth.Authenticate(ctx, token)
	if err != nil {
		return Response{}, auth.Refusal(err)
	}
	cmd, ok := domain.NewCommand(name)
	if !ok {
		return Response{}, domain.NotFound("no command %q; subjects are %s<command>", name, SubjectPrefix)
	}
	if len(msg.Payload) > in.cfg.MaxBodyBytes {
		return Response{}, &domain.Error{Code: domain.ETOOLARGE, Field: "body", Rule: "max_bytes", Message: "request exceeds the size limit"}
	}
	if err := jsonin.Decode(msg.Payload, cmd); err != nil {
		return Response{}, err
	}
	key := msg.Metadata.Get(metaKey)
	if len(key) > MaxIdempotencyKey {
		return Response{}, domain.Invalid(HeaderIdempotencyKey, "max_length", "at most 100 characters")
	}
	var opts app.Options
	if key != "" {
		opts.Request = app.RequestDigest("NATS", msg.Metadata.Get(metaSubject), cmd)
	}
	if key == "" {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		key = "auto-" + hex.EncodeToString(b)
	}
	meta := domain.Meta{Actor: p.Actor(), ActorTokenID: p.TokenID, CommandID: p.TokenID + "/" + key, CorrelationID: msg.Metadata.Get(metaCorr), Source: "nats"}
	versioned, err := expectedVersion(msg)
	if err != nil {
		return Response{}, err
	}
	opts.ExpectedVersion = versioned.ExpectedVersion
	res, err := in.cfg.Service.Execute(auth.WithPrincipal(ctx, p), meta, cmd, opts)
	if err != nil {
		return Response{}, err
	}
	return Response{Aggregate: res.Aggregate, Version: res.Version, Position: res.Position, EventIDs: res.EventIDs,
		Created: app.Created(cmd)}, nil
}

// expectedVersion reads If-Match (HTTP's name) or Expected-Version; a
// request carrying both must give the same version in each.
func expectedVersion(msg *message.Message) (app.Options, error) {
	var opts app.Options
	for _, h := range []struct{ name, meta string }{{HeaderIfMatch, metaIfMatch}, {HeaderExpectedVersion, metaExpected}} {
		v := msg.Metadata.Get(h.meta)
		if v == "" {
			continue
		}
		n, err := app.ParseExpectedVersion(h.name, v)
		if err != nil {
			return app.Options{}, err
		}
		if opts.ExpectedVersion != nil && *opts.ExpectedVersion != *n {
			return app.Options{}, domain.Invalid(h.name, "matches_if_match", "%s says %d, If-Match says %d: send one of them", h.name, *n, *opts.ExpectedVersion)
		}
		opts.ExpectedVersion = n
	}
	return opts, nil
}

// Response is the reply to a successful command.
type Response struct {
	Aggregate domain.AggregateRef `json:"aggregate"`
	Version   uint64              `json:"version"`
	Position  uint64              `json:"position"`
	EventIDs  []string            `json:"event_ids"`
	// Created names what the command created by its id field (task_id,
	// indicator_id, problem_id).
	Created map[string]string `json:"created,omitempty"`
}

func (in *Intake) replyOnFailure(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := h(msg)
		if err != nil {
			in.cfg.Logger.Error("intake command failed after retries", "subject", msg.Metadata.Get(metaSubject), "err", err)
			in.replyProblem(msg, domain.Internal(err, "command failed"))
		}
		return out, err
	}
}

func (in *Intake) replyProblem(msg *message.Message, err error) {
	p := problem.From(err, msg.Metadata.Get(metaSubject))
	in.reply(msg, p.Status, p)
}

func (in *Intake) reply(msg *message.Message, status int, body any) {
	reply := msg.Metadata.Get(metaReply)
	if reply == "" {
		return // a plain publish: nobody to answer
	}
	// A requester names its reply subject. Answering anywhere but an inbox
	// would let it have kpitrail publish onto an event subject or a
	// $JS.API subject under kpitrail's name; the NATS permissions refuse
	// that too (package natsauth), this holds on any cluster.
	if !strings.HasPrefix(reply, ReplyPrefix) {
		in.cfg.Logger.Warn("intake: reply subject is not an inbox; not answered", "subject", msg.Metadata.Get(metaSubject), "reply", reply)
		return
	}
	// Not HTML-escaped: a reply is read by programs and people at a
	// terminal (nats req), never put in a page, so "<token>" stays legible.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body)
	data := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	out := nats.NewMsg(reply)
	out.Data = data
	out.Header.Set(StatusHeader, strconv.Itoa(status))
	if err := in.cfg.Conn.PublishMsg(out); err != nil {
		in.cfg.Logger.Error("intake reply failed", "err", err)
	}
}
