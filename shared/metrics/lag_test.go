package metrics_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"xbr/events"
	"xbr/shared/metrics"
	"xbr/shared/testsupport"
)

// streamUp gathers one scrape of lag with ctx and returns the value of
// xbr_stream_up for stream, or -1.
func streamUp(t *testing.T, lag *metrics.Lag, ctx context.Context, stream string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(lag.Scrape(ctx))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "xbr_stream_up" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "stream" && l.GetValue() == stream {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return -1
}

// TestLagScrapeUsesTheCallersContext: a scrape reads JetStream within the
// scraper's context, so a scrape whose request has gone reads nothing (the
// stream reports down) instead of running on for its own timeout.
func TestLagScrapeUsesTheCallersContext(t *testing.T) {
	conn := testsupport.StartNATS(t)
	lag := metrics.NewLag(conn.JetStream(), events.DefaultEventsStream)
	if up := streamUp(t, lag, context.Background(), events.DefaultEventsStream); up != 1 {
		t.Fatalf("stream_up with a live context = %v, want 1", up)
	}
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	if up := streamUp(t, lag, gone, events.DefaultEventsStream); up != 0 {
		t.Errorf("stream_up with a cancelled context = %v, want 0", up)
	}
}
