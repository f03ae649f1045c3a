package serve_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/bus/natsserver"
	"xbr/shared/cli/serve"
	"xbr/shared/fn"
	"xbr/shared/testsupport"
)

// logField is the value of key in the first JSON log line of logs whose
// msg is msg.
func logField(logs *testsupport.SyncBuffer, msg, key string) string {
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == msg {
			s, _ := line[key].(string)
			return s
		}
	}
	return ""
}

// probe is the status and body of GET url (0 when it cannot connect).
func probe(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestHealthListenFollowsConsumersAndNATS runs `serve --health-listen`
// against an embedded NATS the test starts and stops: /readyz is 503 until
// the restore function's durable consumer is bound, 200 while connected,
// 503 once the server is gone; /healthz is 200 throughout.
func TestHealthListenFollowsConsumersAndNATS(t *testing.T) {
	srv, err := natsserver.StartServer(natsserver.ServerConfig{Port: -1, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	cfgFile := filepath.Join(t.TempDir(), "xbr.yaml")
	data := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(cfgFile, []byte("data_dir: "+data+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	restore := fn.Function{Name: "restore", Run: func(ctx context.Context, env *fn.Env) error {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil
		}
		return env.Conn.Consume(ctx, bus.ConsumerConfig{Function: "restore",
			Subjects: []string{env.Subjects.Filter(events.TypeRestoreRequested)}, FetchWait: 200 * time.Millisecond},
			bus.HandlerFunc(func(context.Context, bus.Event) ([]bus.Out, error) { return nil, nil }))
	}}
	idle := fn.Function{Name: "timer", Run: func(ctx context.Context, _ *fn.Env) error { <-ctx.Done(); return nil }}
	logs := &testsupport.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- serve.Serve(ctx, serve.ServeOptions{ConfigFile: cfgFile, NATSURL: srv.ClientURL(), HealthListen: "127.0.0.1:0",
			Log: slog.New(slog.NewJSONHandler(logs, nil))}, []fn.Function{restore, idle})
	}()
	var readyz, healthz string
	testsupport.Eventually(t, 10*time.Second, "the health listener", func() bool {
		readyz, healthz = logField(logs, "serving health probes", "readyz"), logField(logs, "serving health probes", "healthz")
		return readyz != ""
	})
	if code, body := probe(readyz); code != http.StatusServiceUnavailable || !strings.Contains(body, "function restore: consumer restore: not consuming") {
		t.Errorf("readyz before the consumer is bound: %d %q, want 503 naming consumer restore", code, body)
	}
	close(gate)
	testsupport.Eventually(t, 10*time.Second, "readyz 200 once bound", func() bool { code, _ := probe(readyz); return code == http.StatusOK })
	srv.Shutdown()
	testsupport.Eventually(t, 10*time.Second, "readyz 503 without NATS", func() bool {
		code, body := probe(readyz)
		return code == http.StatusServiceUnavailable && strings.Contains(body, "nats:")
	})
	if code, body := probe(healthz); code != http.StatusOK || body != "ok\n" {
		t.Errorf("healthz without NATS: %d %q, want 200 ok (the process is alive)", code, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if code, _ := probe(healthz); code != 0 {
		t.Errorf("healthz answered %d after Serve returned; the listener must stop with it", code)
	}
}
