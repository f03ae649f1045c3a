package tests

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"xbr/shared/testsupport"
	"xbr/shared/xapi/xapisim"
)

// faultPool is one case's pool: a simulator behind its front door.
type faultPool struct {
	sim   *xapisim.Server
	front *front
}

// faultCase is one fault of the matrix: initial are the pool's faults from
// its start, set makes it misbehave later, clear heals it; want is a piece
// of the reason history shows.
type faultCase struct {
	name       string
	tls        bool
	warm       bool // a successful run first, so a session exists
	initial    xapisim.Faults
	set, clear func(p *faultPool)
	want       string
}

var faultCases = []faultCase{
	{name: "login-refused", want: "SESSION_AUTHENTICATION_FAILED", initial: xapisim.Faults{RefuseLogins: true},
		set:   func(*faultPool) {},
		clear: func(p *faultPool) { p.sim.SetFaults(xapisim.Faults{}) }},
	{name: "password-changed", warm: true, want: "SESSION_INVALID",
		set:   func(p *faultPool) { p.sim.SetPassword("changed"); p.sim.ExpireSessions() },
		clear: func(p *faultPool) { p.sim.SetPassword(faultPassword) }},
	{name: "unreachable", want: "connection refused",
		set:   func(p *faultPool) { p.front.setDown(true) },
		clear: func(p *faultPool) { p.front.setDown(false) }},
	{name: "tls-pin", tls: true, want: "fingerprint",
		set:   func(p *faultPool) { p.front.setWrongCert(true) },
		clear: func(p *faultPool) { p.front.setWrongCert(false) }},
	{name: "http-500", want: "500",
		set:   func(p *faultPool) { p.sim.SetFaults(xapisim.Faults{ServerError: true}) },
		clear: func(p *faultPool) { p.sim.SetFaults(xapisim.Faults{}) }},
	{name: "sr-full", want: "SR_FULL",
		set:   func(p *faultPool) { p.sim.SetFaults(xapisim.Faults{SRFull: true}) },
		clear: func(p *faultPool) { p.sim.SetFaults(xapisim.Faults{}) }},
	{name: "export-dropped", want: "connection dropped",
		set:   func(p *faultPool) { p.sim.SetFaults(xapisim.Faults{DropAfter: 256 << 10}) },
		clear: func(p *faultPool) { p.sim.SetFaults(xapisim.Faults{}) }},
}

const faultPassword = "xapisim"

// TestFaultMatrix is issue 12's "no run that hangs": one `xbr serve` with a
// pool and a job per fault. Each fault ends its run as failure or partial
// (`xbr run --wait` returns, non-zero, under a bounded context), history
// shows why, the failure metric moves, a report is posted, and once the
// fault is removed the next run succeeds.
func TestFaultMatrix(t *testing.T) {
	hooks := newHookServer(t)
	pools := map[string]*faultPool{}
	var poolsYAML, jobsYAML strings.Builder
	for _, c := range faultCases {
		sp := startPool(t, xapisim.Options{VMs: 1, DiskSize: 2 << 20, Password: faultPassword, Faults: c.initial})
		p := &faultPool{sim: sp.sim, front: startFront(t, sp.url, c.tls)}
		pools[c.name] = p
		fmt.Fprintf(&poolsYAML, "  - {name: p-%s, url: %s, username: root, password: \"${XBR_TEST_POOL_PASSWORD}\"", c.name, p.front.url())
		if c.tls {
			fmt.Fprintf(&poolsYAML, ", tls_fingerprint: %s", p.front.fingerprint())
		}
		poolsYAML.WriteString("}\n")
		fmt.Fprintf(&jobsYAML, `  - name: f-%s
    pools: [p-%s]
    remotes: [nfs]
    retries: 1
    retry_backoff: 1s
    report_when: failure
    report_webhook: %s/%s
    schedules:
      - {name: daily, cron: "0 2 * * *", retention: 3}
`, c.name, c.name, hooks.URL, c.name)
	}
	dirPath, _ := dirRemote(t, "nfs")
	cfg := writeFile(t, "xbr.yaml", fmt.Sprintf("pools:\n%sremotes:\n  - {name: nfs, type: dir, path: %s}\njobs:\n%s",
		poolsYAML.String(), dirPath, jobsYAML.String()))
	s := startServe(t, []string{"XBR_TEST_POOL_PASSWORD=" + faultPassword},
		"--config", cfg, "--data-dir", t.TempDir(), "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0")
	line, ok := s.waitLog(t, "gateway listening", 30*time.Second)
	if !ok {
		t.Fatalf("no 'gateway listening' line:\n%s", s.output())
	}
	web, nats := line["url"].(string), s.natsURL(t)
	for _, c := range faultCases {
		if c.warm {
			if r := runWait(nats, "f-"+c.name); r.code != 0 {
				t.Fatalf("warm-up run of %s: %s", c.name, r)
			}
		}
	}
	start := time.Now()
	for _, c := range faultCases {
		c.set(pools[c.name])
	}
	faulty := runAll(nats)
	t.Logf("the faulty runs took %s", time.Since(start).Round(time.Second))
	for i, c := range faultCases {
		t.Run(c.name, func(t *testing.T) { checkFaultyRun(t, c, faulty[i], nats, web, hooks) })
		c.clear(pools[c.name])
	}
	for i, r := range runAll(nats) {
		if r.code != 0 {
			t.Errorf("%s: the run after the fault was removed: %s, want success", faultCases[i].name, r)
		}
	}
	t.Logf("fault matrix: %d cases in %s", len(faultCases), time.Since(start).Round(time.Second))
	if t.Failed() {
		t.Logf("server:\n%s", s.output())
	}
}

// checkFaultyRun checks what one fault left: a failed (or partial) run
// whose reason names the fault, a report and the failure metric.
func checkFaultyRun(t *testing.T, c faultCase, r waited, nats, web string, hooks *hookServer) {
	job := "f-" + c.name
	if r.code != 1 {
		t.Fatalf("run with the fault: %s, want exit 1 (failure or partial)", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	runs := historyOf(t, ctx, nats, "--run", r.id)
	if len(runs) != 1 || (runs[0].Status != "failure" && runs[0].Status != "partial") {
		t.Fatalf("history of run %s: %+v, want failure or partial", r.id, runs)
	}
	why := runs[0].Reason
	for _, task := range runs[0].Tasks {
		why += " | " + task.Error
	}
	if !strings.Contains(why, c.want) {
		t.Errorf("history of run %s says %q, want a reason with %q", r.id, why, c.want)
	}
	t.Logf("%s: status %s, reason: %s", c.name, runs[0].Status, why)
	testsupport.Eventually(t, 30*time.Second, "the failure report of "+job, func() bool { return hooks.count(c.name) > 0 })
	testsupport.Eventually(t, 30*time.Second, "the failure metric of "+job, func() bool {
		return metricAtLeast(t, web, fmt.Sprintf(`xbr_runs_total{job="%s",status="%s"}`, job, runs[0].Status), 1)
	})
}

// waited is how one `xbr run --wait` ended.
type waited struct {
	id   string
	code int
	out  string
}

func (w waited) String() string { return fmt.Sprintf("run %s: exit %d\n%s", w.id, w.code, w.out) }

// runAll runs every case's job at once, each with `xbr run --wait`.
func runAll(nats string) []waited {
	out := make([]waited, len(faultCases))
	var wg sync.WaitGroup
	for i, c := range faultCases {
		wg.Go(func() { out[i] = runWait(nats, "f-"+c.name) })
	}
	wg.Wait()
	return out
}

// runWait runs `xbr run job --wait` under a 2-minute context: a run that
// hangs is killed and reported (exit -1) instead of hanging the test.
func runWait(nats, job string) waited {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, xbrBin, "run", job, "--wait", "--nats", nats)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	w := waited{code: -1, out: stdout.String() + stderr.String()}
	if cmd.ProcessState != nil {
		w.code = cmd.ProcessState.ExitCode()
	}
	if ctx.Err() != nil {
		w.code, w.out = -1, "did not return within 2 minutes\n"+w.out
	} else if err != nil && w.code <= 0 {
		w.code, w.out = -1, err.Error()+"\n"+w.out
	}
	if f := strings.Fields(stdout.String()); len(f) > 1 {
		w.id = strings.TrimSuffix(f[1], ":")
	}
	return w
}

// metricAtLeast reports whether the gateway's /metrics has series at n or more.
func metricAtLeast(t *testing.T, web, series string, n float64) bool {
	t.Helper()
	resp, err := http.Get(web + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(body), "\n") {
		var v float64
		if rest, ok := strings.CutPrefix(l, series+" "); ok {
			if _, err := fmt.Sscan(rest, &v); err == nil && v >= n {
				return true
			}
		}
	}
	return false
}

// hookServer is a report webhook on 127.0.0.1 that counts posts by path.
type hookServer struct {
	*httptest.Server
	mu    sync.Mutex
	posts map[string]int
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{posts: map[string]int{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		h.mu.Lock()
		h.posts[strings.TrimPrefix(r.URL.Path, "/")]++
		h.mu.Unlock()
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) count(name string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.posts[name]
}
