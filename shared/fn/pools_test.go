package fn_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// TestPoolsLoginDoesNotBlockOtherPools: a pool whose master hangs (it
// accepts the login and never answers) holds up its own callers only; a
// client of another pool is handed out meanwhile.
func TestPoolsLoginDoesNotBlockOtherPools(t *testing.T) {
	release := make(chan struct{})
	var reached atomic.Int32
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hung.Close)
	t.Cleanup(func() { close(release) })
	sim, url, _ := testsupport.StartSim(t, xapisim.Options{VMs: 1})
	user, pass := sim.Credentials()
	p := fn.NewPools([]config.Pool{
		{Name: "hung", URL: hung.URL, Username: "root", Password: config.NewSecret("x")},
		{Name: "lab", URL: url, Username: user, Password: config.NewSecret(pass)},
	}, slog.New(slog.DiscardHandler))

	hungDone := make(chan error, 1)
	go func() {
		_, err := p.Client(context.Background(), "hung")
		hungDone <- err
	}()
	testsupport.Eventually(t, 5*time.Second, "the hung pool's login reaches its master", func() bool {
		return reached.Load() > 0
	})
	labDone := make(chan error, 1)
	go func() {
		_, err := p.Client(context.Background(), "lab")
		labDone <- err
	}()
	select {
	case err := <-labDone:
		if err != nil {
			t.Fatalf("pool lab while pool hung logs in: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("pool lab's client waits for pool hung's login")
	}
	select {
	case err := <-hungDone:
		t.Fatalf("the hung pool's login ended (%v) before the test released it: the test proves nothing", err)
	default:
	}
}

// TestPoolsStallTimeout: a pool's stall_timeout reaches its client, so a
// transfer its host leaves silent fails as stalled after that time rather
// than after the client's default of 10 minutes.
func TestPoolsStallTimeout(t *testing.T) {
	const stall = 300 * time.Millisecond
	sim, url, _ := testsupport.StartSim(t, xapisim.Options{})
	user, pass := sim.Credentials()
	p := fn.NewPools([]config.Pool{
		{Name: "lab", URL: url, Username: user, Password: config.NewSecret(pass), StallTimeout: stall},
	}, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { p.Close(context.Background()) })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c, err := p.Client(ctx, "lab")
	if err != nil {
		t.Fatal(err)
	}
	vm := haltedVM(t, c)
	sim.SetFaults(xapisim.Faults{StallBeforeHeaders: true})
	done := make(chan error, 1)
	go func() {
		tr, err := c.Export(ctx, vm, xapi.ExportOptions{})
		if err == nil {
			_, err = io.Copy(io.Discard, tr)
			err = errors.Join(err, tr.Close())
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, xapi.ErrStalled) || !strings.Contains(err.Error(), stall.String()) {
			t.Fatalf("err = %v, want xapi.ErrStalled after %v", err, stall)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("a stalled export of a pool with stall_timeout %v still blocked after 15s", stall)
	}
}

// haltedVM returns an ordinary halted VM of the pool.
func haltedVM(t *testing.T, c *xapi.Client) xapi.VMRef {
	t.Helper()
	vms, err := c.VMs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for ref, vm := range vms {
		if !vm.IsATemplate && !vm.IsASnapshot && !vm.IsControlDomain && vm.PowerState == xapi.Halted {
			return ref
		}
	}
	t.Fatal("no halted VM in the simulator")
	return ""
}
