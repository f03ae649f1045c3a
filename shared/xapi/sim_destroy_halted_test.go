package xapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"

	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// beforeCall runs fn once, just before the first request whose body holds
// method is sent.
type beforeCall struct {
	method string
	fn     func()
	once   sync.Once
}

func (b *beforeCall) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if bytes.Contains(body, []byte(b.method)) {
			b.once.Do(b.fn)
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// DestroyHaltedVM destroys only a VM that is halted and that keep accepts
// when it comes to it, and never shuts one down: a VM started after that
// read, before VM.destroy, is kept too, since XAPI refuses to destroy it.
func TestSimDestroyHaltedVM(t *testing.T) {
	ctx := context.Background()
	accept := func(xapi.VM) error { return nil }
	cases := []struct {
		name  string
		state xapi.PowerState
		keep  func(xapi.VM) error
		// startBeforeDestroy starts the VM just before VM.destroy is sent.
		startBeforeDestroy bool
		destroyed          bool
	}{
		{name: "halted", state: xapi.Halted, keep: accept, destroyed: true},
		{name: "running", state: xapi.Running, keep: accept},
		{name: "refused by keep", state: xapi.Halted, keep: func(xapi.VM) error { return errors.New("not mine") }},
		{name: "started before VM.destroy", state: xapi.Halted, keep: accept, startBeforeDestroy: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, url := startSim(t, xapisim.Options{DisksPerVM: 1})
			other := connect(t, url, xapi.JSONRPC)
			vm, _ := plainVM(t, other, tc.state)
			disks := len(disksOf(t, other, vm))
			hook := &beforeCall{method: "VM.destroy", fn: func() {
				if tc.startBeforeDestroy {
					if err := other.Start(ctx, vm, false, false); err != nil {
						t.Error(err)
					}
				}
			}}
			c := connect(t, url, xapi.JSONRPC, xapi.WithHTTPClient(&http.Client{Transport: hook}))
			err := c.DestroyHaltedVM(ctx, vm, tc.keep)
			if tc.destroyed {
				if err != nil {
					t.Fatal(err)
				}
				if _, err := other.VMRecord(ctx, vm); !xapi.IsCode(err, xapi.CodeHandleInvalid) {
					t.Fatalf("VM after DestroyHaltedVM: %v, want HANDLE_INVALID", err)
				}
				return
			}
			if !errors.Is(err, xapi.ErrKept) {
				t.Fatalf("DestroyHaltedVM = %v, want ErrKept", err)
			}
			rec, err := other.VMRecord(ctx, vm)
			if err != nil {
				t.Fatalf("the kept VM: %v", err)
			}
			want := tc.state
			if tc.startBeforeDestroy {
				want = xapi.Running
			}
			if rec.PowerState != want || len(disksOf(t, other, vm)) != disks {
				t.Fatalf("the kept VM is %s with %d disks, want %s with %d", rec.PowerState, len(disksOf(t, other, vm)), want, disks)
			}
		})
	}
}
