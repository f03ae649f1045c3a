package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"xbr/events"
	"xbr/shared/fn"
	"xbr/shared/metrics"
)

// startHealth serves the process's probes on addr until ctx ends:
// GET /healthz answers while the process runs (liveness), GET /readyz
// while ready is nil (readiness). It returns the bound address.
func startHealth(ctx context.Context, addr string, ready metrics.ReadyFunc, log *slog.Logger) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--health-listen %q: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", metrics.Healthz)
	mux.HandleFunc("GET /readyz", metrics.Readyz(ready))
	ServeUntil(ctx, ln, mux, "health listener", log)
	log.Info("serving health probes", "healthz", "http://"+ln.Addr().String()+"/healthz",
		"readyz", "http://"+ln.Addr().String()+"/readyz")
	return ln.Addr(), nil
}

// readiness is ready when every function of the process is: its NATS
// connection is up, JetStream answers it, and each durable consumer its
// role declares (events.Roles) is consuming in this process.
func readiness(envs []*fn.Env, fns []fn.Function) metrics.ReadyFunc {
	return func(ctx context.Context) error {
		for i, f := range fns {
			role, _ := events.RoleOf(f.Name)
			if err := envs[i].Conn.Ready(ctx, role.Durables...); err != nil {
				return fmt.Errorf("function %s: %w", f.Name, err)
			}
		}
		return nil
	}
}

// ServeUntil serves h on ln until ctx ends, then closes the server; what
// names the listener in the log line of an error.
func ServeUntil(ctx context.Context, ln net.Listener, h http.Handler, what string, log *slog.Logger) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error(what, "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
}
