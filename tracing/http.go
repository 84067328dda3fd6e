package tracing

import (
	"net/http"
	"strconv"
	"strings"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// HTTP opens a server span around every request next serves, continuing
// the caller's trace when the request carries a traceparent. The span is
// named after the route the mux matched ("POST /v1/indicators/{id}/figures"),
// known only once the mux has routed, so it is renamed after the handler
// returns; a request no route matched keeps the bare method. Probes and
// scrapes (Untraced) get no span: they would be most of every trace store.
// With tp off it returns next itself.
func HTTP(tp trace.TracerProvider, next http.Handler) http.Handler {
	if !Enabled(tp) {
		return next
	}
	tracer := tp.Tracer(Scope)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if Untraced[r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		ctx := Propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(semconv.HTTPRequestMethodKey.String(r.Method), semconv.URLPath(r.URL.Path)))
		defer span.End()
		rec := &statusWriter{ResponseWriter: w}
		r = r.WithContext(ctx)
		next.ServeHTTP(rec, r)
		// ServeMux records the pattern it matched on the request it was given.
		if route := r.Pattern; route != "" {
			span.SetName(route)
			if _, path, ok := strings.Cut(route, " "); ok {
				route = path
			}
			span.SetAttributes(semconv.HTTPRoute(route))
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		span.SetAttributes(semconv.HTTPResponseStatusCode(status))
		// A server span is in error for 5xx only: a 4xx is the caller's
		// mistake, answered as designed (the problem document says which).
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
			span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(status)))
		}
	})
}

// Untraced are the paths HTTP opens no span for: health probes and the
// Prometheus scrape, each asked every few seconds.
var Untraced = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// statusWriter remembers the status and passes Flush through, which the
// change feed's server-sent events need.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
