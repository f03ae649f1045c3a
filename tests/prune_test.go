package tests

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/shared/config"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// Rolling snapshots through xbr serve: 5 runs of a snapshot job with
// snapshot_retention 2 (`xbr run --wait`) leave exactly the 2 newest
// snapshots per VM, stamped and named as Xen Orchestra does, and no
// snapshot disk without its VM.
func TestRollingSnapshotsThroughServe(t *testing.T) {
	sim, err := xapisim.New(xapisim.Options{VMs: 2, DiskSize: 1 << 20, DataDir: t.TempDir(), PoolName: "snap"})
	if err != nil {
		t.Fatal(err)
	}
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	user, pass := sim.Credentials()
	cfg := filepath.Join(t.TempDir(), "xbr.yaml")
	yaml := fmt.Sprintf(`pools:
  - {name: lab, url: %s, username: %s, password: "${XBR_TEST_POOL_PASSWORD}"}
jobs:
  - name: rolling
    mode: snapshot
    pools: [lab]
    schedules:
      - {name: hourly, cron: "0 * * * *", timezone: UTC, snapshot_retention: 2}
`, url, user)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, []string{"XBR_TEST_POOL_PASSWORD=" + pass}, "--config", cfg, "--data-dir", t.TempDir(),
		"--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--functions", "snapshot,prune")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	nats := s.natsURL(t)
	for i := range 5 {
		if out, errOut, code := xbr(t, ctx, nil, "run", "rolling", "--wait", "--nats", nats); code != 0 {
			t.Fatalf("run %d: exit %d\n%s\n%s\nserver:\n%s", i, code, out, errOut, s.output())
		}
	}
	c, err := xapi.New(url)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(ctx, user, pass); err != nil {
		t.Fatal(err)
	}
	// The prune follows snapshot.completed asynchronously: wait for it.
	perVM := func() map[string]int {
		n := map[string]int{}
		for _, snap := range sim.Snapshots() {
			n[snap.SnapshotOf]++
		}
		return n
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("snapshots per VM %v, want 2 each; orphaned snapshot disks %v\nserver:\n%s", perVM(), orphanDisks(sim), s.output())
		}
	})
	// The prune destroys a snapshot's VM first and its disks after: wait
	// for both.
	testsupport.Eventually(t, time.Minute, "2 snapshots per VM and no orphaned snapshot disk", func() bool {
		n := perVM()
		done := len(n) == 2
		for _, k := range n {
			done = done && k == 2
		}
		return done && len(orphanDisks(sim)) == 0
	})
	jobID := config.DeriveID(config.IDNamespace, "rolling") // XO's jobId: a UUID
	for _, snap := range sim.Snapshots() {
		rec, err := c.VMRecord(ctx, xapi.VMRef(snap.Ref))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(rec.NameLabel, "[XO Backup rolling] ") || rec.IsATemplate ||
			rec.OtherConfig["xo:backup:job"] != jobID || rec.OtherConfig["xo:backup:schedule"] != config.DeriveID(jobID, "hourly") {
			t.Errorf("snapshot %q template=%v keys %v", rec.NameLabel, rec.IsATemplate, rec.OtherConfig)
		}
	}
}

// orphanDisks are the snapshot disks no VM uses.
func orphanDisks(sim *xapisim.Server) []string {
	var out []string
	for _, ref := range sim.Refs("VDI") {
		rec, err := sim.Record("VDI", ref)
		if err != nil {
			continue
		}
		if isSnap, _ := rec["is_a_snapshot"].(bool); isSnap {
			if vbds, _ := rec["VBDs"].([]string); len(vbds) == 0 {
				out = append(out, ref)
			}
		}
	}
	return out
}
