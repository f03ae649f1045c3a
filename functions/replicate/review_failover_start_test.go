package replicate_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"xbr/functions/replicate"
	"xbr/shared/xapi"
)

// failStart fails every VM.start sent through it, as a standby pool with no
// host able to run the VM (or a connection cut at that moment) does.
type failStart struct{}

func (failStart) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		if bytes.Contains(b, []byte("VM.start")) {
			return nil, errors.New("connection reset by peer (injected)")
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// A failover asked to start the copy that fails to start answers
// xbr.failover.failed ("refused or failed: nothing was failed over", as
// failovers.StateFailed says), yet it has unblocked the copy's start: from
// then on the copy is listed as failed-over by dr.ls, no longer counts as
// a standby copy, and is never pruned, though the operator was told the
// failover failed. A failed failover should leave the copy start-blocked,
// as a refused one does.
func TestFailedFailoverLeavesTheCopyOnStandby(t *testing.T) {
	main, standby := startPool(t, "main", 2), startPool(t, "standby", 1)
	vm := main.vmIn(t, xapi.Halted)
	res, err := replicate.Replicate(context.Background(), main.client, standby.client, replicate.Spec{Job: "dr", Schedule: "hourly",
		VMUUID: vm.UUID, TargetSR: "Local storage", CopyRetention: 1}, replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := xapi.New(standby.url, xapi.WithHTTPClient(&http.Client{Transport: failStart{}}))
	if err != nil {
		t.Fatal(err)
	}
	user, pass := standby.sim.Credentials()
	if err := c.Login(context.Background(), user, pass); err != nil {
		t.Fatal(err)
	}
	if _, err := replicate.Failover(context.Background(), c, vm.UUID, replicate.Latest, true); err == nil {
		t.Fatal("failover with a start that fails: no error")
	}
	for _, cp := range standby.copiesOf(t, vm.UUID) {
		if cp.UUID == res.Copy.UUID && (!cp.StartBlocked || !cp.Standby()) {
			t.Fatalf("a failover that failed (the copy did not start) left copy %s unblocked: %+v", cp.UUID, cp.CopyRecord)
		}
	}
}
