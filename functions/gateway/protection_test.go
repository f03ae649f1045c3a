package gateway_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
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
	if !strings.Contains(page, `<tr data-remote="nfs">`) || strings.Contains(page, "unknown") || !strings.Contains(page, "0 B written to nfs in 30 days") {
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
