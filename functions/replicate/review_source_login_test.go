package replicate_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/replicate"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/fn"
)

// The disaster case with a source pool whose master accepts connections and
// never answers, while another handler of the process (a replicate worker of
// the next scheduled run, a health check) is logging in to it: the failover
// must still treat the source as unreachable within sourceTimeout (15 s) and
// go ahead. checkSource calls Pools.Client, which waits for the other
// caller's login (up to the client's 5-minute RPC timeout) without heeding
// its 15 s context, so the failover hangs for as long as that login does.
func TestFailoverNotHeldByAnotherCallersLoginToTheLostSourcePool(t *testing.T) {
	a, b := startPool(t, "a", 1), startPool(t, "b", 1)
	vm := a.sourceVMs(t)[0]
	res, err := replicate.Replicate(context.Background(), a.client, b.client, replicate.Spec{Job: "a-to-b", Schedule: "hourly",
		VMUUID: vm.UUID, TargetSR: "Local storage", CopyRetention: 1}, replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hung.Close)
	bu, bp := b.sim.Credentials()
	doc := fmt.Sprintf(`pools:
  - {name: a, url: %q, username: root, password: x}
  - {name: b, url: %q, username: %s, password: %s}
jobs:
  - name: a-to-b
    mode: replicate
    pools: [a]
    target: {pool: b, sr: Local storage}
    schedules:
      - {name: hourly, cron: "0 * * * *", copy_retention: 1}
`, hung.URL, b.url, bu, bp)
	cfg, err := config.Parse("lost-source.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	pools := fn.NewPools(cfg.Pools, log)
	t.Cleanup(func() { pools.Close(context.Background()) })
	t.Cleanup(func() { close(release) }) // first: frees the hung logins

	// Another handler of the process logs in to the lost pool first.
	go func() { _, _ = pools.Client(context.Background(), "a") }()
	time.Sleep(200 * time.Millisecond) // let it take the pool's login

	h := replicate.NewFailoverHandler(replicate.Deps{Config: cfg, Pools: pools, Log: log})
	req := events.FailoverRequested{RequestID: events.DeriveID("failover", t.Name()), VM: vm.UUID, RequestedBy: "web"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := h.Handle(ctx, bus.Event{Received: events.Received{Payload: req}})
		done <- err
	}()
	const bound = 40 * time.Second // sourceTimeout (15 s) and ample slack
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("failover of copy %s with the source pool lost: %v", res.Copy.UUID, err)
		}
	case <-time.After(bound):
		t.Fatalf("failover with the source pool lost did not end within %s: it waits for another caller's login to the lost pool", bound)
	}
}
