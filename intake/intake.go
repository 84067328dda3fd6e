// Package intake takes commands from departments' systems as NATS requests:
// one subject per command (kpitrail.cmd.<command name>), a JSON body, and a
// reply with the result or a problem document. Messages are routed by
// watermill's router with retry, poison-queue and recoverer middleware; the
// command path after decoding is the same as over HTTP.
package intake

import (
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
		if errors.Is(err, auth.ErrBadToken) {
			return Response{}, domain.Unauthorized("unknown or revoked token")
		}
		return Response{}, domain.Internal(err, "authenticate")
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
	if len(key) > 100 {
		return Response{}, domain.Invalid("Idempotency-Key", "max_length", "at most 100 characters")
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
	meta := domain.Meta{Actor: p.Actor(), CommandID: p.TokenID + "/" + key, CorrelationID: msg.Metadata.Get(metaCorr), Source: "nats"}
	if v := msg.Metadata.Get("expected_version"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return Response{}, domain.Invalid("Expected-Version", "version", "must be the aggregate version")
		}
		opts.ExpectedVersion = &n
	}
	res, err := in.cfg.Service.Execute(auth.WithPrincipal(ctx, p), meta, cmd, opts)
	if err != nil {
		return Response{}, err
	}
	return Response{Aggregate: res.Aggregate, Version: res.Version, Position: res.Position, EventIDs: res.EventIDs}, nil
}

// Response is the reply to a successful command.
type Response struct {
	Aggregate domain.AggregateRef `json:"aggregate"`
	Version   uint64              `json:"version"`
	Position  uint64              `json:"position"`
	EventIDs  []string            `json:"event_ids"`
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
	data, _ := json.Marshal(body)
	out := nats.NewMsg(reply)
	out.Data = data
	out.Header.Set(StatusHeader, strconv.Itoa(status))
	if err := in.cfg.Conn.PublishMsg(out); err != nil {
		in.cfg.Logger.Error("intake reply failed", "err", err)
	}
}
