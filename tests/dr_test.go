package tests

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/replicate"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// drPool is a simulated pool with a logged-in client, for the DR tests.
type drPool struct {
	sim    *xapisim.Server
	url    string
	pass   string
	client *xapi.Client
}

func drStartPool(t *testing.T, name string, vms int) *drPool {
	t.Helper()
	sim, err := xapisim.New(xapisim.Options{VMs: vms, DiskSize: 4 << 20, DataDir: t.TempDir(), PoolName: name})
	if err != nil {
		t.Fatal(err)
	}
	url, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	user, pass := sim.Credentials()
	c, err := xapi.New(url)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(context.Background(), user, pass); err != nil {
		t.Fatal(err)
	}
	return &drPool{sim: sim, url: url, pass: pass, client: c}
}

// diskDigests hashes each disk of vm (VBD order) read with /export_raw_vdi.
func (p *drPool) diskDigests(t *testing.T, vm string) []string {
	t.Helper()
	info, err := p.sim.VM(vm)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, vdi := range info.VDIs {
		tr, err := p.client.ExportRawVDI(context.Background(), xapi.VDIRef(vdi))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		if _, err := io.Copy(h, tr); err != nil {
			t.Fatal(err)
		}
		_ = tr.Close()
		out = append(out, fmt.Sprintf("%x", h.Sum(nil)))
	}
	return out
}

func (p *drPool) copies(t *testing.T) []replicate.Copy {
	t.Helper()
	cs, err := replicate.ListCopies(context.Background(), p.client)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// serveDR starts xbr serve with the pools main and standby and one job,
// dr, replicating main to standby's "Local storage" every hour with
// copy_retention retention; option, when set, is one more line of the job
// (e.g. "xapi_compression: gzip").
func serveDR(t *testing.T, main, standby *drPool, retention int, option string) *server {
	t.Helper()
	if option != "" {
		option = "    " + option + "\n"
	}
	cfg := filepath.Join(t.TempDir(), "xbr.yaml")
	doc := fmt.Sprintf(`pools:
  - {name: main, url: %q, username: root, password: "${XBR_TEST_MAIN_PASSWORD}"}
  - {name: standby, url: %q, username: root, password: "${XBR_TEST_STANDBY_PASSWORD}"}
jobs:
  - name: dr
    mode: replicate
    pools: [main]
    target: {pool: standby, sr: Local storage}
%s    schedules:
      - {name: hourly, cron: "0 * * * *", timezone: UTC, copy_retention: %d}
`, main.url, standby.url, option, retention)
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"XBR_TEST_MAIN_PASSWORD=" + main.pass, "XBR_TEST_STANDBY_PASSWORD=" + standby.pass}
	return startServe(t, env, "--config", cfg, "--data-dir", t.TempDir(), "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0")
}

// TestDisasterRecoveryThroughServe is issue 9's end-to-end case: xbr serve
// as a real process with a main and a standby pool.
func TestDisasterRecoveryThroughServe(t *testing.T) {
	main, standby := drStartPool(t, "main", 2), drStartPool(t, "standby", 1)
	s := serveDR(t, main, standby, 1, "xapi_compression: gzip")
	url := s.natsURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var sources []xapisim.VMInfo
	for _, vm := range main.sim.VMs() {
		if !vm.IsSnapshot && !vm.IsTemplate {
			sources = append(sources, vm)
		}
	}
	for i := range 2 {
		out, errOut, code := xbr(t, ctx, nil, "run", "dr", "--wait", "--nats", url)
		if code != 0 {
			t.Fatalf("run %d: exit %d\n%s\n%s\nserver:\n%s", i+1, code, out, errOut, s.output())
		}
		checkReplicateLines(t, out, sources)
	}
	checkReplicateHistory(t, ctx, url)
	byVM := map[string][]replicate.Copy{}
	for _, c := range standby.copies(t) {
		byVM[c.VMUUID] = append(byVM[c.VMUUID], c)
	}
	for _, vm := range sources {
		cs := byVM[vm.UUID]
		if len(cs) != 1 || !cs[0].Standby() || cs[0].SR == "" {
			t.Fatalf("vm %s: copies on the standby pool %+v, want one complete start-blocked copy", vm.NameLabel, cs)
		}
		rec, err := standby.client.VMRecord(ctx, cs[0].Ref)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(strings.Join(rec.Tags, ","), replicate.TagDR) || rec.BlockedOperations["start"] == "" {
			t.Errorf("copy %s: tags %v, blocked %v", cs[0].Name, rec.Tags, rec.BlockedOperations)
		}
		if src, cp := main.diskDigests(t, vm.Ref), standby.diskDigests(t, string(cs[0].Ref)); strings.Join(src, ",") != strings.Join(cp, ",") {
			t.Errorf("vm %s: copy disks %v differ from the source's %v", vm.NameLabel, cp, src)
		}
	}
	if snaps := main.sim.Snapshots(); len(snaps) != 0 {
		t.Errorf("snapshots left on the main pool: %+v", snaps)
	}

	// A cut export: the run fails and the copies stay.
	main.sim.SetFaults(xapisim.Faults{DropAfter: 1024})
	if _, _, code := xbr(t, ctx, nil, "run", "dr", "--wait", "--nats", url); code != 1 {
		t.Errorf("run with cut exports: exit %d, want 1 (failure)", code)
	}
	main.sim.SetFaults(xapisim.Faults{})
	after := standby.copies(t)
	if len(after) != len(sources) {
		t.Fatalf("%d copies after the failed run, want %d: %+v", len(after), len(sources), after)
	}
	for _, c := range after {
		if c.UUID != byVM[c.VMUUID][0].UUID {
			t.Errorf("copy %s replaced by %s after a failed run", byVM[c.VMUUID][0].UUID, c.UUID)
		}
	}

	drLsAndFailover(t, ctx, s, url, standby, sources[0], byVM[sources[0].UUID][0])
	drFailoverChecksTheSource(t, ctx, s, url, main, standby, sources[1], byVM[sources[1].UUID][0])
}

// checkReplicateLines: `run <replicate job> --wait` printed each VM's lines,
// as a backup run does.
func checkReplicateLines(t *testing.T, out string, sources []xapisim.VMInfo) {
	t.Helper()
	for _, vm := range sources {
		if !strings.Contains(out, vm.UUID+"): replicating to pool standby") || !strings.Contains(out, vm.UUID+"): done, copy ") {
			t.Errorf("no replicate lines for %s:\n%s", vm.NameLabel, out)
		}
	}
}

// checkReplicateHistory: xbr history labels a replicate job's runs
// "replicate run".
func checkReplicateHistory(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if out, _, _ := xbr(t, ctx, nil, "history", "--nats", url); !strings.Contains(out, "replicate run ") || strings.Contains(out, "backup run ") {
		t.Errorf("history labels a replicate job's runs otherwise than \"replicate run\":\n%s", out)
	}
}

func drLsAndFailover(t *testing.T, ctx context.Context, s *server, url string, standby *drPool, vm xapisim.VMInfo, cp replicate.Copy) {
	t.Helper()
	out, errOut, code := xbr(t, ctx, nil, "dr", "ls", "--json", "--nats", url)
	if code != 0 {
		t.Fatalf("dr ls: exit %d: %s", code, errOut)
	}
	var listed []events.DRCopy
	if err := json.Unmarshal([]byte(out), &listed); err != nil {
		t.Fatalf("dr ls --json: %v\n%s", err, out)
	}
	found := false
	for _, l := range listed {
		found = found || (l.UUID == cp.UUID && l.State == events.DRStateStandby && l.VMName == vm.NameLabel)
	}
	if !found {
		t.Fatalf("dr ls does not list copy %s of %s as standby:\n%s", cp.UUID, vm.NameLabel, out)
	}
	out, errOut, code = xbr(t, ctx, nil, "dr", "failover", vm.NameLabel, "--start", "--force", "--yes", "--wait", "--nats", url)
	if code != 0 || !strings.Contains(out, cp.UUID) || !strings.Contains(out, "completed") {
		t.Fatalf("dr failover: exit %d\n%s\n%s\nserver:\n%s", code, out, errOut, s.output())
	}
	rec, err := standby.client.VMRecord(ctx, cp.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if rec.PowerState != xapi.Running || rec.BlockedOperations["start"] != "" {
		t.Errorf("after failover: power %s, blocked %v", rec.PowerState, rec.BlockedOperations)
	}
	if strings.Contains(s.output(), standby.pass) {
		t.Error("a pool password reached the server's logs")
	}
}

// drFailoverChecksTheSource (finding 10): no confirmation without a
// terminal, and no failover while the source VM runs unless forced.
func drFailoverChecksTheSource(t *testing.T, ctx context.Context, s *server, url string, main, standby *drPool, vm xapisim.VMInfo, cp replicate.Copy) {
	t.Helper()
	blocked := func() bool {
		rec, err := standby.client.VMRecord(ctx, cp.Ref)
		if err != nil {
			t.Fatal(err)
		}
		return rec.BlockedOperations["start"] != "" && rec.PowerState == xapi.Halted
	}
	if err := main.sim.SetPowerState(vm.Ref, "Running"); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := xbr(t, ctx, nil, "dr", "failover", vm.NameLabel, "--start", "--nats", url)
	if code == 0 || !strings.Contains(errOut, "not a terminal") || !strings.Contains(errOut, "--yes") || !blocked() {
		t.Fatalf("failover without a terminal nor --yes: exit %d: %s", code, errOut)
	}
	out, errOut, code := xbr(t, ctx, nil, "dr", "failover", vm.NameLabel, "--start", "--yes", "--wait", "--nats", url)
	want := "REFUSED: source VM " + vm.NameLabel + " is still running on pool main; stop it or use --force"
	if code != 1 || !strings.Contains(out, want) || !blocked() {
		t.Fatalf("failover while the source runs: exit %d, want 1 and %q\n%s\n%s\nserver:\n%s", code, want, out, errOut, s.output())
	}
	if err := main.sim.SetPowerState(vm.Ref, "Halted"); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = xbr(t, ctx, nil, "dr", "failover", vm.NameLabel, "--yes", "--wait", "--nats", url)
	if code != 0 || !strings.Contains(out, "source VM halted on pool main") || blocked() {
		t.Fatalf("failover once the source is halted: exit %d\n%s\n%s", code, out, errOut)
	}
}
