package fn_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/testsupport"
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
