// Package metrics is kpitrail's Prometheus registry: the client library's
// own registry with the Go runtime, process and build-info collectors, the
// latency buckets kpitrail's histograms share, and collectors that read
// state at scrape time (JetStream, in jetstream.go).
//
// The series themselves are registered where they are measured, by
// decorators around the work (app.Instrument around the store, the HTTP
// middleware in httpapi) rather than inside it, so that a tracing
// decorator can wrap the same calls beside them. docs/operations.md lists
// every kpitrail_ series; their names are a public interface.
package metrics

import (
	"errors"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Registry holds every series of one process.
type Registry = prometheus.Registry

// NewRegistry returns a registry with the standard collectors: go_*
// (runtime and memory), process_* (CPU, memory, open files, start time)
// and go_build_info (module path, version, checksum).
func NewRegistry() *Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
	)
	return reg
}

// LatencyBuckets span 100µs to 10s, for every kpitrail latency histogram.
var LatencyBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Register registers c and returns it; when an equal collector is there
// already (a second server on the same registry in a test, say), it
// returns that one, so a series is created once per registry.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // a name reused with other labels or help: a programming error
	}
	return c
}

// Handler serves reg in the exposition formats Prometheus negotiates. A
// collector that fails is reported in the response and logged by the
// caller's handler, not allowed to hide the other series.
func Handler(reg *Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Registry: reg})
}
