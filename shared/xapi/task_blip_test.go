package xapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// failCalls fails the first n RPCs whose body names method, as a network
// blip would (the connection resets): the simulator cannot fail one call
// of its own accord.
type failCalls struct {
	method  string
	n       atomic.Int32
	cancels atomic.Int32 // task.cancel calls seen
}

func (f *failCalls) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(b))
		if bytes.Contains(b, []byte("task.cancel")) {
			f.cancels.Add(1)
		}
		if bytes.Contains(b, []byte(f.method)) && f.n.Add(-1) >= 0 {
			return nil, errors.New("connection reset by peer (injected)")
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestWaitTaskRidesOutABlip: a poll of a running task that fails once on
// the network does not abandon the task (XAPI goes on with the work: a
// snapshot the caller believes failed would be left on the SR); the wait
// polls again and returns the task's result. A task whose polls keep
// failing is cancelled, and the error says so.
func TestWaitTaskRidesOutABlip(t *testing.T) {
	_, url := startSim(t, xapisim.Options{VMs: 1})
	blip := &failCalls{method: "task.get_record"}
	c, err := xapi.New(url, xapi.WithHTTPClient(&http.Client{Transport: blip}), xapi.WithTaskPoll(5*time.Millisecond, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Login(ctx, simUser, simPassword); err != nil {
		t.Fatal(err)
	}
	ref, _ := plainVM(t, c, xapi.Running)
	blip.n.Store(1)
	res, err := c.CallAsync(ctx, "VM.snapshot", ref, "blip")
	if err != nil || res == "" {
		t.Fatalf("VM.snapshot with one failed poll: %q, %v; want the snapshot", res, err)
	}
	blip.n.Store(1000)
	if _, err := c.CallAsync(ctx, "VM.snapshot", ref, "down"); err == nil || !strings.Contains(err.Error(), "task cancelled") {
		t.Fatalf("VM.snapshot whose polls all fail: %v, want the task cancelled", err)
	}
	if n := blip.cancels.Load(); n != 1 {
		t.Fatalf("%d task.cancel calls, want 1 (for the task given up)", n)
	}
}
