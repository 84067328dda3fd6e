package app

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/tracing"
)

// commandSpanKey marks a context inside a traced command, so the
// authorization asked for it is traced too, while the many authorizations
// of one ExecuteMany (an import of a hundred thousand rows) are not each a
// span.
type commandSpanKey struct{}

// TraceCommands returns an Observe for Service that opens a span per
// command, "command <name>", around loading, authorizing, deciding and
// appending; its attributes name the command and, once done, the version
// and position it produced or the code of its refusal. Nil when tp is off.
func TraceCommands(tp trace.TracerProvider) func(context.Context, domain.Meta, domain.Command) (context.Context, func(Result, error)) {
	if !tracing.Enabled(tp) {
		return nil
	}
	tracer := tp.Tracer(tracing.Scope)
	return func(ctx context.Context, meta domain.Meta, cmd domain.Command) (context.Context, func(Result, error)) {
		attrs := []attribute.KeyValue{tracing.AttrCommand.String(cmd.CommandName()), tracing.AttrAggregate.String(cmd.Target().String()),
			tracing.AttrCommandID.String(meta.CommandID), tracing.AttrSource.String(meta.Source)}
		if meta.CorrelationID != "" {
			attrs = append(attrs, tracing.AttrCorrelationID.String(meta.CorrelationID))
		}
		ctx, span := tracer.Start(ctx, "command "+cmd.CommandName(), trace.WithAttributes(attrs...))
		return context.WithValue(ctx, commandSpanKey{}, true), func(r Result, err error) {
			if err == nil {
				names := make([]string, len(r.Events))
				for i, e := range r.Events {
					names[i] = e.Name
				}
				span.SetAttributes(tracing.AttrVersion.Int64(int64(r.Version)), tracing.AttrPosition.Int64(int64(r.Position)), tracing.AttrEvents.StringSlice(names))
			}
			endSpan(span, err)
		}
	}
}

// TraceAuthorize wraps the service's authorization with an "authorize"
// span, inside a traced command. f itself when tp is off or f is nil.
func TraceAuthorize(tp trace.TracerProvider, f AuthorizeFunc) AuthorizeFunc {
	if !tracing.Enabled(tp) || f == nil {
		return f
	}
	tracer := tp.Tracer(tracing.Scope)
	return func(ctx context.Context, meta domain.Meta, cmd domain.Command, target domain.Aggregate, deps []domain.Aggregate) error {
		if ctx.Value(commandSpanKey{}) == nil {
			return f(ctx, meta, cmd, target, deps)
		}
		ctx, span := tracer.Start(ctx, "authorize")
		err := f(ctx, meta, cmd, target, deps)
		endSpan(span, err)
		return err
	}
}

// traced opens a span around every append and writes the span's trace
// context into the meta the store stores with the message, which is how
// the projection of the events finds the write's trace.
type traced struct {
	Store
	tracer trace.Tracer
}

// Trace wraps a store with append spans; s itself when tp is off.
func Trace(s Store, tp trace.TracerProvider) Store {
	if !tracing.Enabled(tp) {
		return s
	}
	return &traced{Store: s, tracer: tp.Tracer(tracing.Scope)}
}

func (s *traced) Append(ctx context.Context, ref domain.AggregateRef, expected uint64, meta domain.Meta, events ...domain.Pending) ([]domain.Envelope, error) {
	ctx, span := s.tracer.Start(ctx, "append", trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(
		semconv.MessagingSystemKey.String("nats"), tracing.AttrAggregate.String(ref.String()),
		tracing.AttrExpected.Int64(int64(expected)), tracing.AttrEventCount.Int(len(events))))
	meta.TraceParent, meta.TraceState = carry(ctx)
	envs, err := s.Store.Append(ctx, ref, expected, meta, events...)
	if len(envs) > 0 {
		last := envs[len(envs)-1]
		span.SetAttributes(tracing.AttrVersion.Int64(int64(last.AggregateVersion)), tracing.AttrPosition.Int64(int64(last.Position)))
	}
	endSpan(span, err)
	return envs, err
}

// AppendMany is one span for the whole call (one group of atomic
// batches), not one per request.
func (s *traced) AppendMany(ctx context.Context, reqs []eventstore.AppendRequest) []eventstore.AppendResult {
	bs, ok := s.Store.(BatchStore)
	if !ok {
		out := make([]eventstore.AppendResult, len(reqs))
		for i, r := range reqs {
			out[i].Envelopes, out[i].Err = s.Append(ctx, r.Ref, r.Expected, r.Meta, r.Events...)
		}
		return out
	}
	ctx, span := s.tracer.Start(ctx, "append batch", trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(
		semconv.MessagingSystemKey.String("nats"), tracing.AttrRequests.Int(len(reqs))))
	parent, state := carry(ctx)
	stamped := make([]eventstore.AppendRequest, len(reqs))
	for i, r := range reqs {
		r.Meta.TraceParent, r.Meta.TraceState = parent, state
		stamped[i] = r
	}
	out := bs.AppendMany(ctx, stamped)
	failed := 0
	var internal error
	for _, r := range out {
		if r.Err != nil {
			failed++
			if c := domain.ErrorCode(r.Err); internal == nil && (c == domain.EINTERNAL || c == domain.EUNAVAILABLE) {
				internal = r.Err
			}
		}
	}
	span.SetAttributes(tracing.AttrRequestsFailed.Int(failed))
	endSpan(span, internal)
	return out
}

// carry is ctx's span context as W3C headers.
func carry(ctx context.Context) (traceparent, tracestate string) {
	c := propagation.MapCarrier{}
	tracing.Propagator.Inject(ctx, c)
	return c["traceparent"], c["tracestate"]
}

// endSpan ends a span with its outcome. A refusal (invalid, forbidden,
// conflict, …) is named by error.type but is not the span's error: it is
// the system answering as designed. Only failures the server could not
// handle (internal, unavailable) mark it failed.
func endSpan(span trace.Span, err error) {
	if err != nil {
		code := domain.ErrorCode(err)
		span.SetAttributes(semconv.ErrorTypeKey.String(string(code)))
		if code == domain.EINTERNAL || code == domain.EUNAVAILABLE {
			span.SetStatus(codes.Error, err.Error())
		}
	}
	span.End()
}
