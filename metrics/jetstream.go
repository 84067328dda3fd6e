package metrics

import (
	"github.com/nats-io/nats-server/v2/server"
	"github.com/prometheus/client_golang/prometheus"
)

// JetStreamCollector reports the embedded NATS server's JetStream figures
// at every scrape, from the server's own monitoring state (the /jsz
// report, read in process): storage used against its limit, and per stream
// its messages and bytes against its limits, and per durable consumer what
// it has still to receive and to acknowledge. These are what an operator
// alerts on first: a full store refuses every append.
//
// Only durable consumers are reported: ephemeral ones (ordered readers,
// replays) come and go with random names, and the read models' own lag is
// kpitrail_projection_lag_events.
type JetStreamCollector struct {
	srv *server.Server

	storeUsed, storeLimit, memUsed, memLimit *prometheus.Desc
	streamMsgs, streamBytes                  *prometheus.Desc
	streamMaxBytes, streamMaxMsgs            *prometheus.Desc
	consumerPending, consumerAckPending      *prometheus.Desc
	consumerRedelivered                      *prometheus.Desc
	up                                       *prometheus.Desc
}

// NewJetStreamCollector reads srv, an embedded server with JetStream.
func NewJetStreamCollector(srv *server.Server) *JetStreamCollector {
	stream := []string{"stream"}
	consumer := []string{"stream", "consumer"}
	return &JetStreamCollector{
		srv:         srv,
		up:          prometheus.NewDesc("kpitrail_jetstream_up", "1 when the embedded server's JetStream state could be read at this scrape", nil, nil),
		storeUsed:   prometheus.NewDesc("kpitrail_jetstream_storage_used_bytes", "File storage JetStream uses on the embedded server", nil, nil),
		storeLimit:  prometheus.NewDesc("kpitrail_jetstream_storage_limit_bytes", "File storage JetStream may use on the embedded server (max_store)", nil, nil),
		memUsed:     prometheus.NewDesc("kpitrail_jetstream_memory_used_bytes", "Memory storage JetStream uses on the embedded server", nil, nil),
		memLimit:    prometheus.NewDesc("kpitrail_jetstream_memory_limit_bytes", "Memory storage JetStream may use on the embedded server (max_memory)", nil, nil),
		streamMsgs:  prometheus.NewDesc("kpitrail_jetstream_stream_messages", "Messages stored in the stream", stream, nil),
		streamBytes: prometheus.NewDesc("kpitrail_jetstream_stream_bytes", "Bytes stored in the stream", stream, nil),
		streamMaxBytes: prometheus.NewDesc("kpitrail_jetstream_stream_max_bytes",
			"The stream's byte limit; absent when it has none", stream, nil),
		streamMaxMsgs: prometheus.NewDesc("kpitrail_jetstream_stream_max_messages",
			"The stream's message limit; absent when it has none", stream, nil),
		consumerPending: prometheus.NewDesc("kpitrail_jetstream_consumer_pending_messages",
			"Messages in the stream that the durable consumer has not been delivered yet", consumer, nil),
		consumerAckPending: prometheus.NewDesc("kpitrail_jetstream_consumer_ack_pending_messages",
			"Messages delivered to the durable consumer and not yet acknowledged", consumer, nil),
		consumerRedelivered: prometheus.NewDesc("kpitrail_jetstream_consumer_redelivered_messages",
			"Messages delivered to the durable consumer more than once and not yet acknowledged", consumer, nil),
	}
}

func (c *JetStreamCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.storeUsed, c.storeLimit, c.memUsed, c.memLimit, c.streamMsgs, c.streamBytes,
		c.streamMaxBytes, c.streamMaxMsgs, c.consumerPending, c.consumerAckPending, c.consumerRedelivered} {
		ch <- d
	}
}

func (c *JetStreamCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	info, err := c.srv.Jsz(&server.JSzOptions{Accounts: true, Streams: true, Consumer: true, Config: true})
	if err != nil || info.Disabled {
		gauge(c.up, 0)
		return
	}
	gauge(c.up, 1)
	gauge(c.storeUsed, float64(info.Store))
	gauge(c.storeLimit, float64(info.Config.MaxStore))
	gauge(c.memUsed, float64(info.Memory))
	gauge(c.memLimit, float64(info.Config.MaxMemory))
	seen := map[string]bool{} // a stream name twice (two accounts) would break the scrape
	for _, acc := range info.AccountDetails {
		for _, s := range acc.Streams {
			if seen[s.Name] {
				continue
			}
			seen[s.Name] = true
			gauge(c.streamMsgs, float64(s.State.Msgs), s.Name)
			gauge(c.streamBytes, float64(s.State.Bytes), s.Name)
			if s.Config != nil && s.Config.MaxBytes > 0 {
				gauge(c.streamMaxBytes, float64(s.Config.MaxBytes), s.Name)
			}
			if s.Config != nil && s.Config.MaxMsgs > 0 {
				gauge(c.streamMaxMsgs, float64(s.Config.MaxMsgs), s.Name)
			}
			for _, ci := range s.Consumer {
				if ci == nil || ci.Config == nil || ci.Config.Durable == "" {
					continue
				}
				gauge(c.consumerPending, float64(ci.NumPending), s.Name, ci.Name)
				gauge(c.consumerAckPending, float64(ci.NumAckPending), s.Name, ci.Name)
				gauge(c.consumerRedelivered, float64(ci.NumRedelivered), s.Name, ci.Name)
			}
		}
	}
}
