package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/healthcheck"
	"xbr/shared/bus"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
	"xbr/shared/xotag"
)

// hcEnv is xbr serve over a simulated pool whose guests boot in 200 ms,
// with a full job whose backups are health-checked on "Local storage".
type hcEnv struct {
	rp   *restorePool
	src  xapisim.VMInfo
	args []string
	env  []string
	s    *server
}

// newHCEnv is a pool of two 1 MiB VMs that boot in 200 ms (and o's other
// options), and its halted VM as the one to back up and check.
func newHCEnv(t *testing.T, o xapisim.Options) *hcEnv {
	t.Helper()
	o.VMs, o.DiskSize, o.BootDelay = 2, 1<<20, 200*time.Millisecond
	rp := restorePoolWith(t, o)
	return &hcEnv{rp: rp, src: rp.halted(t), env: []string{"XBR_TEST_POOL_PASSWORD=" + rp.pass}}
}

func startHealthEnv(t *testing.T, timeout string) *hcEnv {
	t.Helper()
	return startHealthEnvMode(t, timeout, "full")
}

// startHealthEnvMode is startHealthEnv with a job of mode (full or incremental).
func startHealthEnvMode(t *testing.T, timeout, mode string) *hcEnv {
	t.Helper()
	h := newHCEnv(t, xapisim.Options{NBD: "nbd"})
	rp := h.rp
	cfg := filepath.Join(t.TempDir(), "xbr.yaml")
	yaml := fmt.Sprintf(`pools:
  - {name: lab, url: %s, username: %s, password: "${XBR_TEST_POOL_PASSWORD}"}
remotes:
  - {name: nfs, type: dir, path: %s}
jobs:
  - name: nightly
    mode: %s
    pools: [lab]
    vms: {uuids: [%s]}
    remotes: [nfs]
    health_check: {sr: Local storage, timeout: %s}
    schedules:
      - {name: daily, cron: "0 2 * * *", timezone: UTC, retention: 10}
`, rp.url, rp.user, t.TempDir(), mode, h.src.UUID, timeout)
	rsMust(t, os.WriteFile(cfg, []byte(yaml), 0o600))
	h.args = []string{"--config", cfg, "--data-dir", t.TempDir(), "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0"}
	h.s = startServe(t, h.env, h.args...)
	return h
}

// backup runs the job once and returns the health check's outcome event.
func (h *hcEnv) backup(t *testing.T, ctx context.Context) events.Received {
	t.Helper()
	since := time.Now()
	if out, errOut, code := xbr(t, ctx, nil, "run", "nightly", "--wait", "--nats", h.s.natsURL(t)); code != 0 {
		t.Fatalf("xbr run --wait: exit %d\n%s\n%s\nserver:\n%s", code, out, errOut, h.s.output())
	}
	return h.waitHealth(t, ctx, since, events.TypeHealthCheckCompleted, events.TypeHealthCheckFailed)
}

// waitHealth returns the first event of the types published after since.
func (h *hcEnv) waitHealth(t *testing.T, ctx context.Context, since time.Time, types ...events.Type) events.Received {
	t.Helper()
	return h.waitHealthN(t, ctx, since, 1, types...)[0]
}

// waitHealthN returns the first n events of types published since, read through one
// watch: a second watch from the first event's time would see that event again, since the
// stream stamps an event after the event's own time.
func (h *hcEnv) waitHealthN(t *testing.T, ctx context.Context, since time.Time, n int, types ...events.Type) []events.Received {
	t.Helper()
	conn, err := bus.Connect(h.s.natsURL(t), bus.ConnectOptions{Name: "e2e"}, slog.New(slog.DiscardHandler))
	rsMust(t, err)
	defer conn.Close()
	subjects, _ := events.NewSubjects("")
	var filters []string
	for _, ty := range types {
		filters = append(filters, subjects.Filter(ty))
	}
	w, err := conn.Watch(ctx, bus.WatchOptions{Subjects: filters, StartTime: since})
	rsMust(t, err)
	defer w.Close()
	var out []events.Received
	for len(out) < n {
		r, err := w.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for %v: %v\nserver:\n%s", types, err, h.s.output())
		}
		if r.Err == nil {
			out = append(out, r.Event)
		}
	}
	return out
}

// leftovers are the test VMs on the pool and the disks no VM or snapshot
// uses (a destroyed test VM's disks), the changed-block metadata an
// incremental job keeps as its base excepted.
func (h *hcEnv) leftovers() ([]string, int) {
	var vms []string
	for _, vm := range h.rp.sim.VMs() {
		if strings.HasPrefix(vm.NameLabel, healthcheck.TestVMPrefix) {
			vms = append(vms, vm.UUID)
		}
	}
	vdis, err := h.rp.c.VDIs(context.Background())
	if err != nil {
		return vms, -1
	}
	loose := 0
	for _, v := range vdis {
		if len(v.VBDs) == 0 && v.Type != "cbt_metadata" {
			loose++
		}
	}
	return vms, loose
}

func (h *hcEnv) assertClean(t *testing.T, when string) {
	t.Helper()
	if vms, vdis := h.leftovers(); len(vms) != 0 || vdis != 0 {
		t.Fatalf("%s: test VMs %v and %d VDIs left on the pool\nserver:\n%s", when, vms, vdis, h.s.output())
	}
}

// simFault sets the guest behaviour of the source VM's test VMs through
// the simulator's HTTP endpoint.
func (h *hcEnv) simFault(t *testing.T, health string) {
	t.Helper()
	h.simFaultNamed(t, health, healthcheck.TestVMPrefix+h.src.NameLabel)
}

// simFaultNamed sets the behaviour of the VMs whose name starts with prefix.
func (h *hcEnv) simFaultNamed(t *testing.T, health, prefix string) {
	t.Helper()
	q := url.Values{"health": {health}, "name_label": {prefix}}
	resp, err := http.Post(h.rp.url+"/sim/fault?"+q.Encode(), "text/plain", nil)
	rsMust(t, err)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /sim/fault %s: HTTP %d", q.Encode(), resp.StatusCode)
	}
}

// TestHealthCheckAfterBackup: a backup followed by a passing health check,
// then each simulated failure gives xbr.healthcheck.failed with its reason;
// no test VM or disk is ever left behind.
func TestHealthCheckAfterBackup(t *testing.T) {
	h := startHealthEnv(t, "3s")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	ev := h.backup(t, ctx)
	done, err := events.PayloadAs[events.HealthCheckCompleted](ev)
	if err != nil || done.VMUUID != h.src.UUID || done.Method != events.HealthMethodGuestMetrics || done.Job != "nightly" {
		t.Fatalf("health check after the backup: %s %+v (%v)\nserver:\n%s", ev.Type(), ev.Payload, err, h.s.output())
	}
	if !strings.HasPrefix(done.BackupID, "nfs") && !strings.Contains(done.BackupID, h.src.UUID) {
		t.Fatalf("checked backup %q, want the new backup of %s", done.BackupID, h.src.UUID)
	}
	h.assertClean(t, "after a passing check")

	rsMust(t, h.rp.c.AddTag(ctx, h.vmRef(t), healthcheck.TagXenStore))
	for _, tc := range []struct{ fault, reason string }{
		{xapisim.HealthNeverBoots, events.HealthReasonBootFailed},
		{xapisim.HealthSlowBoot, events.HealthReasonTimeout},
		{xapisim.HealthGuestFailure, events.HealthReasonGuestFailure},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			h.simFault(t, tc.fault)
			ev := h.backup(t, ctx)
			f, err := events.PayloadAs[events.HealthCheckFailed](ev)
			if err != nil || f.Reason != tc.reason || f.VMUUID != h.src.UUID || f.Error == "" {
				t.Fatalf("health check of a guest that %s: %s %+v (%v), want failed with %s", tc.fault, ev.Type(), ev.Payload, err, tc.reason)
			}
			h.assertClean(t, "after a failed check ("+tc.fault+")")
		})
	}

	// On demand, from the CLI: the newest backup, its guest healthy again.
	h.simFault(t, xapisim.HealthBoots)
	run := func(args ...string) (string, string, int) {
		return xbr(t, ctx, nil, append(args, "--nats", h.s.natsURL(t))...)
	}
	b := h.newestBackup(t, run)
	out, errOut, code := run("healthcheck", b["id"].(string), "--sr", "Local storage", "--boot-timeout", "20s", "--wait")
	if code != 0 || !strings.Contains(out, "completed: the backup boots") {
		t.Fatalf("xbr healthcheck --wait: exit %d\n%s\n%s\nserver:\n%s", code, out, errOut, h.s.output())
	}
	// A test VM asked for on demand is named after the VM's uuid.
	h.simFaultNamed(t, xapisim.HealthNeverBoots, healthcheck.TestVMPrefix+h.src.UUID)
	out, _, code = run("healthcheck", "--vm", h.src.NameLabel, "--sr", "Local storage", "--wait") // by name: the newest backup
	if code != 1 || !strings.Contains(out, "FAILED (boot-failed)") {
		t.Fatalf("xbr healthcheck --wait of a guest that never boots: exit %d\n%s", code, out)
	}
	h.assertClean(t, "after the checks on demand")

	// backups ls marks the backup whose last check failed.
	b = h.newestBackup(t, run)
	hc, _ := b["health_check"].(map[string]any)
	if hc == nil || hc["passed"] != false || hc["reason"] != events.HealthReasonBootFailed {
		t.Fatalf("backups ls --json: health_check of the newest backup = %v, want failed (boot-failed)", b["health_check"])
	}
	table, _, _ := run("backups", "ls", "--vm", h.src.UUID)
	if !strings.Contains(table, "HEALTH") || !strings.Contains(table, "FAILED (boot-failed)") || !strings.Contains(table, "FAILED (timeout)") || !strings.Contains(table, "  boots  ") {
		t.Fatalf("backups ls does not mark the failed checks:\n%s", table)
	}
	// So does the Restore view's list of the VM's backups.
	line, ok := h.s.waitLog(t, "gateway listening", 30*time.Second)
	if !ok {
		t.Fatalf("no 'gateway listening' line:\n%s", h.s.output())
	}
	page := httpGet(t, line["url"].(string)+"/restore?"+url.Values{"remote": {"nfs"}, "vm": {h.src.UUID}}.Encode())
	if !strings.Contains(page, "Health check") || !strings.Contains(page, "failed: boot-failed") || !strings.Contains(page, ">boots</span>") {
		t.Fatalf("the backups page does not mark the health checks:\n%s", page)
	}
}

// newestBackup is the source VM's newest backup as backups ls --json lists it.
func (h *hcEnv) newestBackup(t *testing.T, run func(...string) (string, string, int)) map[string]any {
	t.Helper()
	out, errOut, code := run("backups", "ls", "--json", "--vm", h.src.UUID)
	if code != 0 {
		t.Fatalf("xbr backups ls --json: exit %d\n%s\n%s", code, out, errOut)
	}
	var list []map[string]any
	rsMust(t, json.Unmarshal([]byte(out), &list))
	if len(list) == 0 {
		t.Fatalf("backups ls --json listed nothing:\n%s", out)
	}
	return list[0]
}

func (h *hcEnv) vmRef(t *testing.T) xapi.VMRef {
	t.Helper()
	ref, err := h.rp.c.VMByUUID(context.Background(), h.src.UUID)
	rsMust(t, err)
	return ref
}

// TestHealthCheckKilledIsSwept: xbr serve is SIGKILLed while the test VM
// boots; the restarted function sweeps the leftover by its tag once its
// mark is stale, and the interrupted check ends as failed.
func TestHealthCheckKilledIsSwept(t *testing.T) {
	h := startHealthEnv(t, "10m")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	h.simFault(t, xapisim.HealthSlowBoot)
	since := time.Now()
	if out, errOut, code := xbr(t, ctx, nil, "run", "nightly", "--wait", "--nats", h.s.natsURL(t)); code != 0 {
		t.Fatalf("xbr run --wait: exit %d\n%s\n%s", code, out, errOut)
	}
	started := h.waitHealth(t, ctx, since, events.TypeHealthCheckStarted)
	st, _ := events.PayloadAs[events.HealthCheckStarted](started)
	h.s.kill(t)
	vms, _ := h.leftovers()
	if len(vms) != 1 || vms[0] != st.TestVMUUID {
		t.Fatalf("after the kill: test VMs %v, want the started one %s", vms, st.TestVMUUID)
	}
	ref, err := h.rp.c.VMByUUID(ctx, st.TestVMUUID)
	rsMust(t, err)
	rec, err := h.rp.c.VMRecord(ctx, ref)
	rsMust(t, err)
	if !slices.Contains(rec.Tags, xotag.TagHealthCheck) {
		t.Fatalf("the test VM %s is not tagged %s", st.TestVMUUID, xotag.TagHealthCheck)
	}
	// The killed check's mark goes stale (its process is gone); then restart.
	time.Sleep(healthcheck.DefaultStaleAfter + time.Second)
	h.s = startServe(t, h.env, h.args...)
	if _, ok := h.s.waitLog(t, "health check sweep: destroyed a leftover test VM", time.Minute); !ok {
		t.Fatalf("no sweep after the restart\nserver:\n%s", h.s.output())
	}
	h.assertClean(t, "after the sweep")
	ev := h.waitHealth(t, ctx, since, events.TypeHealthCheckCompleted, events.TypeHealthCheckFailed)
	if f, err := events.PayloadAs[events.HealthCheckFailed](ev); err != nil || !strings.Contains(f.Error, "interrupted") {
		t.Fatalf("the interrupted check: %s %+v, want failed (interrupted)", ev.Type(), ev.Payload)
	}
}

// TestHealthCheckOfAReplica: after a replication, the standby copy is
// cloned on the target pool, booted and destroyed; the copy stays, still
// a copy, and no clone or clone disk is left.
func TestHealthCheckOfAReplica(t *testing.T) {
	newSim := func() (*xapisim.Server, string) {
		rp := restorePoolWith(t, xapisim.Options{VMs: 2, DiskSize: 1 << 20, BootDelay: 200 * time.Millisecond})
		return rp.sim, rp.url
	}
	mainSim, mainURL := newSim()
	standby, standbyURL := newSim()
	_, mainPass := mainSim.Credentials()
	_, standbyPass := standby.Credentials()
	cfg := filepath.Join(t.TempDir(), "xbr.yaml")
	rsMust(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`pools:
  - {name: main, url: %q, username: root, password: "${XBR_TEST_MAIN_PASSWORD}"}
  - {name: standby, url: %q, username: root, password: "${XBR_TEST_STANDBY_PASSWORD}"}
jobs:
  - name: dr
    mode: replicate
    pools: [main]
    target: {pool: standby, sr: Local storage}
    health_check: {sr: Local storage, timeout: 20s}
    schedules:
      - {name: hourly, cron: "0 * * * *", timezone: UTC, copy_retention: 1}
`, mainURL, standbyURL)), 0o600))
	env := []string{"XBR_TEST_MAIN_PASSWORD=" + mainPass, "XBR_TEST_STANDBY_PASSWORD=" + standbyPass}
	h := &hcEnv{s: startServe(t, env, "--config", cfg, "--data-dir", t.TempDir(), "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0")}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	since := time.Now()
	if out, errOut, code := xbr(t, ctx, nil, "run", "dr", "--wait", "--nats", h.s.natsURL(t)); code != 0 {
		t.Fatalf("xbr run dr --wait: exit %d\n%s\n%s\nserver:\n%s", code, out, errOut, h.s.output())
	}
	passed := map[string]bool{} // by request: one check per replicated VM
	for _, ev := range h.waitHealthN(t, ctx, since, 2, events.TypeHealthCheckCompleted, events.TypeHealthCheckFailed) {
		done, err := events.PayloadAs[events.HealthCheckCompleted](ev)
		if err != nil || done.Pool != "standby" || !strings.HasPrefix(done.BackupID, "replica:") {
			t.Fatalf("health check of a copy: %s %+v\nserver:\n%s", ev.Type(), ev.Payload, h.s.output())
		}
		passed[done.RequestID] = true
	}
	owned := 0
	for _, vm := range standby.VMs() {
		owned += len(vm.VDIs)
		if strings.HasPrefix(vm.NameLabel, healthcheck.TestVMPrefix) {
			t.Errorf("a test VM is left on the standby pool: %s (%s)\nserver:\n%s", vm.NameLabel, vm.UUID, h.s.output())
		}
	}
	if got := len(standby.Refs("VDI")); got != owned {
		t.Errorf("%d VDIs on the standby pool, %d of them a VM's: clone disks left behind", got, owned)
	}
	if len(passed) != 2 {
		t.Fatalf("%d checks passed, want 2", len(passed))
	}
}

// TestHealthCheckOfARestorePoint: an incremental job's new restore point
// is built into an XVA on the fly by the restore function, booted and
// destroyed.
func TestHealthCheckOfARestorePoint(t *testing.T) {
	h := startHealthEnvMode(t, "20s", "incremental")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ev := h.backup(t, ctx)
	done, err := events.PayloadAs[events.HealthCheckCompleted](ev)
	if err != nil || done.VMUUID != h.src.UUID || !strings.Contains(done.BackupID, ":xbr-repo/") {
		t.Fatalf("health check after the incremental backup: %s %+v (%v)\nserver:\n%s", ev.Type(), ev.Payload, err, h.s.output())
	}
	h.assertClean(t, "after the check of a restore point")
}
