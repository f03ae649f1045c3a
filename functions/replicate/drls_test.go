package replicate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
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
	if !ok || done.CopyUUID != res.Copy.UUID || done.Pool != "b" || !done.Started {
		t.Fatalf("failover of %s with site a down: %s %s, want copy %s on b started", vm.UUID, r.Type(), outs[0].Event.Data(), res.Copy.UUID)
	}
}
