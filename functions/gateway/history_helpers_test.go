package gateway_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/gateway"
	"xbr/shared/bus"
	"xbr/shared/bus/natsserver"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/testsupport"
)

// served is a gateway answering on a real listener through Serve (which
// feeds the history projection and the metrics) on an embedded NATS.
type served struct {
	env  *fn.Env
	base string
	seq  int
}

func serveGateway(t testing.TB) *served { t.Helper(); return serveGatewayWith(t, "") }

// serveGatewayWith is serveGateway with gateway settings (YAML flow
// mapping entries, "history_runs: 1").
func serveGatewayWith(t testing.TB, gatewaySettings string) *served {
	t.Helper()
	return serveGatewayOn(t, "http://127.0.0.1:9", gatewaySettings)
}

// serveGatewayOn is serveGatewayWith with the pool lab at poolURL (a
// simulator's, whose password is xapisim).
func serveGatewayOn(t testing.TB, poolURL, gatewaySettings string) *served {
	t.Helper()
	ns, err := natsserver.StartServer(natsserver.ServerConfig{Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	log := slog.New(slog.DiscardHandler)
	conn, err := bus.Connect(ns.ClientURL(), bus.ConnectOptions{Name: t.Name()}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	cfg, err := config.Parse("test.yaml", []byte(fmt.Sprintf(`pools: [{name: lab, url: %q, username: root, password: xapisim}]
remotes: [{name: nfs, type: dir, path: %q}]
jobs:
  - {name: nightly, pools: [lab], remotes: [nfs], schedules: [{name: daily, cron: "0 2 * * *", retention: 3}]}
gateway: {%s}
`, poolURL, t.TempDir(), gatewaySettings)))
	if err != nil {
		t.Fatal(err)
	}
	env := &fn.Env{Config: cfg, Conn: conn, Log: log, Now: time.Now,
		Pools: fn.NewPools(cfg.Pools, log), Remotes: fn.NewRemotes(cfg.Remotes, testsupport.OpenDir)}
	ctx, cancel := context.WithCancel(context.Background())
	if err := conn.EnsureStreams(ctx, env.Topology()); err != nil {
		t.Fatal(err)
	}
	s, err := gateway.New(env)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &served{env: env, base: "http://" + ln.Addr().String()}
}

// publish stores p as happening at at, as the function that owns it would.
func (g *served) publish(t testing.TB, at time.Time, p events.Payload) {
	t.Helper()
	g.seq++
	msg, err := g.env.Subjects.Message(events.Meta{ID: events.DeriveID("history-test", fmt.Sprint(g.seq)),
		Source: events.Source("test"), Time: at}, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.env.Conn.Publish(context.Background(), msg.Subject, msg.Event); err != nil {
		t.Fatal(err)
	}
}

func (g *served) get(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(g.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// waitPage polls path until it answers 200 with all of want, and returns it.
func (g *served) waitPage(t testing.TB, path string, want ...string) string {
	t.Helper()
	return g.waitUntil(t, path, fmt.Sprintf("%q", want), func(page string) bool { return containsAll(page, want) })
}

// waitUntil polls path until it answers 200 with a page for which ok holds
// (the lifecycle and progress streams are applied independently).
func (g *served) waitUntil(t testing.TB, path, what string, ok func(page string) bool) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, page := g.get(t, path)
		if code == http.StatusOK && ok(page) {
			return page
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: status %d, want 200 with %s:\n%s", path, code, what, page)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func containsAll(s string, want []string) bool {
	for _, w := range want {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}
