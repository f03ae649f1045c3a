package healthcheck_test

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// TestStuckStartEndsAtTheTimeout: the check's timeout bounds only the wait
// for the guest, after VM.start returns. A VM.start that never returns (a
// task stuck on a host) holds the check, its consumer slot and its test VM
// (whose mark it keeps renewing, so no sweep takes it) for ever.
func TestStuckStartEndsAtTheTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := hold(isMethod("Async.VM.start"), http.DefaultTransport)
	defer close(start.release)
	rc := startCheckTimeout(t, ctx, func(next http.RoundTripper) http.RoundTripper {
		start.next = next
		return start
	}, 300)
	select {
	case <-rc.done:
	case <-time.After(5 * time.Second):
		t.Fatalf("the check of timeout %dms still runs 5s after it began (VM.start never returned)", rc.req.TimeoutMS)
	}
}
