package metrics

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Lag reads, at scrape time, the state of streams and of every consumer on
// them from JetStream. Each scrape is a collector bound to the scraper's
// context (Scrape), so reading JetStream ends with the request.
type Lag struct {
	js      jetstream.JetStream
	streams []string
	timeout time.Duration

	pending, ackPending, redelivered, msgs, bytes, up *prometheus.Desc
}

var _ prometheus.Collector = scrape{}

// NewLag collects the streams' and their consumers' gauges.
func NewLag(js jetstream.JetStream, streams ...string) *Lag {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("xbr_"+name, help, labels, nil)
	}
	return &Lag{js: js, streams: streams, timeout: 3 * time.Second,
		pending:     d("consumer_pending_messages", "Messages of the stream not yet delivered to the consumer (lag).", "stream", "consumer"),
		ackPending:  d("consumer_ack_pending_messages", "Messages delivered and not yet acknowledged (work in flight).", "stream", "consumer"),
		redelivered: d("consumer_redelivered_messages", "Messages delivered more than once and not yet acknowledged.", "stream", "consumer"),
		msgs:        d("stream_messages", "Messages the stream holds.", "stream"),
		bytes:       d("stream_bytes", "Bytes the stream holds.", "stream"),
		up:          d("stream_up", "1 when the stream's state could be read at this scrape.", "stream"),
	}
}

// Describe sends the descriptors.
func (l *Lag) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{l.pending, l.ackPending, l.redelivered, l.msgs, l.bytes, l.up} {
		ch <- d
	}
}

// Scrape is one scrape of l: a collector that reads JetStream within ctx
// (and at most l's timeout).
func (l *Lag) Scrape(ctx context.Context) prometheus.Collector { return scrape{l: l, ctx: ctx} }

// scrape is a Lag bound to one scrape's context; it lives as long as the
// scrape. It holds the context, against the house rule, because
// prometheus.Collector.Collect takes none: the value is made per request and
// dropped with it, never kept by the Lag.
type scrape struct {
	l   *Lag
	ctx context.Context
}

// Describe sends the descriptors.
func (s scrape) Describe(ch chan<- *prometheus.Desc) { s.l.Describe(ch) }

// Collect reads every stream and consumer; a stream that cannot be read
// reports xbr_stream_up 0.
func (s scrape) Collect(ch chan<- prometheus.Metric) { s.l.collect(s.ctx, ch) }

func (l *Lag) collect(ctx context.Context, ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	for _, name := range l.streams {
		ok := l.collectStream(ctx, ch, name)
		ch <- prometheus.MustNewConstMetric(l.up, prometheus.GaugeValue, b2f(ok), name)
	}
}

func (l *Lag) collectStream(ctx context.Context, ch chan<- prometheus.Metric, name string) bool {
	s, err := l.js.Stream(ctx, name)
	if err != nil {
		return false
	}
	st := s.CachedInfo().State
	ch <- prometheus.MustNewConstMetric(l.msgs, prometheus.GaugeValue, float64(st.Msgs), name)
	ch <- prometheus.MustNewConstMetric(l.bytes, prometheus.GaugeValue, float64(st.Bytes), name)
	infos := s.ListConsumers(ctx)
	for ci := range infos.Info() {
		if ci.Config.Durable == "" {
			continue // ephemeral readers (history, watches) are not work
		}
		c := ci.Name
		ch <- prometheus.MustNewConstMetric(l.pending, prometheus.GaugeValue, float64(ci.NumPending), name, c)
		ch <- prometheus.MustNewConstMetric(l.ackPending, prometheus.GaugeValue, float64(ci.NumAckPending), name, c)
		ch <- prometheus.MustNewConstMetric(l.redelivered, prometheus.GaugeValue, float64(ci.NumRedelivered), name, c)
	}
	return infos.Err() == nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
