package gateway_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

// TestProtectionPageIsTheLandingView: GET / lists every VM of the simulated
// pool with its state (the demo job selects them all and never ran, so
// they are late), counts per state, sort links, the next fires, and the
// restore wizard's first step moved to /restore.
func TestProtectionPageIsTheLandingView(t *testing.T) {
	h := newHarness(t)
	code, page := h.do(t, "GET", "/", nil, "")
	if code != http.StatusOK {
		t.Fatalf("GET /: %d\n%s", code, page)
	}
	vms := 0
	for _, vm := range h.sim.VMs() {
		if vm.IsSnapshot || vm.IsTemplate {
			continue
		}
		vms++
		if !strings.Contains(page, `<tr data-vm="`+vm.UUID+`" data-state="late">`) {
			t.Errorf("vm %s is not listed as late", vm.UUID)
		}
	}
	for _, want := range []string{`<span class="count">0</span> ok`, `<a href="/?sort=age">Age of newest copy</a>`,
		`<circle class="fire"`, "nightly / daily", `href="/restore">Restore</a>`, "job nightly: no successful copy yet"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if !strings.Contains(page, `<tr data-remote="nfs">`) || strings.Contains(page, "unknown") || !strings.Contains(page, "space used on nfs over 30 days, at most 0 B") {
		t.Errorf("the nfs remote's space (one backup listed, free space known, nothing written by a run):\n%s", page)
	}
	if n := strings.Count(page, `<tr data-vm=`); n != vms {
		t.Errorf("%d rows, want %d (the VMs; no template or snapshot)", n, vms)
	}
	if _, ok := h.do(t, "GET", "/?state=ok", nil, ""); !strings.Contains(ok, "No VM is ok.") {
		t.Errorf("?state=ok shows VMs:\n%s", ok)
	}
	if code, _ := h.do(t, "GET", "/?sort=age", nil, ""); code != http.StatusOK {
		t.Errorf("?sort=age: %d", code)
	}
	for _, bad := range []string{"/?state=fine", "/?sort=name"} {
		if code, _ := h.do(t, "GET", bad, nil, ""); code != http.StatusBadRequest {
			t.Errorf("GET %s: %d, want 400", bad, code)
		}
	}
}

// TestProtectionPageSaysWhenAPoolCannotBeRead: an unreachable pool is an
// error on the page, never VMs shown missing or unprotected.
func TestProtectionPageSaysWhenAPoolCannotBeRead(t *testing.T) {
	g := serveGateway(t) // its pool is at 127.0.0.1:9
	// While the history is replayed the page says so; then the pool's error.
	page := g.waitUntil(t, "/", "the pool's error", func(page string) bool {
		return strings.Contains(page, `role="alert">The protection cannot be computed: protection: pool lab`)
	})
	if strings.Contains(page, "<tr data-vm=") {
		t.Errorf("VMs listed while the pool cannot be read")
	}
}

// FuzzProtectionRequest: any ?state and ?sort gets the page or a 400 that
// names the field, never a server error.
func FuzzProtectionRequest(f *testing.F) {
	g := serveGateway(f)
	for _, seed := range []string{"late", "age", "", "%00", "<script>", strings.Repeat("x", 300)} {
		f.Add(seed, seed)
	}
	f.Fuzz(func(t *testing.T, state, sortBy string) {
		path := "/?" + url.Values{"state": {state}, "sort": {sortBy}}.Encode()
		resp, err := http.Get(g.base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusOK:
		case resp.StatusCode == http.StatusBadRequest && (strings.Contains(string(body), "state") || strings.Contains(string(body), "sort")):
		default:
			t.Fatalf("GET %s: status %d: %s", path, resp.StatusCode, body)
		}
	})
}

// TestProtectionPageChartsUsedSpace: the remote's chart is its used space
// at the end of each of the last 30 days, from xbr.remote.usage: the
// newest measurement of a day, carried over the days without one, nothing
// before the first.
func TestProtectionPageChartsUsedSpace(t *testing.T) {
	g := serveGateway(t)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	day := func(n int) string { return today.AddDate(0, 0, n).Format(time.DateOnly) }
	usage := func(used int64) events.RemoteUsage {
		return events.RemoteUsage{RunID: "4e1d3c2b5a69788796a5b4c3d2e1f001", Job: "nightly", Remote: "nfs", UsedBytes: used, Objects: 3}
	}
	g.publish(t, today.AddDate(0, 0, -40), usage(1<<30)) // older than the chart: only carried into it
	g.publish(t, today.AddDate(0, 0, -3).Add(time.Hour), usage(100<<20))
	g.publish(t, today.AddDate(0, 0, -1).Add(time.Hour), usage(250<<20))
	g.publish(t, today.AddDate(0, 0, -1).Add(2*time.Hour), usage(300<<20))
	g.publish(t, today.Add(time.Minute), usage(200<<20))
	page := g.waitPage(t, "/", "<title>"+day(0)+": 200.0 MiB used</title>")
	for _, want := range []string{day(-29) + ": 1.0 GiB used", day(-4) + ": 1.0 GiB used", day(-3) + ": 100.0 MiB used",
		day(-2) + ": 100.0 MiB used", day(-1) + ": 300.0 MiB used", "space used on nfs over 30 days, at most 1.0 GiB"} {
		if !strings.Contains(page, want) {
			t.Errorf("the chart lacks %q:\n%s", want, grep(page, "used"))
		}
	}
	if n := strings.Count(page, " used</title>"); n != 30 {
		t.Errorf("%d bars, want 30", n)
	}
}

func grep(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestProtectionPageDaysBeforeTheFirstMeasurement: the chart does not
// claim 0 B for the days before xbr first measured the remote.
func TestProtectionPageDaysBeforeTheFirstMeasurement(t *testing.T) {
	g := serveGateway(t)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	day := func(n int) string { return today.AddDate(0, 0, n).Format(time.DateOnly) }
	g.publish(t, today.AddDate(0, 0, -2).Add(time.Hour), events.RemoteUsage{RunID: "4e1d3c2b5a69788796a5b4c3d2e1f002",
		Job: "nightly", Remote: "nfs", UsedBytes: 100 << 20, Objects: 3})
	page := g.waitPage(t, "/", "<title>"+day(-2)+": 100.0 MiB used</title>")
	for _, want := range []string{day(-3) + ": not measured yet", day(-29) + ": not measured yet", day(0) + ": 100.0 MiB used"} {
		if !strings.Contains(page, want) {
			t.Errorf("the chart lacks %q:\n%s", want, grep(page, "</title>"))
		}
	}
	if strings.Contains(page, ": 0 B used") {
		t.Errorf("a day before the first measurement reads 0 B:\n%s", grep(page, "0 B used"))
	}
}

// TestProtectionTimelineInTheScheduleZone: the next fires read in each
// schedule's own time zone, named, as its cron expression speaks of them.
func TestProtectionTimelineInTheScheduleZone(t *testing.T) {
	h := newHarness(t)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	sc := &h.env.Config.Jobs[0].Schedules[0]
	sc.Timezone, sc.Location = "Europe/Paris", paris
	_, page := h.do(t, "GET", "/", nil, "")
	if !regexp.MustCompile(` 02:00:00 CES?T</time>: nightly / daily`).MatchString(page) {
		t.Errorf("the fire of \"0 2 * * *\" Europe/Paris is not shown at 02:00 CET/CEST:\n%s", grep(page, "nightly / daily"))
	}
}

// TestProtectionOutlivesTheRunsKept: a VM's newest good copy still counts
// once more than gateway.history_runs runs ended after it (an hourly job's,
// restores, verify runs): the VMs the nightly run copied are ok, with that
// copy, not late with "no successful copy yet".
func TestProtectionOutlivesTheRunsKept(t *testing.T) {
	sim, simURL := startSim(t)
	g := serveGatewayOn(t, simURL, "history_runs: 2")
	now := time.Now()
	id := func(i int) string { return fmt.Sprintf("4e1d3c2b5a69788796a5b4c3d2e1f1%02d", i) }
	var vms []events.RunVM
	var results []events.VMResult
	for _, vm := range sim.VMs() {
		if !vm.IsSnapshot && !vm.IsTemplate {
			vms = append(vms, events.RunVM{VMUUID: vm.UUID, Pool: "lab"})
			results = append(results, events.VMResult{VMUUID: vm.UUID, Status: events.StatusSuccess})
		}
	}
	g.publish(t, now.Add(-3*time.Hour), events.RunStarted{RunID: id(0), Job: "nightly", Schedule: "daily",
		Mode: events.ModeFull, FireTime: now.Add(-3 * time.Hour), VMs: vms})
	g.publish(t, now.Add(-2*time.Hour), events.RunCompleted{RunID: id(0), Job: "nightly", Schedule: "daily",
		Status: events.StatusSuccess, Results: results})
	for i := 1; i <= 3; i++ {
		g.publish(t, now.Add(-time.Hour+time.Duration(i)*time.Minute), events.RunCompleted{RunID: id(i), Job: "hourly",
			Schedule: "hourly", Status: events.StatusSkipped, Reason: "no VM selected"})
	}
	g.waitPage(t, "/history", "/history/"+id(3))
	_, page := g.get(t, "/")
	for _, vm := range vms {
		if !strings.Contains(page, `<tr data-vm="`+vm.VMUUID+`" data-state="ok">`) {
			t.Errorf("vm %s is not ok after 3 runs of another job:\n%s", vm.VMUUID, grep(page, "data-vm="))
		}
	}
	if strings.Contains(page, "no successful copy yet") {
		t.Errorf("a VM copied 2 hours ago is said to have no copy:\n%s", grep(page, "no successful copy"))
	}
}

// TestProtectionDoesNotListStandbyCopies: a replicate job's standby copy
// (start blocked, its keys naming the VM it copies) is a copy, like a
// snapshot, not a VM to protect: the standby pool's copies are not listed
// as unprotected VMs (nor alerted, nor counted in the daily report). A copy
// that was failed over (start unblocked) is a VM again and is listed.
func TestProtectionDoesNotListStandbyCopies(t *testing.T) {
	h := newHarness(t)
	h.env.Config.Jobs[0].VMs.UUIDs = []string{h.vm.UUID} // the nightly job selects one VM
	ctx := context.Background()
	c, err := h.env.Pools.Client(ctx, "lab")
	if err != nil {
		t.Fatal(err)
	}
	src, err := c.VMByUUID(ctx, h.vm.UUID)
	if err != nil {
		t.Fatal(err)
	}
	copyRef, err := c.Clone(ctx, src, h.vm.NameLabel+" - dr - (20261201T020000Z)")
	if err != nil {
		t.Fatal(err)
	}
	kv := append(xotag.Keys("dr", "hourly", h.vm.UUID, "", time.Now()), xotag.KV{Key: xotag.KeySR, Value: "sr-uuid"})
	for _, p := range kv {
		if err := c.AddToOtherConfig(ctx, copyRef, p.Key, p.Value); err != nil {
			t.Fatal(err)
		}
	}
	for _, op := range []string{"start", "start_on"} {
		if err := c.AddToBlockedOperations(ctx, copyRef, op, "a Disaster Recovery copy"); err != nil {
			t.Fatal(err)
		}
	}
	copyUUID := cachedUntil(t, c, copyRef, "the copy with start blocked", func(vm xapi.VM) bool {
		_, blocked := vm.BlockedOperations["start"]
		return blocked && vm.OtherConfig[xotag.KeySR] != ""
	})
	_, page := h.do(t, "GET", "/", nil, "")
	if strings.Contains(page, `data-vm="`+copyUUID+`"`) {
		t.Errorf("the standby copy %s is listed:\n%s", copyUUID, grep(page, "data-vm="))
	}
	if !strings.Contains(page, `<tr data-vm="`+h.vm.UUID+`" data-state="late">`) {
		t.Errorf("the VM it copies is not listed late:\n%s", grep(page, "data-vm="))
	}
	// Failed over: start unblocked, the copy runs production now.
	for _, op := range []string{"start", "start_on"} {
		if err := c.RemoveFromBlockedOperations(ctx, copyRef, op); err != nil {
			t.Fatal(err)
		}
	}
	cachedUntil(t, c, copyRef, "the copy with start unblocked", func(vm xapi.VM) bool {
		_, blocked := vm.BlockedOperations["start"]
		return !blocked
	})
	if _, page := h.do(t, "GET", "/", nil, ""); !strings.Contains(page, `<tr data-vm="`+copyUUID+`" data-state="unprotected">`) {
		t.Errorf("the failed-over copy %s is not listed unprotected:\n%s", copyUUID, grep(page, "data-vm="))
	}
}

// cachedUntil waits until the pool's cached record of vm satisfies ok, and
// returns its uuid.
func cachedUntil(t *testing.T, c *xapi.Client, vm xapi.VMRef, what string, ok func(xapi.VM) bool) string {
	t.Helper()
	var uuid string
	testsupport.Eventually(t, 10*time.Second, what, func() bool {
		vms, err := c.CachedVMs(context.Background())
		rec, found := vms[vm]
		uuid = rec.UUID
		return err == nil && found && ok(rec)
	})
	return uuid
}

// TestProtectionOfARestoredVMOutlivesTheRunsKept: a VM an xbr restore
// created half an hour ago is new (its first copy is due within the RPO),
// not late, once more than gateway.history_runs runs ended after its
// restore; a VM without a copy that no restore created is late.
func TestProtectionOfARestoredVMOutlivesTheRunsKept(t *testing.T) {
	sim, simURL := startSim(t)
	g := serveGatewayOn(t, simURL, "history_runs: 2")
	ctx := context.Background()
	c, err := g.env.Pools.Client(ctx, "lab")
	if err != nil {
		t.Fatal(err)
	}
	var vms []string
	for _, vm := range sim.VMs() {
		if !vm.IsSnapshot && !vm.IsTemplate {
			vms = append(vms, vm.UUID)
		}
	}
	restored, other := vms[0], vms[1]
	ref, err := c.VMByUUID(ctx, restored)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	id := func(i int) string { return fmt.Sprintf("5f2e4d3c6b7a8998a7b6c5d4e3f2a1%02d", i) }
	if err := c.AddToOtherConfig(ctx, ref, xotag.KeyRestoreRequest, id(0)); err != nil {
		t.Fatal(err)
	}
	cachedUntil(t, c, ref, "the VM naming its restore", func(vm xapi.VM) bool {
		return vm.OtherConfig[xotag.KeyRestoreRequest] == id(0)
	})
	backup := "nfs:" + other + "/20261201T020000Z"
	g.publish(t, now.Add(-40*time.Minute), events.RestoreRequested{RequestID: id(0), BackupID: backup, Pool: "lab"})
	g.publish(t, now.Add(-30*time.Minute), events.RestoreCompleted{RequestID: id(0), BackupID: backup, Pool: "lab",
		NewVMUUID: restored, NewVMName: "restored", Bytes: 4096, DurationMS: 600000})
	for i := 1; i <= 3; i++ {
		g.publish(t, now.Add(-20*time.Minute+time.Duration(i)*time.Minute), events.RunCompleted{RunID: id(i), Job: "hourly",
			Schedule: "hourly", Status: events.StatusSkipped, Reason: "no VM selected"})
	}
	g.waitPage(t, "/history", "/history/"+id(3))
	_, page := g.get(t, "/")
	if !strings.Contains(page, `<tr data-vm="`+restored+`" data-state="new">`) {
		t.Errorf("vm %s restored 30 minutes ago is not new after 3 runs of another job:\n%s", restored, grep(page, "data-vm="))
	}
	if !strings.Contains(page, `<tr data-vm="`+other+`" data-state="late">`) {
		t.Errorf("vm %s, never copied nor restored, is not late:\n%s", other, grep(page, "data-vm="))
	}
}
