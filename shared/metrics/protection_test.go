package metrics_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/metrics"
)

// TestProtectionGaugesFollowTheSource: the gauges are computed at each
// scrape, so a VM turning late moves them without any event.
func TestProtectionGaugesFollowTheSource(t *testing.T) {
	var mu sync.Mutex
	state, fail := events.ProtectionOK, false
	m := metrics.New(nil)
	m.AddProtection(func(context.Context) ([]events.ProtectionVM, error) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return nil, errors.New("pool lab: unreachable")
		}
		return []events.ProtectionVM{{Pool: "lab", UUID: vmA, State: state,
			Last: []events.LastCopy{{Kind: events.CopyBackup, Job: "nightly", At: time.Unix(1_780_000_000, 500_000_000)}}}}, nil
	})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	okSeries := `xbr_vm_protection_state{pool="lab",state="ok",vm="` + vmA + `"}`
	lateSeries := `xbr_vm_protection_state{pool="lab",state="late",vm="` + vmA + `"}`
	last := `xbr_vm_last_success_timestamp_seconds{job="nightly",kind="backup",pool="lab",vm="` + vmA + `"}`
	_, body := get(t, srv.URL)
	if sample(body, okSeries) != 1 || sample(body, lateSeries) != 0 || sample(body, last) != 1_780_000_000.5 {
		t.Fatalf("first scrape: ok=%v late=%v last=%v", sample(body, okSeries), sample(body, lateSeries), sample(body, last))
	}
	mu.Lock()
	state = events.ProtectionLate
	mu.Unlock()
	_, body = get(t, srv.URL)
	if sample(body, okSeries) != 0 || sample(body, lateSeries) != 1 {
		t.Fatalf("after the VM turned late: ok=%v late=%v", sample(body, okSeries), sample(body, lateSeries))
	}
	mu.Lock()
	fail = true
	mu.Unlock()
	code, body := get(t, srv.URL)
	if code != 200 || sample(body, lateSeries) != -1 {
		t.Fatalf("a failed computation: status %d, late=%v (want the series absent)", code, sample(body, lateSeries))
	}
}
