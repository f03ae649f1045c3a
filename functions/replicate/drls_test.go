package replicate_test

import (
	"context"
	"encoding/json"
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
	"xbr/shared/xapi"
)

// twoSites is a configuration where each pool replicates to the other:
// site a's VMs to b, site b's to a.
func twoSites(t *testing.T, a, b *testPool) *fn.Env {
	t.Helper()
	au, ap := a.sim.Credentials()
	bu, bp := b.sim.Credentials()
	doc := fmt.Sprintf(`pools:
  - {name: a, url: %q, username: %s, password: %s}
  - {name: b, url: %q, username: %s, password: %s}
jobs:
  - name: a-to-b
    mode: replicate
    pools: [a]
    target: {pool: b, sr: Local storage}
    schedules:
      - {name: hourly, cron: "0 * * * *", copy_retention: 1}
  - name: b-to-a
    mode: replicate
    pools: [b]
    target: {pool: a, sr: Local storage}
    schedules:
      - {name: hourly, cron: "0 * * * *", copy_retention: 1}
`, a.url, au, ap, b.url, bu, bp)
	cfg, err := config.Parse("sites.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	pools := fn.NewPools(cfg.Pools, log)
	t.Cleanup(func() { pools.Close(context.Background()) })
	return &fn.Env{Config: cfg, Pools: pools, Log: log, Now: time.Now}
}

// siteALost replicates a VM of site a to site b in the two-site setup, then
// shuts pool a down (the site is lost): the setup's env, the VM and its copy.
func siteALost(t *testing.T) (*fn.Env, xapi.VM, replicate.Result) {
	t.Helper()
	a, b := startPool(t, "a", 1), startPool(t, "b", 1)
	env := twoSites(t, a, b)
	vm := a.sourceVMs(t)[0]
	res, err := replicate.Replicate(context.Background(), a.client, b.client, replicate.Spec{Job: "a-to-b", Schedule: "hourly",
		VMUUID: vm.UUID, TargetSR: "Local storage", CopyRetention: 1}, replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.sim.Close(); err != nil {
		t.Fatal(err)
	}
	return env, vm, res
}

// callerWait is how long `xbr dr ls` waits for the answer (the CLI's
// --timeout default).
const callerWait = 10 * time.Second

// hungTarget is a setup where pool a replicates to b (a VM of a already
// has its copy there) and to c, whose network silently drops traffic: its
// URL is a server on 127.0.0.1 that accepts and never answers. It returns
// the env, the VM and its copy on b.
func hungTarget(t *testing.T) (*fn.Env, xapi.VM, replicate.Result) {
	t.Helper()
	a, b := startPool(t, "a", 1), startPool(t, "b", 1)
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hung.Close)
	t.Cleanup(func() { close(release) })
	au, ap := a.sim.Credentials()
	bu, bp := b.sim.Credentials()
	doc := fmt.Sprintf(`pools:
  - {name: a, url: %q, username: %s, password: %s}
  - {name: b, url: %q, username: %s, password: %s}
  - {name: c, url: %q, username: root, password: x}
jobs:
  - name: a-to-c
    mode: replicate
    pools: [a]
    target: {pool: c, sr: Local storage}
    schedules:
      - {name: hourly, cron: "0 * * * *", copy_retention: 1}
  - name: a-to-b
    mode: replicate
    pools: [a]
    target: {pool: b, sr: Local storage}
    schedules:
      - {name: hourly, cron: "0 * * * *", copy_retention: 1}
`, a.url, au, ap, b.url, bu, bp, hung.URL)
	cfg, err := config.Parse("hung.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	pools := fn.NewPools(cfg.Pools, log)
	t.Cleanup(func() { pools.Close(context.Background()) })
	vm := a.sourceVMs(t)[0]
	res, err := replicate.Replicate(context.Background(), a.client, b.client, replicate.Spec{Job: "a-to-b", Schedule: "hourly",
		VMUUID: vm.UUID, TargetSR: "Local storage", CopyRetention: 1}, replicate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &fn.Env{Config: cfg, Pools: pools, Log: log, Now: time.Now}, vm, res
}

// A target pool whose network silently drops traffic is left out of
// `xbr dr ls` in time, as one that errors is: the answer comes within the
// CLI's timeout with the copies of the pools that answer. Before the fix
// the hung pool held the listing past the caller's timeout and the whole
// answer was lost.
func TestDRListLeavesOutAPoolThatNeverAnswers(t *testing.T) {
	env, _, res := hungTarget(t)
	ctx, cancel := context.WithTimeout(context.Background(), callerWait)
	defer cancel()
	out, err := replicate.API()[0].Handle(ctx, env, json.RawMessage(`{}`))
	if err != nil {
		t.Fatalf("dr.ls with pool c hung: %v", err)
	}
	listed := out.([]events.DRCopy)
	if len(listed) != 1 || listed[0].UUID != res.Copy.UUID || listed[0].Pool != "b" {
		t.Fatalf("dr.ls with pool c hung: %+v, want the copy %s on b", listed, res.Copy.UUID)
	}
}

// A failover finds its copy in time when another target pool never
// answers: chooseFor leaves the hung pool out as dr.ls does. (Forced: the
// source VM runs on pool a, which is beside the point here.)
func TestFailoverWhileAnotherTargetPoolNeverAnswers(t *testing.T) {
	env, vm, res := hungTarget(t)
	ctx, cancel := context.WithTimeout(context.Background(), callerWait)
	defer cancel()
	h := replicate.NewFailoverHandler(replicate.Deps{Config: env.Config, Pools: env.Pools, Log: env.Log})
	req := events.FailoverRequested{RequestID: events.DeriveID("failover", t.Name()), VM: vm.UUID, Force: true, RequestedBy: "web"}
	done := failoverOutcome(t, ctx, h, req)
	if done.CopyUUID != res.Copy.UUID || done.Pool != "b" || !done.Unblocked {
		t.Fatalf("failover of %s with pool c hung: %+v, want copy %s on b unblocked", vm.UUID, done, res.Copy.UUID)
	}
}

// failoverOutcome handles req and returns its xbr.failover.completed.
func failoverOutcome(t *testing.T, ctx context.Context, h bus.Handler, req events.FailoverRequested) events.FailoverCompleted {
	t.Helper()
	outs, err := h.Handle(ctx, bus.Event{Received: events.Received{Payload: req}})
	if err != nil {
		t.Fatal(err)
	}
	hdr, _, err := events.Encode(outs[0].Event)
	if err != nil {
		t.Fatal(err)
	}
	r, err := events.Decode(outs[0].Subject, hdr, outs[0].Event.Data())
	if err != nil {
		t.Fatal(err)
	}
	done, ok := r.Payload.(events.FailoverCompleted)
	if !ok {
		t.Fatalf("failover of %s: %s %s, want completed", req.VM, r.Type(), outs[0].Event.Data())
	}
	return done
}

// When one site is lost, `xbr dr ls` still lists the copies on the pools
// that answer: the moment an operator needs the list is the moment a pool
// is down. Before the fix the whole answer was the lost pool's error.
func TestDRListShowsTheCopiesOfThePoolsThatAnswer(t *testing.T) {
	ctx := context.Background()
	env, _, res := siteALost(t)
	out, err := replicate.API()[0].Handle(ctx, env, json.RawMessage(`{}`))
	if err != nil {
		t.Fatalf("dr.ls with pool a down: %v", err)
	}
	listed := out.([]events.DRCopy)
	if len(listed) != 1 || listed[0].UUID != res.Copy.UUID || listed[0].Pool != "b" || listed[0].State != events.DRStateStandby {
		t.Fatalf("dr.ls with pool a down: %+v, want the standby copy %s on b", listed, res.Copy.UUID)
	}
	if _, err := replicate.API()[0].Handle(ctx, env, json.RawMessage(`{"pool":"a"}`)); err == nil {
		t.Error("dr.ls of pool a alone, which is down, answered without an error")
	}
}

// When one site is lost, a failover to the other still finds its copy: in a
// two-site setup the lost pool is also a target pool (of the other job),
// and failing the whole request on its error would make failover useless
// in the very disaster it is for.
func TestFailoverWhileAnotherTargetPoolIsDown(t *testing.T) {
	ctx := context.Background()
	env, vm, res := siteALost(t)
	h := replicate.NewFailoverHandler(replicate.Deps{Config: env.Config, Pools: env.Pools, Log: env.Log})
	req := events.FailoverRequested{RequestID: events.DeriveID("failover", t.Name()), VM: vm.UUID, Start: true, RequestedBy: "web"}
	done := failoverOutcome(t, ctx, h, req)
	if done.CopyUUID != res.Copy.UUID || done.Pool != "b" || !done.Started {
		t.Fatalf("failover of %s with site a down: %+v, want copy %s on b started", vm.UUID, done, res.Copy.UUID)
	}
}
