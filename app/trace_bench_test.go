package app_test

import (
	"context"
	"fmt"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"kpitrail/app"
	"kpitrail/domain"
	"kpitrail/eventstore"
)

// benchExecute defines indicators through a service wired as serve wires it
// with tp: the CPU of the command path (validate, decide, encode, hash,
// the in-memory append) with and without traces.
func benchExecute(b *testing.B, tp trace.TracerProvider) {
	store := eventstore.NewMemory(nil)
	svc := app.NewService(app.Trace(store, tp))
	svc.Observe = app.TraceCommands(tp)
	ctx := context.Background()
	if _, err := svc.Execute(ctx, meta("setup"), domain.RegisterTask{TaskID: "t3", Year: 2022, Title: "高新技术企业发展", LeadDepartment: "区科委"}, app.Options{}); err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		// A new indicator each time: the cost stays that of one command,
		// not of an aggregate growing with b.N.
		cmd := domain.DefineIndicator{IndicatorID: fmt.Sprint("i", n), TaskID: "t3", Name: "研发投入强度", Unit: "%", Direction: domain.HigherIsBetter}
		if _, err := svc.Execute(ctx, meta(fmt.Sprint("r", n)), cmd, app.Options{}); err != nil {
			b.Fatal(err)
		}
		n++
	}
}

// BenchmarkExecuteTracesOff is serve without OTEL_ variables: the no-op
// provider, so neither the store nor the service is decorated.
func BenchmarkExecuteTracesOff(b *testing.B) { benchExecute(b, noop.NewTracerProvider()) }

// BenchmarkExecuteTracesOn records command and append spans into a batch
// processor whose exporter discards them: the cost of tracing itself.
func BenchmarkExecuteTracesOn(b *testing.B) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	defer tp.Shutdown(context.Background())
	benchExecute(b, tp)
}
