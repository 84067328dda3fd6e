// Package tracing is kpitrail's OpenTelemetry traces: the tracer provider,
// exporting over OTLP when the standard OTEL_ variables name a collector
// and a no-op otherwise, and the W3C trace context that carries one write's
// trace across HTTP, NATS and the stored message to the read models.
//
// Spans are opened by decorators around the work, beside the metrics ones:
// HTTP (in this package, around the whole API), the NATS intake's router
// middleware (intake), the command service and its store (app.Trace,
// app.TraceCommands, app.TraceAuthorize) and the projection runner
// (projections.RunnerOptions.Tracer). Every decorator returns what it
// wraps unchanged when the provider is off, so a server without a
// collector runs exactly the code it ran before traces existed.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Scope is the instrumentation scope of every kpitrail span.
const Scope = "kpitrail"

// Span attributes kpitrail adds to the standard ones. Stable: dashboards
// and trace queries use them.
const (
	AttrCommand        = attribute.Key("kpitrail.command")
	AttrCommandID      = attribute.Key("kpitrail.command_id")
	AttrCorrelationID  = attribute.Key("kpitrail.correlation_id")
	AttrSource         = attribute.Key("kpitrail.source")
	AttrAggregate      = attribute.Key("kpitrail.aggregate")
	AttrExpected       = attribute.Key("kpitrail.expected_version")
	AttrVersion        = attribute.Key("kpitrail.version")
	AttrPosition       = attribute.Key("kpitrail.position")
	AttrEvents         = attribute.Key("kpitrail.events") // event names
	AttrEventCount     = attribute.Key("kpitrail.event_count")
	AttrMessages       = attribute.Key("kpitrail.messages") // stored messages (appends) a projection span covers
	AttrBatchMessages  = attribute.Key("kpitrail.batch_messages")
	AttrRequests       = attribute.Key("kpitrail.requests")
	AttrRequestsFailed = attribute.Key("kpitrail.requests_failed")
)

// Propagator reads and writes the W3C traceparent and tracestate headers:
// on HTTP requests, NATS intake requests and stored event messages.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// Enabled reports whether tp records spans: false for nil and for the
// no-op provider, which the decorators take as "leave the work undecorated".
func Enabled(tp trace.TracerProvider) bool {
	if tp == nil {
		return false
	}
	_, off := tp.(noop.TracerProvider)
	return !off
}

// Config is what the standard OTEL_ environment variables say about
// traces, as far as kpitrail decides on them; the exporter and the SDK
// read the rest themselves (headers, timeout, TLS files, compression,
// sampler, batch sizes, resource attributes).
type Config struct {
	// Export is true when a collector is named and nothing turns traces off.
	Export bool
	// Protocol is "http/protobuf" (the default), "http/json" or "grpc".
	Protocol string
	// Endpoint is the collector as the variables name it, for the log.
	Endpoint string
}

// ConfigFromEnv reads the variables: traces are exported when
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is
// set, unless OTEL_SDK_DISABLED is true or OTEL_TRACES_EXPORTER is none.
// A setting kpitrail cannot honour is an error rather than silence.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c := Config{Protocol: "http/protobuf"}
	endpoint := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if endpoint == "" {
		endpoint = getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
	}
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return c, nil
	}
	switch e := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); e {
	case "", "otlp":
	case "none":
		return c, nil
	default:
		return c, fmt.Errorf("OTEL_TRACES_EXPORTER=%s: kpitrail exports traces over OTLP only (otlp, or none to turn them off)", e)
	}
	if endpoint == "" {
		return c, nil
	}
	c.Export, c.Endpoint = true, endpoint
	if p := getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"); p != "" {
		c.Protocol = p
	} else if p := getenv("OTEL_EXPORTER_OTLP_PROTOCOL"); p != "" {
		c.Protocol = p
	}
	switch c.Protocol {
	case "http/protobuf", "http/json", "grpc":
	default:
		return c, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL=%s: want grpc, http/protobuf or http/json", c.Protocol)
	}
	return c, nil
}

// Provider is the process's tracer provider and how to stop it.
type Provider struct {
	trace.TracerProvider
	shutdown func(context.Context) error
}

// Off is the provider when traces are not exported: the API's no-op, so
// no span is allocated and nothing is propagated.
func Off() *Provider {
	return &Provider{TracerProvider: noop.NewTracerProvider(), shutdown: func(context.Context) error { return nil }}
}

// Use wraps a provider built elsewhere (a test's, with an in-memory
// exporter); its owner shuts it down.
func Use(tp trace.TracerProvider) *Provider {
	return &Provider{TracerProvider: tp, shutdown: func(context.Context) error { return nil }}
}

// Start returns the provider c asks for: Off, or an SDK provider that
// batches spans to the OTLP exporter. The exporter reads the process
// environment for everything but the protocol.
func Start(ctx context.Context, c Config) (*Provider, error) {
	if !c.Export {
		return Off(), nil
	}
	var (
		exp *otlptrace.Exporter
		err error
	)
	switch c.Protocol {
	case "grpc":
		exp, err = otlptracegrpc.New(ctx)
	case "http/json":
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEncoding(otlptracehttp.EncodingJSON))
	default:
		exp, err = otlptracehttp.New(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	// The service's own name and version first, so OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES, read after them, can override.
	res, err := resource.New(ctx,
		resource.WithSchemaURL(semconv.SchemaURL),
		resource.WithAttributes(semconv.ServiceName("kpitrail"), semconv.ServiceVersion(version())),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		_ = exp.Shutdown(ctx)
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return &Provider{TracerProvider: tp, shutdown: tp.Shutdown}, nil
}

// Shutdown exports the spans still buffered and stops the exporter.
func (p *Provider) Shutdown(ctx context.Context) error { return p.shutdown(ctx) }

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
