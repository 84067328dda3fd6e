package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/metrics"
)

// instrumented measures appends around any store: latency, conflicts and
// failures, without the store or the service knowing about metrics. It
// is one decorator of Store; others (tracing) wrap the same interface.
type instrumented struct {
	Store
	latency   prometheus.Histogram
	outcomes  *prometheus.CounterVec
	conflicts prometheus.Counter
}

// Instrument wraps a store with append metrics registered on reg.
func Instrument(s Store, reg prometheus.Registerer) Store {
	return &instrumented{
		Store: s,
		latency: metrics.Register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kpitrail_append_seconds", Help: "Event store append latency", Buckets: metrics.LatencyBuckets})),
		outcomes: metrics.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kpitrail_appends_total", Help: "Event store appends by outcome"}, []string{"outcome"})),
		conflicts: metrics.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kpitrail_append_conflicts_total", Help: "Appends refused by the concurrency check"})),
	}
}

func (s *instrumented) Append(ctx context.Context, ref domain.AggregateRef, expected uint64, meta domain.Meta, events ...domain.Pending) ([]domain.Envelope, error) {
	start := time.Now()
	envs, err := s.Store.Append(ctx, ref, expected, meta, events...)
	s.latency.Observe(time.Since(start).Seconds())
	s.count(err)
	return envs, err
}

func (s *instrumented) count(err error) {
	switch code := domain.ErrorCode(err); code {
	case "":
		s.outcomes.WithLabelValues("ok").Inc()
	case domain.ECONFLICT:
		s.conflicts.Inc()
		s.outcomes.WithLabelValues("conflict").Inc()
	default:
		s.outcomes.WithLabelValues(string(code)).Inc()
	}
}

// AppendMany keeps batch appends measured: one latency observation per
// call, one outcome per request. A store without AppendMany gets the
// requests one by one, which is what ExecuteMany would do anyway.
func (s *instrumented) AppendMany(ctx context.Context, reqs []eventstore.AppendRequest) []eventstore.AppendResult {
	bs, ok := s.Store.(BatchStore)
	if !ok {
		out := make([]eventstore.AppendResult, len(reqs))
		for i, r := range reqs {
			out[i].Envelopes, out[i].Err = s.Append(ctx, r.Ref, r.Expected, r.Meta, r.Events...)
		}
		return out
	}
	start := time.Now()
	out := bs.AppendMany(ctx, reqs)
	s.latency.Observe(time.Since(start).Seconds())
	for _, r := range out {
		s.count(r.Err)
	}
	return out
}
