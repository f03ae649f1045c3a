package gateway_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"xbr/events"
)

const (
	runOK      = "a1000000000000000000000000000001"
	runFailed  = "a1000000000000000000000000000002"
	runSkipped = "a1000000000000000000000000000003"
	runTwin    = "a1000000000000000000000000000004"
	vmWeb      = "6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f"
	vmDB       = "7c3d2f9e-4e5b-4a6c-8d8e-3f2b1c0d9e8a"
	failText   = "export vm db-1: remote nfs: no space left on device"
)

var histT0 = time.Date(2026, 3, 1, 1, 0, 0, 0, time.UTC)

type timed struct {
	at time.Duration
	p  events.Payload
}

// successfulRun: web-1 then db-1, each with progress samples whose mean
// rates (what workers report) differ from their interval rates.
func successfulRun() []timed {
	exp := func(vm, name string) events.ExportStarted {
		return events.ExportStarted{RunID: runOK, Job: "nightly", Schedule: "daily", VMUUID: vm, VMName: name,
			Pool: "lab", Remotes: []string{"nfs"}, Codec: "gzip", Attempt: 1}
	}
	prog := func(vm string, bytes, bps int64) events.ExportProgress {
		return events.ExportProgress{RunID: runOK, Job: "nightly", VMUUID: vm, Transfer: events.Transfer{Bytes: bytes, BytesPerSecond: bps}}
	}
	done := func(vm, name string, size int64) events.ExportCompleted {
		return events.ExportCompleted{RunID: runOK, Job: "nightly", Schedule: "daily", VMUUID: vm, VMName: name, Pool: "lab",
			Timestamp: "20260301T010002Z", Codec: "gzip", Size: size, BytesRead: size, SHA256: strings.Repeat("ab", 32),
			DurationMS: 16000, BytesPerSecond: size / 16, Backups: []events.RemoteBackup{{Remote: "nfs", BackupID: "nfs:" + vm + "/20260301T010002Z"}}}
	}
	return []timed{
		{0, events.ScheduleDue{RunID: runOK, Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: histT0}},
		{time.Second, events.RunStarted{RunID: runOK, Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: histT0,
			VMs: []events.RunVM{{VMUUID: vmWeb, VMName: "web-1", Pool: "lab"}, {VMUUID: vmDB, VMName: "db-1", Pool: "lab"}}}},
		{2 * time.Second, exp(vmWeb, "web-1")},
		{7 * time.Second, prog(vmWeb, 50e6, 10e6)},   // 10 MB/s over 5 s
		{12 * time.Second, prog(vmWeb, 150e6, 15e6)}, // mean 15, interval 20 MB/s
		{17 * time.Second, prog(vmWeb, 200e6, 13e6)}, // interval 10 MB/s
		{18 * time.Second, done(vmWeb, "web-1", 200e6)},
		{19 * time.Second, exp(vmDB, "db-1")},
		{24 * time.Second, prog(vmDB, 40e6, 8e6)},
		{29 * time.Second, prog(vmDB, 70e6, 7e6)}, // interval 6 MB/s
		{30 * time.Second, done(vmDB, "db-1", 70e6)},
		{31 * time.Second, events.RunCompleted{RunID: runOK, Job: "nightly", Schedule: "daily", Status: events.StatusSuccess, DurationMS: 31000,
			Results: []events.VMResult{{VMUUID: vmWeb, VMName: "web-1", Status: events.StatusSuccess, Size: 200e6},
				{VMUUID: vmDB, VMName: "db-1", Status: events.StatusSuccess, Size: 70e6}}}},
	}
}

// failedAndSkipped: a run whose only export fails, and a fire during it.
func failedAndSkipped() []timed {
	h := time.Hour
	return []timed{
		{h, events.ScheduleDue{RunID: runFailed, Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: histT0.Add(h)}},
		{h + time.Second, events.RunStarted{RunID: runFailed, Job: "nightly", Schedule: "daily", Mode: events.ModeFull,
			FireTime: histT0.Add(h), VMs: []events.RunVM{{VMUUID: vmDB, VMName: "db-1", Pool: "lab"}}}},
		{h + 2*time.Second, events.ExportStarted{RunID: runFailed, Job: "nightly", Schedule: "daily", VMUUID: vmDB, VMName: "db-1",
			Pool: "lab", Remotes: []string{"nfs"}, Codec: "gzip", Attempt: 1}},
		{h + 3*time.Second, events.ScheduleDue{RunID: runSkipped, Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: histT0.Add(h + 3*time.Second)}},
		{h + 3*time.Second, events.RunCompleted{RunID: runSkipped, Job: "nightly", Schedule: "daily", Status: events.StatusSkipped,
			Reason: "already running (run " + runFailed + ")"}},
		{h + 4*time.Second, events.ExportFailed{RunID: runFailed, Job: "nightly", Schedule: "daily", VMUUID: vmDB, VMName: "db-1",
			Pool: "lab", Error: failText, Attempts: 1, DurationMS: 2000}},
		{h + 5*time.Second, events.RunCompleted{RunID: runFailed, Job: "nightly", Schedule: "daily", Status: events.StatusFailure,
			DurationMS: 4000, Results: []events.VMResult{{VMUUID: vmDB, VMName: "db-1", Status: events.StatusFailure, Error: failText}}}},
	}
}

// twinRun exports two VMs at once: at 5, 6 and 10 s both transfer (10 + 3
// MB/s), at 11 s only the second.
func twinRun() []timed {
	h := 2 * time.Hour
	prog := func(vm string, bytes, bps int64) events.ExportProgress {
		return events.ExportProgress{RunID: runTwin, Job: "nightly", VMUUID: vm, Transfer: events.Transfer{Bytes: bytes, BytesPerSecond: bps}}
	}
	return []timed{
		{h, events.ScheduleDue{RunID: runTwin, Job: "nightly", Schedule: "daily", Mode: events.ModeFull, FireTime: histT0.Add(h)}},
		{h + 5*time.Second, prog(vmWeb, 50e6, 10e6)},
		{h + 6*time.Second, prog(vmDB, 18e6, 3e6)},
		{h + 10*time.Second, prog(vmWeb, 100e6, 10e6)},
		{h + 11*time.Second, prog(vmDB, 33e6, 3e6)},
		{h + 12*time.Second, events.RunCompleted{RunID: runTwin, Job: "nightly", Schedule: "daily", Status: events.StatusSuccess, DurationMS: 12000}},
	}
}

func publishAll(t *testing.T, g *served, list ...[]timed) {
	t.Helper()
	for _, l := range list {
		for _, e := range l {
			g.publish(t, histT0.Add(e.at), e.p)
		}
	}
}

func TestHistoryPages(t *testing.T) {
	g := serveGateway(t)
	publishAll(t, g, successfulRun(), failedAndSkipped(), twinRun())
	g.waitPage(t, "/history/"+runTwin, `state-success`)

	list := g.waitPage(t, "/history", `href="/history/`+runOK+`"`, `href="/history/`+runFailed+`"`, `href="/history/`+runSkipped+`"`)
	for _, want := range []string{`class="state state-success">success`, `class="state state-failure">failure`,
		`class="state state-skipped">skipped`, "Error: " + failText, "Reason: already running (run " + runFailed + ")",
		`href="/history?job=nightly"`, `action="/history/compare"`, "transfer to nfs", `href="/history">History</a>`} {
		if !strings.Contains(list, want) {
			t.Errorf("/history lacks %q", want)
		}
	}
	if i, j := strings.Index(list, runTwin), strings.Index(list, runOK); i < 0 || j < i {
		t.Errorf("/history is not newest first")
	}

	failed := g.waitPage(t, "/history/"+runFailed, "Error: "+failText, "No progress sample")
	if strings.Contains(failed, "<svg") && strings.Contains(failed, "<polyline") {
		t.Errorf("a run without progress samples draws a chart")
	}
	g.waitPage(t, "/history/"+runSkipped, `id="status" class="state state-skipped">skipped`, "Reason: already running")
}

func TestHistoryRunChart(t *testing.T) {
	g := serveGateway(t)
	publishAll(t, g, successfulRun())
	g.waitPage(t, "/history/"+runOK, `id="status" class="state state-success">success`, "<polyline")
	page := g.waitUntil(t, "/history/"+runOK, "all 5 samples", func(p string) bool { return samples(t, p) == 5 })
	for _, want := range []string{`<svg viewBox="0 0 720 320" role="img" aria-labelledby="rate-title rate-desc"`,
		`<title id="rate-title">`, `<desc id="rate-desc">`, "<details", "MB/s</text>", "time since the run started",
		">web-1</span>", ">db-1</span>", "VM web-1", "transfer to nfs", "190.7 MiB"} {
		if !strings.Contains(page, want) {
			t.Errorf("run page lacks %q", want)
		}
	}
	lines := polylines(t, page)
	if len(lines) != 2 || len(lines[0]) != 3 || len(lines[1]) != 2 {
		t.Fatalf("polylines %v: want web-1's 3 samples and db-1's 2", lines)
	}
	// web-1 ran at 10, 20, then 10 MB/s: the middle point is the highest
	// (smallest y) and the other two level; x grows with time.
	web := lines[0]
	if !(web[1][1] < web[0][1]) || web[0][1] != web[2][1] || !(web[0][0] < web[1][0] && web[1][0] < web[2][0]) {
		t.Errorf("web-1's line %v does not draw 10, 20, 10 MB/s over time", web)
	}
	for _, rate := range []string{"10.0 MB/s", "20.0 MB/s", "8.00 MB/s", "6.00 MB/s"} {
		if !strings.Contains(page, `data-label="Rate">`+rate+`<`) {
			t.Errorf("the data table lacks the interval rate %s", rate)
		}
	}
	if strings.Contains(page, `data-label="Rate">15.0 MB/s<`) {
		t.Errorf("the table shows the reported mean rate instead of the interval rate")
	}
}

func TestHistoryCompare(t *testing.T) {
	g := serveGateway(t)
	publishAll(t, g, successfulRun(), twinRun())
	g.waitPage(t, "/history/"+runTwin, `state-success`)
	page := g.waitUntil(t, "/history/compare?"+url.Values{"a": {runOK}, "b": {runTwin}}.Encode(), "all 9 sample times",
		func(p string) bool { return samples(t, p) == 9 })
	lines := polylines(t, page)
	if len(lines) != 2 || len(lines[0]) != 5 || len(lines[1]) != 4 {
		t.Fatalf("polylines %v: want run A's 5 sample times and run B's 4", lines)
	}
	for _, want := range []string{">A: nightly / daily, 2026-03-01 01:00:00 UTC</span>", ">B: nightly / daily, 2026-03-01 03:00:00 UTC</span>",
		`href="/history/` + runOK + `"`, `href="/history/` + runTwin + `"`, `role="img"`} {
		if !strings.Contains(page, want) {
			t.Errorf("compare page lacks %q", want)
		}
	}
	// Both runs start at x = their own start: the twin run's first sample
	// (5 s) is left of run A's (7 s), though it happened two hours later.
	if !(lines[1][0][0] < lines[0][0][0]) {
		t.Errorf("run B's first point x=%v is not left of run A's x=%v", lines[1][0][0], lines[0][0][0])
	}
	if n := strings.Count(page, `data-label="Rate">13.0 MB/s<`); n != 3 {
		t.Errorf("the twin run's total is 13.0 MB/s at %d sample times, want 3 (10 + 3 MB/s while both transfer)", n)
	}
}

func TestHistoryRefusesBadInput(t *testing.T) {
	g := serveGateway(t)
	publishAll(t, g, successfulRun())
	g.waitPage(t, "/history/"+runOK, "<polyline")
	for _, tc := range []struct {
		path, field string
		code        int
	}{
		{"/history/" + url.PathEscape("../etc"), "run", 400},
		{"/history/" + url.PathEscape("<script>"), "run", 400},
		{"/history/" + strings.Repeat("a", 129), "run", 400},
		{"/history/b1000000000000000000000000000009", "run", 404},
		{"/history/compare?a=" + runOK, "b", 400},
		{"/history/compare?a=" + runOK + "&b=nope", "b", 404},
		{"/history/compare?a=%00&b=" + runOK, "a", 400},
		{"/history?job=" + url.QueryEscape("a b"), "job", 400},
	} {
		code, page := g.get(t, tc.path)
		if code != tc.code || !(strings.Contains(page, tc.field+" ") || strings.Contains(page, tc.field+":")) {
			t.Errorf("GET %s: status %d, want %d naming %q: %.300s", tc.path, code, tc.code, tc.field, page)
		}
	}
}

// TestMetricsThroughTheGateway: the gateway serves /metrics and /readyz,
// and the run counters move when a run's events are published.
func TestMetricsThroughTheGateway(t *testing.T) {
	g := serveGateway(t)
	if code, body := g.get(t, "/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	const counter = `xbr_runs_total{job="nightly",status="success"}`
	code, before := g.get(t, "/metrics")
	if code != http.StatusOK || strings.Contains(before, counter) {
		t.Fatalf("/metrics before any run: status %d, has %s:\n%.500s", code, counter, before)
	}
	publishAll(t, g, successfulRun())
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, after := g.get(t, "/metrics")
		if strings.Contains(after, counter+" 1\n") && strings.Contains(after, `xbr_backup_bytes_written_total{job="nightly",remote="nfs"} 2.7e+08`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics did not count the run:\n%s", after)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// samples counts the points of every line of a page.
func samples(t *testing.T, page string) int {
	n := 0
	for _, l := range polylines(t, page) {
		n += len(l)
	}
	return n
}

var pointsRE = regexp.MustCompile(`<polyline points="([^"]*)"`)

// polylines parses every <polyline points> of a page into (x, y) pairs.
func polylines(t *testing.T, page string) [][][2]float64 {
	t.Helper()
	var out [][][2]float64
	for _, m := range pointsRE.FindAllStringSubmatch(page, -1) {
		var line [][2]float64
		for _, p := range strings.Fields(m[1]) {
			x, y, ok := strings.Cut(p, ",")
			fx, err1 := strconv.ParseFloat(x, 64)
			fy, err2 := strconv.ParseFloat(y, 64)
			if !ok || err1 != nil || err2 != nil {
				t.Fatalf("bad point %q in %q", p, m[1])
			}
			line = append(line, [2]float64{fx, fy})
		}
		out = append(out, line)
	}
	return out
}

// FuzzHistoryRequest sends arbitrary run ids and job names to the History
// pages: they answer 400 naming the field, 404, or a page; never a 500.
func FuzzHistoryRequest(f *testing.F) {
	g := serveGateway(f)
	f.Add(runOK)
	f.Add("../../etc/passwd")
	f.Add("a b")
	f.Add("%00")
	f.Add(strings.Repeat("9", 200))
	f.Add("nightly")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	f.Fuzz(func(t *testing.T, v string) {
		for _, tc := range []struct{ path, field string }{
			{"/history/" + url.PathEscape(v), "run"},
			{"/history/compare?" + url.Values{"a": {v}, "b": {v}}.Encode(), "a"},
			{"/history?" + url.Values{"job": {v}}.Encode(), "job"},
		} {
			resp, err := client.Get(g.base + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK, http.StatusNotFound, http.StatusMovedPermanently, http.StatusTemporaryRedirect: // the mux cleans "." and ".."
			case http.StatusBadRequest:
				if !strings.Contains(string(body), tc.field) {
					t.Fatalf("GET %s: 400 without naming %s: %s", tc.path, tc.field, body)
				}
			default:
				t.Fatalf("GET %s: status %d: %s", tc.path, resp.StatusCode, body)
			}
		}
	})
}

// TestHistoryRunOutOfTheWindow: the projection holds the newest
// gateway.history_runs runs; an older one is still shown, read from the
// stream, and an unknown one is still not found.
func TestHistoryRunOutOfTheWindow(t *testing.T) {
	g := serveGatewayWith(t, "history_runs: 1")
	publishAll(t, g, successfulRun(), twinRun())
	g.waitUntil(t, "/history", "only the newest run listed", func(page string) bool {
		return strings.Contains(page, `href="/history/`+runTwin+`"`) && !strings.Contains(page, `href="/history/`+runOK+`"`)
	})
	page := g.waitPage(t, "/history/"+runOK, `id="status" class="state state-success">success`)
	for _, want := range []string{"VM web-1", "VM db-1", "transfer to nfs", "190.7 MiB"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page of a run out of the window lacks %q", want)
		}
	}
	if code, _ := g.get(t, "/history/a1000000000000000000000000000999"); code != http.StatusNotFound {
		t.Errorf("an unknown run: %d, want 404", code)
	}
}
