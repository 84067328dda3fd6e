package intake

import (
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"kpitrail/tracing"
)

// traceRequests is the router middleware that opens a span per request,
// "process kpitrail.cmd.<command>", continuing the requester's trace when
// the request carries a traceparent. It sits outside the retries, so one
// request is one span however often it is tried. Nil when tp is off.
func traceRequests(tp trace.TracerProvider) message.HandlerMiddleware {
	if !tracing.Enabled(tp) {
		return nil
	}
	tracer := tp.Tracer(tracing.Scope)
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			subject := msg.Metadata.Get(metaSubject)
			ctx := tracing.Propagator.Extract(msg.Context(), propagation.MapCarrier{
				HeaderTraceParent: msg.Metadata.Get(metaTraceParent), HeaderTraceState: msg.Metadata.Get(metaTraceState)})
			ctx, span := tracer.Start(ctx, "process "+subject, trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(
				semconv.MessagingSystemKey.String("nats"), semconv.MessagingOperationTypeProcess,
				semconv.MessagingDestinationName(subject), semconv.MessagingMessageBodySize(len(msg.Payload))))
			defer span.End()
			msg.SetContext(ctx)
			out, err := h(msg)
			// The poison queue, inside this middleware, swallows the error
			// of a request that failed every retry; its reason stays on the
			// message.
			if reason := msg.Metadata.Get(middleware.ReasonForPoisonedKey); err != nil || reason != "" {
				if err != nil {
					reason = err.Error()
				}
				span.SetStatus(codes.Error, reason)
			}
			return out, err
		}
	}
}
