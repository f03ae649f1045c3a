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
	"xbr/shared/xapi"
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
	for _, k := range []string{"xapi_simulator", "remote", "demo_jobs", "nats", "web"} {
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
	if len(jobs) != 2 || jobs[0].Name != "demo-nightly" || jobs[1].Name != "demo-incremental" {
		t.Fatalf("jobs ls: %+v, want demo-nightly and demo-incremental", jobs)
	}
	for _, j := range jobs {
		if len(j.Schedules) != 1 || j.Schedules[0].Next.IsZero() {
			t.Errorf("jobs ls: job %s has schedules %+v, want one with its next fire", j.Name, j.Schedules)
		}
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

// TestServeDemoIncremental: the demo's incremental job works as it comes.
// Its first run reads every disk whole (first-run); after a guest writes one
// 64 KiB block into one VM's disk, its second run takes the changed-block
// path for every VM and reads over NBD (GET /sim/stats) that block and
// nothing else.
func TestServeDemoIncremental(t *testing.T) {
	s := startServe(t, nil, "--data-dir", t.TempDir(), "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0")
	demo, ok := s.waitLog(t, "xbr demo: no --config given, so this is a self-contained demo", time.Second)
	simURL, _ := demo["xapi_simulator"].(string)
	if !ok || simURL == "" {
		t.Fatalf("no demo line naming the simulator:\n%s", s.output())
	}
	url := s.natsURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	first := incrementalResults(t, ctx, url, runJob(t, ctx, s, url, "demo-incremental"))
	if len(first) != 3 {
		t.Fatalf("first run: %d VMs backed up, want the demo's 3: %+v", len(first), first)
	}
	for _, r := range first {
		if r.Path != events.PathFullScan || r.PathReason != events.PathReasonFirstRun {
			t.Errorf("first run of %s: path %s (%s), want a full scan (first-run)", r.VMName, r.Path, r.PathReason)
		}
	}
	const written = 64 << 10
	guestWrite(t, simURL, demoDisk(t, ctx, demo, simURL, first[0].VMUUID), 0, written)
	before := simCounter(t, simURL, "nbd_read")
	second := incrementalResults(t, ctx, url, runJob(t, ctx, s, url, "demo-incremental"))
	if got := simCounter(t, simURL, "nbd_read") - before; got != written {
		t.Errorf("the second run read %d bytes over NBD, want the %d written", got, written)
	}
	if len(second) != 3 {
		t.Fatalf("second run: %d VMs backed up, want 3: %+v", len(second), second)
	}
	for _, r := range second {
		want := map[bool]int64{true: written, false: 0}[r.VMUUID == first[0].VMUUID]
		if r.Path != events.PathCBT || r.BytesRead != want {
			t.Errorf("second run of %s: path %s (%s), %d bytes read; want cbt and %d", r.VMName, r.Path, r.PathReason, r.BytesRead, want)
		}
	}
}

// runJob runs a job with `xbr run --wait` and returns its run id.
func runJob(t *testing.T, ctx context.Context, s *server, url, job string) string {
	t.Helper()
	out, errOut, code := xbr(t, ctx, nil, "run", job, "--wait", "--nats", url)
	if code != 0 || !strings.HasPrefix(out, "run ") {
		t.Fatalf("run %s --wait: exit %d\n%s\n%s\nserver:\n%s", job, code, out, errOut, s.output())
	}
	return strings.TrimSuffix(strings.Fields(out)[1], ":")
}

// incrementalResults are the xbr.incremental.completed events of a run, in
// the order stored.
func incrementalResults(t *testing.T, ctx context.Context, url, runID string) []events.IncrementalCompleted {
	t.Helper()
	conn, err := bus.Connect(url, bus.ConnectOptions{Name: "e2e"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var out []events.IncrementalCompleted
	for _, e := range history(t, ctx, conn) {
		if p, err := events.PayloadAs[events.IncrementalCompleted](e); err == nil && p.RunID == runID {
			out = append(out, p)
		}
	}
	return out
}

// demoDisk is the VDI uuid of the demo VM's disk, asked of the simulator
// with the demo's login (the user the demo line names, the simulator's
// default password).
func demoDisk(t *testing.T, ctx context.Context, demo map[string]any, simURL, vmUUID string) string {
	t.Helper()
	c, err := xapi.New(simURL)
	rsMust(t, err)
	user, _ := demo["xapi_user"].(string)
	rsMust(t, c.Login(ctx, user, "xapisim"))
	vm, err := c.VMByUUID(ctx, vmUUID)
	rsMust(t, err)
	disks, err := c.VMDisks(ctx, vm)
	rsMust(t, err)
	if len(disks) != 1 {
		t.Fatalf("demo VM %s has %d disks, want 1", vmUUID, len(disks))
	}
	rec, err := c.VDIRecord(ctx, disks[0])
	rsMust(t, err)
	return rec.UUID
}
