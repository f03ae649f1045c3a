package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"xbr/events"
	"xbr/shared/testsupport"
	"xbr/shared/xapi/xapisim"
)

// TestProtectionAcceptance is issue 18's acceptance: 3 VMs and a job
// selecting 2 by UUID with a short rpo. After a run `xbr protection --json`
// shows the 2 ok and the third unprotected, the Protection page in Chromium
// shows the same (reached with the keyboard; screenshot
// tests/artifacts/protection.png) and the metrics say so; past the RPO the
// 2 become late; after a failing run (the SR is full) they are failing.
func TestProtectionAcceptance(t *testing.T) {
	p := startPool(t, xapisim.Options{VMs: 3, DiskSize: 4 << 20})
	vms := p.userVMs()
	if len(vms) != 3 {
		t.Fatalf("the pool has %d VMs, want 3", len(vms))
	}
	picked, other := []string{vms[0].UUID, vms[1].UUID}, vms[2].UUID
	dirPath, _ := dirRemote(t, "nfs")
	cfg := writeFile(t, "xbr.yaml", configYAML(p, fmt.Sprintf(`  - {name: nfs, type: dir, path: %s}`, dirPath),
		fmt.Sprintf(`  - name: nightly
    pools: [lab]
    remotes: [nfs]
    vms: {uuids: [%s, %s]}
    rpo: 40s
    schedules:
      - {name: daily, cron: "0 2 * * *", retention: 3}`, picked[0], picked[1])))
	s := startServe(t, []string{"XBR_TEST_POOL_PASSWORD=" + p.pass}, "--config", cfg, "--data-dir", t.TempDir(),
		"--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0")
	line, ok := s.waitLog(t, "gateway listening", 30*time.Second)
	if !ok {
		t.Fatalf("no 'gateway listening' line:\n%s", s.output())
	}
	base, _ := line["url"].(string)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if out, errOut, code := xbr(t, ctx, nil, "run", "nightly", "--wait", "--nats", s.natsURL(t)); code != 0 {
		t.Fatalf("xbr run --wait: exit %d\n%s\n%s\nserver:\n%s", code, out, errOut, s.output())
	}
	want := func(st string) map[string]string {
		return map[string]string{picked[0]: st, picked[1]: st, other: events.ProtectionUnprotected}
	}
	waitStates(t, ctx, s, "ok after the run", want(events.ProtectionOK))
	for _, u := range picked {
		series := `xbr_vm_protection_state{pool="lab",state="ok",vm="` + u + `"} 1`
		if m := httpGet(t, base+"/metrics"); !strings.Contains(m, series) || !strings.Contains(m, `xbr_vm_last_success_timestamp_seconds{job="nightly",kind="backup",pool="lab",vm="`+u+`"}`) {
			t.Errorf("/metrics lacks %s or its last success:\n%s", series, grepLines(m, "xbr_vm_"))
		}
	}
	// The chart's bar is the remote's usage, measured by the prune function after
	// the run ended (xbr.remote.usage): run --wait may return before it.
	waitEvent(t, ctx, s.natsURL(t), events.TypeRemoteUsage, func(events.Received) bool { return true })
	protectionInChromium(t, base, picked, other)

	waitStates(t, ctx, s, "late past the 40s RPO", want(events.ProtectionLate))
	if m := httpGet(t, base+"/metrics"); !strings.Contains(m, `xbr_vm_protection_state{pool="lab",state="late",vm="`+picked[0]+`"} 1`) {
		t.Errorf("/metrics does not show the VM late:\n%s", grepLines(m, "xbr_vm_protection_state"))
	}
	p.sim.SetFaults(xapisim.Faults{SRFull: true})
	if _, _, code := xbr(t, ctx, nil, "run", "nightly", "--wait", "--nats", s.natsURL(t)); code == 0 {
		t.Fatalf("a run on a full SR succeeded")
	}
	waitStates(t, ctx, s, "failing after a failed run", want(events.ProtectionFailing))
	out, _, code := xbr(t, ctx, nil, "protection", "--state", "failing,unprotected", "--nats", s.natsURL(t))
	if code != 0 || strings.Count(out, "\nfailing ") != 2 || strings.Count(out, "\nunprotected ") != 1 {
		t.Errorf("xbr protection --state failing,unprotected: exit %d\n%s", code, out)
	}
	// --vm takes a name, as every door does.
	out, errOut, code := xbr(t, ctx, nil, "protection", "--vm", vms[2].NameLabel, "--json", "--nats", s.natsURL(t))
	var one []events.ProtectionVM
	if code != 0 || json.Unmarshal([]byte(out), &one) != nil || len(one) != 1 || one[0].UUID != other || one[0].State != events.ProtectionUnprotected {
		t.Errorf("xbr protection --vm <name>: exit %d\n%s\n%s", code, out, errOut)
	}
}

// waitStates polls `xbr protection --json` until the VMs have the states.
func waitStates(t *testing.T, ctx context.Context, s *server, what string, want map[string]string) {
	t.Helper()
	var last string
	testsupport.Eventually(t, 2*time.Minute, what, func() bool {
		out, errOut, code := xbr(t, ctx, nil, "protection", "--json", "--nats", s.natsURL(t))
		last = out + errOut
		var vms []events.ProtectionVM
		if code != 0 || json.Unmarshal([]byte(out), &vms) != nil || len(vms) != len(want) {
			return false
		}
		for _, v := range vms {
			if want[v.UUID] != v.State {
				return false
			}
		}
		return true
	})
	if t.Failed() {
		t.Logf("last answer: %s", last)
	}
}

// protectionInChromium opens the web page's landing view, checks the
// states and counts, sorts by age with the keyboard and keeps screenshots.
func protectionInChromium(t *testing.T, base string, picked []string, other string) {
	t.Helper()
	bctx := gwBrowser(t)
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			gwScreenshot(t, bctx, "protection-failed.png")
			t.Fatalf("%s: %v", what, err)
		}
	}
	state := func(u string) string {
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('tr[data-vm="`+u+`"]').dataset.state`))
		if err != nil {
			t.Fatalf("the row of %s: %v", u, err)
		}
		return v
	}
	step("open the landing view", chromedp.EmulateViewport(1200, 900), chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("protection")))
	for _, u := range picked {
		if got := state(u); got != events.ProtectionOK {
			t.Errorf("the page shows %s %s, want ok", u, got)
		}
	}
	if got := state(other); got != events.ProtectionUnprotected {
		t.Errorf("the page shows %s %s, want unprotected", other, got)
	}
	counts, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('ul.counts').innerText`))
	if err != nil || !strings.Contains(counts, "2 ok") || !strings.Contains(counts, "1 unprotected") {
		t.Errorf("the counts read %q (%v)", counts, err)
	}
	bars, err := chromedp.Run(bctx, chromedp.Evaluate[int](`[...document.querySelectorAll('tr[data-remote="nfs"] svg rect')].filter(r => r.height.baseVal.value > 0).length`))
	if err != nil || bars != 1 {
		t.Errorf("the nfs remote's chart has %d bars above zero (%v), want 1 (today's run)", bars, err)
	}
	gwScreenshot(t, bctx, "protection.png")
	sortLink := chromedp.CSS(`th a[href="/?sort=age"]`)
	step("sort by age with the keyboard", chromedp.Focus(sortLink), chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(`th[aria-sort="descending"]`)))
	first, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('#protection tbody tr').dataset.vm`))
	if err != nil || first != other {
		t.Errorf("sorted by age, the first row is %q (%v), want the VM with no copy %s", first, err, other)
	}
	step("open a VM's backups", chromedp.Click(chromedp.CSS(`tr[data-vm="`+picked[0]+`"] a[href^="/restore?"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a.button[href*="backup="]`)))
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
