package projections

import (
	"context"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"kpitrail/eventstore"
	"kpitrail/tracing"
)

// applyFunc applies one batch in one transaction.
type applyFunc func(ctx context.Context, batch []eventstore.Message) (Applied, error)

// traceApply wraps a runner's batches with "project" spans that continue
// the writes' traces. The runner applies events asynchronously, in
// batches that mix writes, so a span cannot simply be the write's child
// in time; each stored message carries its write's trace context in its
// headers (eventstore writes domain.Meta.TraceParent there), and every
// distinct context in a batch gets one span, a child of that write's
// append, covering the batch's transaction: from the write's trace one
// sees when its events became readable. The messages of one append batch
// (an import) share a context, so an import is a few spans, not one per
// row. Messages written untraced get no span; a batch of them costs one
// pass over its headers.
func traceApply(tp trace.TracerProvider, apply applyFunc) applyFunc {
	if !tracing.Enabled(tp) {
		return apply
	}
	tracer := tp.Tracer(tracing.Scope)
	return func(ctx context.Context, batch []eventstore.Message) (Applied, error) {
		type write struct {
			span     trace.Span
			messages int
		}
		var writes []*write
		var byParent map[string]*write
		for _, m := range batch {
			if m.TraceParent == "" {
				continue
			}
			if w := byParent[m.TraceParent]; w != nil {
				w.messages++
				continue
			}
			parent := tracing.Propagator.Extract(ctx, propagation.MapCarrier{"traceparent": m.TraceParent, "tracestate": m.TraceState})
			if !trace.SpanContextFromContext(parent).IsValid() {
				continue // not a trace context: a foreign or damaged header
			}
			_, span := tracer.Start(parent, "project", trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(
				semconv.MessagingSystemKey.String("nats"), semconv.MessagingOperationTypeProcess,
				semconv.MessagingDestinationName(m.Subject), tracing.AttrPosition.Int64(int64(m.Position)),
				tracing.AttrBatchMessages.Int(len(batch))))
			if byParent == nil {
				byParent = map[string]*write{}
			}
			w := &write{span: span, messages: 1}
			byParent[m.TraceParent] = w
			writes = append(writes, w)
		}
		a, err := apply(ctx, batch)
		for _, w := range writes {
			w.span.SetAttributes(tracing.AttrMessages.Int(w.messages))
			if err != nil {
				w.span.SetStatus(codes.Error, err.Error())
			}
			w.span.End()
		}
		return a, err
	}
}
