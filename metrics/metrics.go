// Package metrics is a small Prometheus text-format registry: counters,
// histograms and gauges read at scrape time. kpitrail needs a dozen series;
// a full client library would bring more dependencies than it saves code.
package metrics

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
)

// Registry holds every series of one process.
type Registry struct {
	mu         sync.Mutex
	counters   map[string]*Counter
	histograms map[string]*Histogram
	gauges     map[string]gauge
	help       map[string]string
}

type gauge struct {
	fn func() float64
}

func NewRegistry() *Registry {
	return &Registry{counters: map[string]*Counter{}, histograms: map[string]*Histogram{}, gauges: map[string]gauge{}, help: map[string]string{}}
}

// Counter counts by label values.
type Counter struct {
	mu     sync.Mutex
	labels []string
	values map[string]float64
}

// Counter returns (creating once) the named counter.
func (r *Registry) Counter(name, help string, labels ...string) *Counter {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.counters[name]; ok {
		return c
	}
	c := &Counter{labels: labels, values: map[string]float64{}}
	r.counters[name], r.help[name] = c, help
	return c
}

// Add adds v for the given label values (in the order of the labels).
func (c *Counter) Add(v float64, labelValues ...string) {
	key := labelKey(c.labels, labelValues)
	c.mu.Lock()
	c.values[key] += v
	c.mu.Unlock()
}

func (c *Counter) Inc(labelValues ...string) { c.Add(1, labelValues...) }

// Value returns the current value for the label values.
func (c *Counter) Value(labelValues ...string) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.values[labelKey(c.labels, labelValues)]
}

// Histogram observes durations (seconds) or sizes into fixed buckets.
type Histogram struct {
	mu      sync.Mutex
	buckets []float64
	counts  []uint64
	sum     float64
	count   uint64
}

// DefaultLatencyBuckets span 100µs to 10s.
var DefaultLatencyBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

func (r *Registry) Histogram(name, help string, buckets []float64) *Histogram {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, ok := r.histograms[name]; ok {
		return h
	}
	h := &Histogram{buckets: buckets, counts: make([]uint64, len(buckets))}
	r.histograms[name], r.help[name] = h, help
	return h
}

func (h *Histogram) Observe(v float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, b := range h.buckets {
		if v <= b {
			h.counts[i]++
		}
	}
	h.sum += v
	h.count++
}

// Gauge registers a function read at every scrape.
func (r *Registry) Gauge(name, help string, fn func() float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gauges[name], r.help[name] = gauge{fn: fn}, help
}

// WritePrometheus writes every series in the text exposition format.
func (r *Registry) WritePrometheus(w io.Writer) {
	r.mu.Lock()
	names := make([]string, 0, len(r.help))
	for n := range r.help {
		names = append(names, n)
	}
	sort.Strings(names)
	r.mu.Unlock()
	for _, n := range names {
		r.mu.Lock()
		c, isC := r.counters[n]
		h, isH := r.histograms[n]
		g, isG := r.gauges[n]
		help := r.help[n]
		r.mu.Unlock()
		fmt.Fprintf(w, "# HELP %s %s\n", n, help)
		switch {
		case isC:
			fmt.Fprintf(w, "# TYPE %s counter\n", n)
			c.mu.Lock()
			keys := make([]string, 0, len(c.values))
			for k := range c.values {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				fmt.Fprintf(w, "%s%s %s\n", n, k, num(c.values[k]))
			}
			c.mu.Unlock()
		case isH:
			fmt.Fprintf(w, "# TYPE %s histogram\n", n)
			h.mu.Lock()
			for i, b := range h.buckets {
				fmt.Fprintf(w, "%s_bucket{le=\"%s\"} %d\n", n, num(b), h.counts[i])
			}
			fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %s\n%s_count %d\n", n, h.count, n, num(h.sum), n, h.count)
			h.mu.Unlock()
		case isG:
			fmt.Fprintf(w, "# TYPE %s gauge\n%s %s\n", n, n, num(g.fn()))
		}
	}
}

func labelKey(names, values []string) string {
	if len(names) == 0 {
		return ""
	}
	parts := make([]string, len(names))
	for i, n := range names {
		v := ""
		if i < len(values) {
			v = values[i]
		}
		parts[i] = fmt.Sprintf("%s=%q", n, v)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func num(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return fmt.Sprintf("%g", v)
}
