package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"go.opentelemetry.io/otel"

	"kpitrail/tracing"
)

// startTracing settles the tracer provider serve runs with and stores it
// in cfg for every component to decorate itself with: the one a test put
// there, or what the standard OTEL_ variables ask for (off unless they
// name a collector).
func startTracing(ctx context.Context, cfg *ServeConfig, log *slog.Logger) (*tracing.Provider, error) {
	if cfg.tracer != nil {
		return tracing.Use(cfg.tracer), nil
	}
	p, err := tracing.Start(ctx, cfg.Tracing)
	if err != nil {
		return nil, err
	}
	cfg.tracer = p.TracerProvider
	if cfg.Tracing.Export {
		// The SDK reports export failures (a collector down) through the
		// process-wide handler; one line a minute says enough.
		otel.SetErrorHandler(&exportErrors{log: log})
		log.Info("exporting traces over OTLP", "endpoint", cfg.Tracing.Endpoint, "protocol", cfg.Tracing.Protocol)
	}
	return p, nil
}

// exportErrors logs the trace SDK's errors, at most one a minute, with a
// count of those held back.
type exportErrors struct {
	log  *slog.Logger
	mu   sync.Mutex
	last time.Time
	held int
}

func (h *exportErrors) Handle(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if time.Since(h.last) < time.Minute {
		h.held++
		return
	}
	h.log.Warn("trace export failed", "err", err, "more_since_last", h.held)
	h.last, h.held = time.Now(), 0
}
