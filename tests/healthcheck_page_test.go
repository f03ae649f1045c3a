package tests

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"xbr/events"
	"xbr/shared/testsupport"
	"xbr/shared/xapi/xapisim"
)

// TestHealthCheckFromThePageInChromium asks for health checks from the
// Restore view in headless Chromium, done by the real healthcheck function
// of `xbr serve` on the simulated pool: a guest that boots shows completed,
// one that never boots shows failed (boot-failed) and marks the backup; no
// test VM or disk is left behind.
func TestHealthCheckFromThePageInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		testsupport.Missing(t, "%s is missing (scripts/tool-chromium.sh installs it): %v", chromiumPath, err)
	}
	h := startHealthEnv(t, "20s")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h.backup(t, ctx) // a backup to check (the job's own check passes)
	line, ok := h.s.waitLog(t, "gateway listening", 30*time.Second)
	if !ok {
		t.Fatalf("no 'gateway listening' line:\n%s", h.s.output())
	}
	backups := line["url"].(string) + "/restore?" + url.Values{"remote": {"nfs"}, "vm": {h.src.UUID}}.Encode()
	bctx := gwBrowser(t)
	check := func(want string) (string, string) { return hcFromPage(t, h, bctx, backups, want) }

	since := time.Now()
	id, outcome := check("completed")
	gwScreenshot(t, bctx, "healthcheck-completed.png")
	if !strings.HasPrefix(id, events.HealthCheckIDPrefix) || !strings.Contains(outcome, "The backup boots") {
		t.Fatalf("health check %q: the page says %q", id, outcome)
	}
	ev := h.waitHealth(t, ctx, since, events.TypeHealthCheckCompleted)
	if p, _ := events.PayloadAs[events.HealthCheckCompleted](ev); p.RequestID != id || p.VMUUID != h.src.UUID {
		t.Fatalf("the completed check is %+v, want request %s of VM %s", ev.Payload, id, h.src.UUID)
	}
	h.assertClean(t, "after the passing check from the page")

	h.simFault(t, xapisim.HealthNeverBoots)
	_, outcome = check("failed")
	gwScreenshot(t, bctx, "healthcheck-failed-boot.png")
	if !strings.Contains(outcome, "("+events.HealthReasonBootFailed+")") {
		t.Fatalf("a guest that never boots: the page says %q, want boot-failed", outcome)
	}
	page := httpGet(t, backups)
	if !strings.Contains(page, "failed: "+events.HealthReasonBootFailed) {
		t.Fatalf("the backups page does not mark the failed check:\n%s", page)
	}
	h.assertClean(t, "after the failed check from the page")
}

// hcFromPage asks for a health check of the newest backup from the page at
// backups and waits until its status page shows state want; it returns the
// check's id and the outcome line.
func hcFromPage(t *testing.T, h *hcEnv, bctx context.Context, backups, want string) (id, outcome string) {
	t.Helper()
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			gwScreenshot(t, bctx, "healthcheck-failed.png")
			t.Fatalf("%s: %v\nserver log:\n%s", what, err, h.s.output())
		}
	}
	step("open the VM's backups", chromedp.EmulateViewport(1100, 900), chromedp.Navigate(backups),
		chromedp.WaitVisible(chromedp.CSS(`a.health-run`)))
	step("choose the newest backup's health check", chromedp.Click(chromedp.CSS(`a.health-run`)))
	step("run it on the default SR", chromedp.WaitVisible(chromedp.ID("sr")), chromedp.Click(chromedp.ID("healthcheck")))
	step("wait for the outcome", chromedp.WaitVisible(chromedp.CSS(`#state.state-`+want)))
	path, err := chromedp.Run(bctx, chromedp.Evaluate[string](`window.location.pathname`))
	if err != nil {
		t.Fatal(err)
	}
	if outcome, err = chromedp.Run(bctx, chromedp.Text(chromedp.ID("outcome"))); err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(path, "/healthchecks/"), outcome
}
