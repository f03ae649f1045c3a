package tests

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
)

// TestServeDemoStartsAndStopsCleanly runs `xbr serve` with no arguments but a
// data directory and free ports: it must say where everything is, answer the
// CLI, stop on SIGTERM with exit 0, and keep what was published across a
// restart.
func TestServeDemoStartsAndStopsCleanly(t *testing.T) {
	data := t.TempDir()
	args := []string{"--data-dir", data, "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0"}
	s := startServe(t, nil, args...)
	demo, ok := s.waitLog(t, "xbr demo: no --config given, so this is a self-contained demo", time.Second)
	if !ok {
		t.Fatalf("no demo line:\n%s", s.output())
	}
	for _, k := range []string{"xapi_simulator", "remote", "demo_job", "nats", "web"} {
		if demo[k] == nil || demo[k] == "" {
			t.Errorf("the demo line does not say %s: %v", k, demo)
		}
	}
	if first := s.firstLog(); first != demo["msg"] {
		t.Errorf("the first log line is %q, not the demo's line saying where everything is:\n%s", first, s.output())
	}
	url := s.natsURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	out, errOut, code := xbr(t, ctx, nil, "jobs", "ls", "--json", "--nats", url)
	if code != 0 {
		t.Fatalf("jobs ls: exit %d: %s", code, errOut)
	}
	var jobs []struct {
		Name      string `json:"name"`
		Schedules []struct {
			Name string    `json:"name"`
			Next time.Time `json:"next"`
		} `json:"schedules"`
	}
	if err := json.Unmarshal([]byte(out), &jobs); err != nil {
		t.Fatalf("jobs ls --json: %v\n%s", err, out)
	}
	if len(jobs) != 1 || jobs[0].Name != "demo-nightly" || len(jobs[0].Schedules) != 1 || jobs[0].Schedules[0].Next.IsZero() {
		t.Fatalf("jobs ls: %+v", jobs)
	}

	out, errOut, code = xbr(t, ctx, nil, "run", "demo-nightly", "--nats", url)
	if code != 0 || !strings.Contains(out, "requested") {
		t.Fatalf("run: exit %d: %s %s", code, out, errOut)
	}
	runID := strings.Fields(strings.TrimPrefix(out, "run "))[0]
	runID = strings.TrimSuffix(runID, ":")

	if _, errOut, code = xbr(t, ctx, nil, "run", "no-such-job", "--nats", url); code == 0 || !strings.Contains(errOut, `no job "no-such-job"`) {
		t.Errorf("run of an unknown job: exit %d, %q", code, errOut)
	}

	if err := s.stop(t, 30*time.Second); err != nil {
		t.Fatalf("xbr serve exited with %v after SIGTERM:\n%s", err, s.output())
	}
	if _, ok := s.waitLog(t, "stopped", time.Second); !ok {
		t.Errorf("no 'stopped' line:\n%s", s.output())
	}

	// Nothing published before the stop is lost: restart on the same data.
	s2 := startServe(t, nil, args...)
	if !hasRun(t, ctx, s2.natsURL(t), runID) {
		t.Fatalf("the schedule.due of run %s did not survive the restart", runID)
	}
	if err := s2.stop(t, 30*time.Second); err != nil {
		t.Fatalf("second stop: %v", err)
	}
}

func hasRun(t *testing.T, ctx context.Context, url, runID string) bool {
	t.Helper()
	conn, err := bus.Connect(url, bus.ConnectOptions{Name: "e2e"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	subjects, _ := events.NewSubjects("")
	w, err := conn.Watch(ctx, bus.WatchOptions{Subjects: []string{subjects.Filter(events.TypeScheduleDue)}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		r, err := w.Next(rctx)
		cancel()
		if err != nil {
			return false
		}
		if p, err := events.PayloadAs[events.ScheduleDue](r.Event); err == nil && p.RunID == runID && p.Manual {
			return true
		}
	}
}

// TestServeDemoSimulatorPort: --demo-sim-listen puts the demo's simulated
// pool on the port asked for (the demo line says so), and is refused with a
// configuration file, which starts no simulator.
func TestServeDemoSimulatorPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	s := startServe(t, nil, "--data-dir", t.TempDir(), "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0",
		"--demo-sim-listen", addr)
	demo, ok := s.waitLog(t, "xbr demo: no --config given, so this is a self-contained demo", 5*time.Second)
	if !ok {
		t.Fatalf("no demo line:\n%s", s.output())
	}
	if sim, _ := demo["xapi_simulator"].(string); !strings.Contains(sim, addr) {
		t.Errorf("the demo's simulator is at %q, want %s", sim, addr)
	}
	if err := s.stop(t, 30*time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := writeFile(t, "xbr.yaml", "pools: []\n")
	_, errOut, code := xbr(t, ctx, nil, "serve", "--config", cfg, "--demo-sim-listen", addr)
	if code == 0 || !strings.Contains(errOut, "--demo-sim-listen") {
		t.Errorf("--demo-sim-listen with --config: exit %d, %q", code, errOut)
	}
}
