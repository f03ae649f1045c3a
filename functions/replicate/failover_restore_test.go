package replicate_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"xbr/functions/replicate"
	"xbr/shared/xapi"
)

// failCalls fails every call to one of methods sent through it.
type failCalls []string

func (f failCalls) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		for _, m := range f {
			if bytes.Contains(b, []byte(m)) {
				return nil, errors.New("connection reset by peer (injected)")
			}
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// A failover whose start fails says whether the copy is back on standby
// (the failed event's error is this text): start blocked again, or, when
// that fails too, left unblocked.
func TestFailedFailoverSaysWhetherTheCopyIsOnStandby(t *testing.T) {
	cases := []struct {
		name    string
		fail    failCalls
		says    string
		blocked bool
	}{
		{"start fails", failCalls{"VM.start"}, "start failed (start blocked again: the copy is still on standby)", true},
		{"start and block fail", failCalls{"VM.start", "VM.add_to_blocked_operations"}, "the copy is left unblocked", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			main, standby := startPool(t, "main", 2), startPool(t, "standby", 1)
			vm := main.vmIn(t, xapi.Halted)
			if _, err := replicate.Replicate(context.Background(), main.client, standby.client, replicate.Spec{Job: "dr", Schedule: "hourly",
				VMUUID: vm.UUID, TargetSR: "Local storage", CopyRetention: 1}, replicate.Options{}); err != nil {
				t.Fatal(err)
			}
			c, err := xapi.New(standby.url, xapi.WithHTTPClient(&http.Client{Transport: tc.fail}))
			if err != nil {
				t.Fatal(err)
			}
			user, pass := standby.sim.Credentials()
			if err := c.Login(context.Background(), user, pass); err != nil {
				t.Fatal(err)
			}
			_, err = replicate.Failover(context.Background(), c, vm.UUID, replicate.Latest, true)
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("failover error %v, want it to say %q", err, tc.says)
			}
			t.Log(err)
			cps := standby.copiesOf(t, vm.UUID)
			if len(cps) != 1 || cps[0].StartBlocked != tc.blocked {
				t.Fatalf("copies after the failover: %+v, want start blocked: %v", cps, tc.blocked)
			}
		})
	}
}

// destroyOnStart destroys the VM ref through other and fails the VM.start
// sent through it, as when retention destroyed the copy just as a
// failover unblocked it.
type destroyOnStart struct {
	other *xapi.Client
	ref   xapi.VMRef
}

func (d destroyOnStart) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		if bytes.Contains(b, []byte("VM.start")) {
			if err := d.other.DestroyVM(r.Context(), d.ref); err != nil {
				return nil, err
			}
			return nil, errors.New("connection reset by peer (injected)")
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// A failover whose copy was destroyed under it says so, not that the copy
// is left unblocked.
func TestFailedFailoverOfACopyDestroyedMeanwhile(t *testing.T) {
	main, standby := startPool(t, "main", 2), startPool(t, "standby", 1)
	vm := main.vmIn(t, xapi.Halted)
	res, err := replicate.Replicate(context.Background(), main.client, standby.client, replicate.Spec{Job: "dr", Schedule: "hourly",
		VMUUID: vm.UUID, TargetSR: "Local storage", CopyRetention: 1}, replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := xapi.New(standby.url, xapi.WithHTTPClient(&http.Client{Transport: destroyOnStart{standby.client, res.Copy.Ref}}))
	if err != nil {
		t.Fatal(err)
	}
	user, pass := standby.sim.Credentials()
	if err := c.Login(context.Background(), user, pass); err != nil {
		t.Fatal(err)
	}
	_, err = replicate.FailoverCopy(context.Background(), c, res.Copy, true)
	if err == nil || !strings.Contains(err.Error(), "the copy no longer exists") {
		t.Fatalf("failover error %v, want it to say the copy no longer exists", err)
	}
}
