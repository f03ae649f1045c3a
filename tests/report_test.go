package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/testsupport"
	"xbr/shared/xapi/xapisim"
)

// hook stands in for a Slack-compatible incoming webhook: it keeps the
// texts posted, by path.
type hook struct {
	mu    sync.Mutex
	posts map[string][]string
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m struct {
		Text string `json:"text"`
	}
	body, _ := io.ReadAll(r.Body)
	if json.Unmarshal(body, &m) != nil || m.Text == "" {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.posts[r.URL.Path] = append(h.posts[r.URL.Path], m.Text)
}

func (h *hook) got(path string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.posts[path]...)
}

// TestReportsThroughServe: through `xbr serve` and the simulator, a job
// whose backups are health-checked sends one run report, after the check,
// that names its outcome; with report_when: failure a run whose check failed
// is reported too; the daily report (every minute here) lists the VM no job
// selects as unprotected.
func TestReportsThroughServe(t *testing.T) {
	h := newHCEnv(t, xapisim.Options{})
	rp, sim, u := h.rp, h.rp.sim, h.rp.url
	var other xapisim.VMInfo
	for _, v := range (&pool{sim: sim}).userVMs() {
		if v.UUID != h.src.UUID {
			other = v
		}
	}
	hk := &hook{posts: map[string][]string{}}
	srv := httptest.NewServer(hk)
	defer srv.Close()
	cfg, remoteDir := filepath.Join(t.TempDir(), "xbr.yaml"), t.TempDir()
	yaml := fmt.Sprintf(`pools:
  - {name: lab, url: %s, username: %s, password: "${XBR_TEST_POOL_PASSWORD}"}
remotes:
  - {name: nfs, type: dir, path: %s}
jobs:
  - name: nightly
    pools: [lab]
    vms: {uuids: [%s]}
    remotes: [nfs]
    health_check: {sr: Local storage, timeout: 5s}
    report_when: always
    report_webhook: %s/run
    schedules:
      - {name: daily, cron: "0 2 * * *", timezone: UTC, retention: 10}
  - name: quiet
    pools: [lab]
    vms: {uuids: [%s]}
    remotes: [nfs]
    health_check: {sr: Local storage, timeout: 5s}
    report_webhook: %s/quiet
    schedules:
      - {name: daily, cron: "0 2 * * *", timezone: UTC, retention: 10}
reports:
  daily: {cron: "* * * * *", webhook: %s/daily}
`, u, rp.user, remoteDir, h.src.UUID, srv.URL, h.src.UUID, srv.URL, srv.URL)
	rsMust(t, os.WriteFile(cfg, []byte(yaml), 0o600))
	h.s = startServe(t, h.env, "--config", cfg, "--data-dir", t.TempDir(), "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0")
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	h.backup(t, ctx) // returns once the health check has ended
	t.Logf("after the first backup: %v", time.Since(start))
	testsupport.Eventually(t, 30*time.Second, "the run report", func() bool { return len(hk.got("/run")) > 0 })
	runReport := hk.got("/run")[0]
	title, body, _ := strings.Cut(runReport, "\n")
	if !strings.HasPrefix(title, "xbr backup run nightly/daily: SUCCESS") || !strings.HasSuffix(title, "; health checks: 1 passed") {
		t.Errorf("run report title %q, want a success with its passed health check", title)
	}
	if !strings.Contains(body, "health check") || !strings.Contains(body, "boots: guest-metrics reported in") {
		t.Errorf("the run report's tree lacks the health check:\n%s", body)
	}

	h.simFault(t, xapisim.HealthGuestFailure)
	quietRun := time.Now()
	rsMust(t, rp.c.AddTag(ctx, h.vmRef(t), "xo-backup-health-check-xenstore"))
	if out, errOut, code := xbr(t, ctx, nil, "run", "quiet", "--wait", "--nats", h.s.natsURL(t)); code != 0 {
		t.Fatalf("xbr run quiet --wait: exit %d\n%s\n%s", code, out, errOut)
	}
	testsupport.Eventually(t, 60*time.Second, "the report of a run whose check failed", func() bool { return len(hk.got("/quiet")) > 0 })
	if q := hk.got("/quiet"); len(q) != 1 || !strings.Contains(q[0], "SUCCESS") || !strings.Contains(q[0], "; health checks: 1 failed\n") {
		t.Errorf("report_when failure, a successful run whose check failed: %q", q)
	}
	ev := h.waitHealth(t, ctx, quietRun, events.TypeRemoteUsage)
	usage, err := events.PayloadAs[events.RemoteUsage](ev)
	rsMust(t, err)
	if used, files := treeSize(t, remoteDir); usage.Job != "quiet" || usage.Remote != "nfs" || usage.UsedBytes != used ||
		usage.Objects != files || usage.FreeBytes == nil || *usage.FreeBytes <= 0 {
		t.Errorf("remote usage after the run %+v, want %d bytes in %d files and the free space", usage, used, files)
	}
	if n := len(hk.got("/run")); n != 1 {
		t.Errorf("%d reports of the nightly run, want 1", n)
	}

	before := len(hk.got("/daily")) // those sent before the runs: every VM needed attention
	testsupport.Eventually(t, 90*time.Second, "a daily report after the runs", func() bool { return len(hk.got("/daily")) > before })
	daily := hk.got("/daily")
	last := daily[len(daily)-1]
	if !strings.Contains(last, ": 1 of 2 VMs need attention\n") || !strings.Contains(last, "- unprotected "+other.NameLabel+" (pool lab)") || strings.Contains(last, h.src.NameLabel+" (pool lab)") {
		t.Errorf("daily report:\n%s\nwant %s unprotected and %s (protected) not listed", last, other.NameLabel, h.src.NameLabel)
	}
}

// treeSize sums the sizes of the regular files under root.
func treeSize(t *testing.T, root string) (int64, int64) {
	t.Helper()
	var size, n int64
	rsMust(t, filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		size, n = size+info.Size(), n+1
		return nil
	}))
	return size, n
}
