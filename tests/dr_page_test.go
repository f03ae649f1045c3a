package tests

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"xbr/shared/testsupport"
	"xbr/shared/xapi"
)

// TestDRFailoverPageInChromium replicates a VM with a real `xbr run`, then
// fails it over from the Disaster recovery page in headless Chromium by
// keyboard (nav link, failover link, "start it now", the button; refused
// while the original VM runs, then back, "force", the button) and checks
// the copy on the standby pool: running and no longer start-blocked. The
// list must fit a phone screen. Screenshots are left in tests/artifacts/.
func TestDRFailoverPageInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		testsupport.Missing(t, "%s is missing (scripts/tool-chromium.sh installs it): %v", chromiumPath, err)
	}
	main, standby := drStartPool(t, "main", 1), drStartPool(t, "standby", 1)
	s := serveDR(t, main, standby, 1, "")
	line, ok := s.waitLog(t, "gateway listening", 30*time.Second)
	if !ok {
		t.Fatalf("no 'gateway listening' line:\n%s", s.output())
	}
	base, _ := line["url"].(string)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, errOut, code := xbr(t, ctx, nil, "run", "dr", "--wait", "--nats", s.natsURL(t)); code != 0 {
		t.Fatalf("xbr run dr: exit %d\n%s\n%s\nserver:\n%s", code, out, errOut, s.output())
	}
	copies := standby.copies(t)
	if len(copies) != 1 || !copies[0].Standby() {
		t.Fatalf("copies on the standby pool: %+v, want one on standby", copies)
	}
	cp := copies[0]

	bctx := gwBrowser(t)
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			gwScreenshot(t, bctx, "dr-failed.png")
			t.Fatalf("%s: %v\nserver log:\n%s", what, err, s.output())
		}
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return v
	}
	navLink := chromedp.CSS(`nav a[href="/dr"]`)
	step("open the Restore view", chromedp.EmulateViewport(1100, 900), chromedp.Navigate(base+"/restore"), chromedp.WaitVisible(navLink))
	step("follow Disaster recovery from the nav", chromedp.Focus(navLink), chromedp.KeyEvent(kb.Enter))
	latest := chromedp.CSS(`a.button[href*="vm=` + cp.VMUUID + `"]`)
	step("the VM and its copy on the list", chromedp.WaitVisible(latest))
	if list := eval(`document.querySelector('main').innerText`); !strings.Contains(list, cp.Name) || !strings.Contains(list, "standby") || !strings.Contains(list, "ago") {
		t.Errorf("the list does not show copy %s on standby with its age:\n%s", cp.Name, list)
	}
	gwScreenshot(t, bctx, "dr-list.png")
	step("open the failover with the keyboard", chromedp.Focus(latest), chromedp.KeyEvent(kb.Enter))
	step("the confirmation", chromedp.WaitVisible(chromedp.ID("source-warning")))
	if got := eval(`document.querySelector('main').innerText`); !strings.Contains(got, cp.UUID) || !strings.Contains(got, "same MAC addresses") {
		t.Errorf("the confirmation does not name copy %s or warn about the MAC addresses:\n%s", cp.UUID, got)
	}
	step("tick start it now with Space", chromedp.Focus(chromedp.ID("start")), chromedp.KeyEvent(" "))
	if got := eval(`String(document.getElementById('start').checked)`); got != "true" {
		t.Fatalf("the start checkbox is %s after Space", got)
	}
	gwScreenshot(t, bctx, "dr-confirm.png")
	// The original VM runs on the main pool: the failover is refused (finding 10).
	step("press the button with Enter", chromedp.Focus(chromedp.ID("failover")), chromedp.KeyEvent(kb.Enter))
	step("the refusal", chromedp.WaitVisible(chromedp.ID("back-to-confirm")))
	if got := eval(`document.getElementById('error').textContent`); !strings.Contains(got, "is still running on pool main") {
		t.Errorf("the refusal says %q", got)
	}
	if rec, err := standby.client.VMRecord(ctx, cp.Ref); err != nil || rec.BlockedOperations["start"] == "" {
		t.Fatalf("a refused failover touched the copy: %+v, %v", rec.BlockedOperations, err)
	}
	gwScreenshot(t, bctx, "dr-refused.png")
	step("back to the confirmation with Enter", chromedp.Focus(chromedp.ID("back-to-confirm")), chromedp.KeyEvent(kb.Enter))
	step("the confirmation again", chromedp.WaitVisible(chromedp.ID("force")))
	step("tick start it now and force with Space", chromedp.Focus(chromedp.ID("start")), chromedp.KeyEvent(" "),
		chromedp.Focus(chromedp.ID("force")), chromedp.KeyEvent(" "))
	step("press the button with Enter again", chromedp.Focus(chromedp.ID("failover")), chromedp.KeyEvent(kb.Enter))
	step("the outcome", chromedp.WaitVisible(chromedp.ID("power-state")))
	if got := eval(`document.getElementById('power-state').textContent`); got != string(xapi.Running) {
		t.Errorf("the outcome shows power state %q, want Running", got)
	}
	gwScreenshot(t, bctx, "dr-failover.png")
	rec, err := standby.client.VMRecord(ctx, cp.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if rec.PowerState != xapi.Running || rec.BlockedOperations["start"] != "" {
		t.Errorf("after the failover from the page: power %s, blocked %v", rec.PowerState, rec.BlockedOperations)
	}

	step("the list on a phone", chromedp.EmulateViewport(375, 740), chromedp.Navigate(base+"/dr"), chromedp.WaitVisible(latest))
	if w, inner := eval(`String(document.documentElement.scrollWidth)`), eval(`String(window.innerWidth)`); w != inner {
		t.Errorf("on a 375px screen /dr is %spx wide (viewport %spx)", w, inner)
	}
	if got := eval(`document.querySelector('main').innerText`); !strings.Contains(got, "failed-over") {
		t.Errorf("the list does not show the copy as failed over:\n%s", got)
	}
	gwScreenshot(t, bctx, "dr-list-narrow.png")
}
