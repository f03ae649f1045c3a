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
	"xbr/shared/fn"
	"xbr/shared/history"
)

// Handler serves m in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(prometheus.GathererFunc(m.gather), promhttp.HandlerOpts{Registry: m.reg})
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
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := ready(ctx); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready:", err)
			return
		}
		fmt.Fprintln(w, "ready")
	})
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

// ForEnv returns the metrics of env's backbone: the event counters, the
// stream and consumer gauges of its streams, and Go/process collectors.
// Feed must run for the counters to move.
func ForEnv(env *fn.Env) *Metrics {
	names := env.Streams.WithDefaults()
	m := New(NewLag(env.Conn.JetStream(), names.Events, names.Progress))
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// EnvReady is Ready for env's connection and streams.
func EnvReady(env *fn.Env) ReadyFunc {
	names := env.Streams.WithDefaults()
	return Ready(env.Conn, names.Events, names.Progress)
}

// Mount is ForEnv, Routes (/metrics, /readyz) and Feed until ctx ends, in
// one call.
func Mount(ctx context.Context, env *fn.Env, mux *http.ServeMux) *Metrics {
	m := ForEnv(env)
	Routes(mux, m, EnvReady(env))
	go Feed(ctx, env.Conn, env.Streams, m, env.Log)
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
