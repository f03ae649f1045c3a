package tests

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"xbr/shared/testsupport"
	"xbr/shared/xapi/xapisim"
)

// TestHistoryPageInChromium runs a real backup (`xbr run --wait` through
// `xbr serve`, two VMs exported at a limited rate so they report progress),
// then opens the History page in headless Chromium, follows the run's link
// with the keyboard and checks the chart: one line per VM, as many points
// as `xbr history --rates` has samples, a legend and a data table; on a
// phone-sized screen the page does not overflow. Screenshots are left in
// tests/artifacts/ (history-list.png, history-run.png, history-run-narrow.png).
func TestHistoryPageInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		testsupport.Missing(t, "%s is missing (scripts/tool-chromium.sh installs it): %v", chromiumPath, err)
	}
	p := startPool(t, xapisim.Options{VMs: 2, DiskSize: 36 << 20, Faults: xapisim.Faults{RateLimit: 1 << 20}})
	dirPath, _ := dirRemote(t, "nfs")
	cfg := writeFile(t, "xbr.yaml", configYAML(p, fmt.Sprintf(`  - {name: nfs, type: dir, path: %s}`, dirPath),
		`  - name: nightly
    pools: [lab]
    remotes: [nfs]
    compression: gzip
    schedules:
      - {name: daily, cron: "0 2 * * *", retention: 3}`))
	s := startServe(t, []string{"XBR_TEST_POOL_PASSWORD=" + p.pass}, "--config", cfg, "--data-dir", t.TempDir(),
		"--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0")
	line, ok := s.waitLog(t, "gateway listening", 30*time.Second)
	if !ok {
		t.Fatalf("no 'gateway listening' line:\n%s", s.output())
	}
	base, _ := line["url"].(string)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, errOut, code := xbr(t, ctx, nil, "run", "nightly", "--wait", "--nats", s.natsURL(t))
	if code != 0 || !strings.HasPrefix(out, "run ") {
		t.Fatalf("xbr run --wait: exit %d\n%s\n%s\nserver:\n%s", code, out, errOut, s.output())
	}
	runID := strings.TrimSuffix(strings.Fields(out)[1], ":")
	runs := historyOf(t, ctx, s.natsURL(t), "--run", runID)
	if len(runs) != 1 || runs[0].Status != "success" || len(runs[0].Rates) < 2 {
		t.Fatalf("xbr history of run %s: %+v, want success with progress samples", runID, runs)
	}
	samples := len(runs[0].Rates)
	testsupport.Eventually(t, 30*time.Second, "the gateway's history to hold the run and its samples", func() bool {
		page := httpGet(t, base+"/history/"+runID)
		return strings.Contains(page, `state-success">success`) && strings.Count(page, "<circle ") == samples
	})

	bctx := gwBrowser(t)
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			gwScreenshot(t, bctx, "history-failed.png")
			t.Fatalf("%s: %v\nserver log:\n%s", what, err, s.output())
		}
	}
	eval := func(js string) int {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[int](js))
		if err != nil {
			t.Fatalf("evaluate %s: %v", js, err)
		}
		return v
	}
	step("open the Restore view", chromedp.EmulateViewport(1100, 900), chromedp.Navigate(base+"/restore"),
		chromedp.WaitVisible(chromedp.CSS(`nav a[href="/history"]`)))
	step("follow History from the nav", chromedp.Focus(chromedp.CSS(`nav a[href="/history"]`)), chromedp.KeyEvent(kb.Enter))
	runLink := chromedp.CSS(`h3 a[href="/history/` + runID + `"]`)
	step("the run on the list", chromedp.WaitVisible(runLink))
	gwScreenshot(t, bctx, "history-list.png")
	step("open the run with the keyboard", chromedp.Focus(runLink), chromedp.KeyEvent(kb.Enter))
	step("wait for the chart", chromedp.WaitVisible(chromedp.CSS(`svg[role="img"] polyline`)))
	if n := eval(`document.querySelectorAll('svg[role="img"] polyline').length`); n != 2 {
		t.Errorf("the chart has %d lines, want one per VM (2)", n)
	}
	pts := eval(`[...document.querySelectorAll('svg[role="img"] polyline')].reduce((n, l) => n + l.points.numberOfItems, 0)`)
	if pts != samples {
		t.Errorf("the chart draws %d points, xbr history has %d progress samples", pts, samples)
	}
	if n := eval(`document.querySelectorAll('.legend li').length`); n != 2 {
		t.Errorf("the legend has %d entries, want 2", n)
	}
	if n := eval(`document.querySelectorAll('.chart-data tbody tr').length`); n != samples {
		t.Errorf("the data table has %d rows, want %d", n, samples)
	}
	gwScreenshot(t, bctx, "history-run.png")

	step("the run on a phone", chromedp.EmulateViewport(375, 740), chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS(`svg[role="img"]`)))
	if w, inner := eval(`document.documentElement.scrollWidth`), eval(`window.innerWidth`); w != inner {
		t.Errorf("on a 375px screen the run page is %dpx wide (viewport %dpx)", w, inner)
	}
	gwScreenshot(t, bctx, "history-run-narrow.png")
}

func httpGet(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
