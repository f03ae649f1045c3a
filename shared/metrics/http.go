package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/history"
)

// Handler serves m in the Prometheus text format. The JetStream gauges
// are read within the request's context.
func (m *Metrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g := prometheus.Gatherers{prometheus.GathererFunc(m.gather)}
		if m.lag != nil {
			lag := prometheus.NewRegistry()
			lag.MustRegister(m.lag.Scrape(r.Context()))
			g = append(g, lag)
		}
		promhttp.HandlerFor(g, promhttp.HandlerOpts{Registry: m.reg}).ServeHTTP(w, r)
	})
}

// gather reads every metric between two events, never in the middle of
// one: a scrape that sees a run counted sees its VMs and failures too.
func (m *Metrics) gather() ([]*dto.MetricFamily, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reg.Gather()
}

// ReadyFunc reports why the process is not ready, or nil.
type ReadyFunc func(ctx context.Context) error

// Routes mounts GET /metrics and GET /readyz (200 when ready() is nil,
// 503 with the reason otherwise) on mux. /healthz is Healthz, mounted
// separately because the gateway already answers it.
func Routes(mux *http.ServeMux, m *Metrics, ready ReadyFunc) {
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /readyz", Readyz(ready))
}

// Readyz answers 200 "ready" when ready() is nil within 3 s, else 503
// "not ready: <reason>" (readiness).
func Readyz(ready ReadyFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := ready(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready:", err)
			return
		}
		fmt.Fprintln(w, "ready")
	}
}

// Healthz answers 200 "ok" while the process runs (liveness).
func Healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// Ready is ready when the connection to NATS is up and the streams exist.
func Ready(conn *bus.Conn, streams ...string) ReadyFunc {
	return func(ctx context.Context) error {
		if !conn.NATS().IsConnected() {
			return fmt.Errorf("nats: %s", conn.NATS().Status())
		}
		for _, s := range streams {
			if _, err := conn.JetStream().Stream(ctx, s); err != nil {
				return fmt.Errorf("stream %s: %w", s, err)
			}
		}
		return nil
	}
}

// ForStreams returns the metrics of the backbone behind conn: the event
// counters, the stream and consumer gauges of the streams names, and
// Go/process collectors. Feed must run for the counters to move.
func ForStreams(conn *bus.Conn, names events.StreamNames) *Metrics {
	names = names.WithDefaults()
	m := New(NewLag(conn.JetStream(), names.Events, names.Progress))
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// StreamsReady is Ready for conn and the event and progress streams of
// names.
func StreamsReady(conn *bus.Conn, names events.StreamNames) ReadyFunc {
	names = names.WithDefaults()
	return Ready(conn, names.Events, names.Progress)
}

// Mount is ForStreams, Routes (/metrics, /readyz) and Feed until ctx ends,
// in one call.
func Mount(ctx context.Context, conn *bus.Conn, names events.StreamNames, log *slog.Logger, mux *http.ServeMux) *Metrics {
	m := ForStreams(conn, names)
	Routes(mux, m, StreamsReady(conn, names))
	go Feed(ctx, conn, names, m, log)
	return m
}

// Feed applies the streams to m from their start, following new events,
// and starts over (m ignores what it already counted) if reading fails.
func Feed(ctx context.Context, conn *bus.Conn, names events.StreamNames, m *Metrics, log *slog.Logger) {
	for ctx.Err() == nil {
		fctx, cancel := context.WithCancel(ctx)
		err := history.Follow(fctx, conn, names, m)
		cancel()
		if err == nil || ctx.Err() != nil {
			return
		}
		log.Warn("metrics: following the streams failed; retrying", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}
