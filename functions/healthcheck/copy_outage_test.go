package healthcheck_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"xbr/events"
)

// TestCopyCheckRetriesAMomentaryOutage: a standby copy's check whose
// lookup of the copy fails on the network (a moment's outage) is reported
// failed, reason restore-failed, instead of being tried again as the
// restored path does (TestRestoredTestVMIsNotLeftWhenItsLookupFails).
func TestCopyCheckRetriesAMomentaryOutage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var failed atomic.Bool
	rc := startCheck(t, ctx, func(next http.RoundTripper) http.RoundTripper {
		return failFirst{match: isMethod("VM.get_by_uuid"), failed: &failed, next: next}
	})
	r := <-rc.done
	if !failed.Load() {
		t.Fatal("VM.get_by_uuid was never called")
	}
	if r.err == nil && len(r.outs) == 1 && r.outs[0].Event.Type() == string(events.TypeHealthCheckFailed) {
		t.Fatalf("a connection reset reading the standby copy is the check's outcome: %s (want an error: the bus retries)",
			r.outs[0].Event.Data())
	}
}
