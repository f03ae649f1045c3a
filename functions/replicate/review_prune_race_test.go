package replicate_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"xbr/functions/replicate"
	"xbr/shared/xapi"
)

// onFirstRead runs fn once, just before the first request whose body holds
// every one of marks is sent.
type onFirstRead struct {
	marks [][]byte
	fn    func()
	done  atomic.Bool
}

func (o *onFirstRead) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		all := true
		for _, m := range o.marks {
			all = all && bytes.Contains(b, m)
		}
		if all && o.done.CompareAndSwap(false, true) {
			o.fn()
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// A planned failover: the operator halts the source VM and fails over its
// standby copy P while the hourly replication of that VM is completing.
// The replication's retention listed P as a halted standby copy, then
// destroys it; the failover started P in between. prune's own rule is that
// a copy that is not halted is never pruned ("destroying it would shut a
// running VM down and delete its disks"), but it decides on the listing
// and DestroyVM hard-shuts-down whatever it finds running: the failed-over
// VM, now the production VM, is killed and its disks deleted.
func TestRetentionNeverDestroysACopyFailedOverMeanwhile(t *testing.T) {
	main, standby := startPool(t, "main", 2), startPool(t, "standby", 1)
	vm := main.vmIn(t, xapi.Halted)
	spec := replicate.Spec{RunID: "run1", Job: "dr", Schedule: "hourly", VMUUID: vm.UUID, TargetSR: "Local storage", CopyRetention: 1}
	t1 := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
	first, err := replicate.Replicate(context.Background(), main.client, standby.client, spec,
		replicate.Options{Now: func() time.Time { return t1 }})
	if err != nil {
		t.Fatal(err)
	}
	p := first.Copy

	var failoverErr error
	hook := &onFirstRead{marks: [][]byte{[]byte("VM.get_record"), []byte(p.Ref)}, fn: func() {
		_, failoverErr = replicate.FailoverCopy(context.Background(), standby.client, p, true)
	}}
	dst, err := xapi.New(standby.url, xapi.WithHTTPClient(&http.Client{Transport: hook}))
	if err != nil {
		t.Fatal(err)
	}
	user, pass := standby.sim.Credentials()
	if err := dst.Login(context.Background(), user, pass); err != nil {
		t.Fatal(err)
	}
	spec.RunID = "run2"
	t2 := t1.Add(time.Hour)
	second, err := replicate.Replicate(context.Background(), main.client, dst, spec,
		replicate.Options{Now: func() time.Time { return t2 }})
	if err != nil {
		t.Fatal(err)
	}
	if !hook.done.Load() || failoverErr != nil {
		t.Fatalf("the failover of %s did not happen during the retention (hook ran: %v, failover: %v)", p.UUID, hook.done.Load(), failoverErr)
	}
	rec, err := standby.client.VMRecord(context.Background(), p.Ref)
	if err != nil || rec.PowerState != xapi.Running {
		t.Fatalf("the copy %s failed over (started) while the retention ran was destroyed: pruned %d copies %+v, VM now: %v %s",
			p.UUID, len(second.Pruned), second.Pruned, err, rec.PowerState)
	}
}
