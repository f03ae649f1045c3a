package incremental_test

import (
	"context"
	"testing"

	"xbr/events"
	"xbr/functions/incremental"
	"xbr/shared/xapi"
)

// TestLeftoversRemoved: what a crash leaves — a tagged snapshot VM (before
// a commit) and a tagged base the latest point does not name (after a
// commit, before the cleanup) — is removed by the next run, which still
// reads by changed blocks from the real base; another job's base stays.
func TestLeftoversRemoved(t *testing.T) {
	e := newEnv(t, "nbd", "enable", false)
	e.run()
	job, _ := e.cfg.Job("incr")
	e.crashSnapshot(job.ID, false)          // interrupted before its commit
	e.crashSnapshot(job.ID, true)           // a base the cleanup never removed
	e.crashSnapshot("another-job-id", true) // another job's base of the same VM
	e.guestWrite(e.liveDisks()[0], 0, 4096, 9)
	if next := e.run(); next.Path != events.PathCBT {
		t.Fatalf("run after the crash: path %s (%s)", next.Path, next.PathReason)
	}
	e.assertBases(4) // this job's two and the other job's two
}

// crashSnapshot snapshots the VM and tags it and its disks as the job's;
// asBase also keeps only the disks' CBT metadata, as a committed run does.
func (e *env) crashSnapshot(jobID string, asBase bool) {
	e.t.Helper()
	ctx := context.Background()
	vm, err := e.client.VMByUUID(ctx, e.vm().UUID)
	if err != nil {
		e.t.Fatal(err)
	}
	snap, err := e.client.Snapshot(ctx, vm, "crashed", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	disks, err := e.client.VMDisks(ctx, snap)
	if err != nil {
		e.t.Fatal(err)
	}
	objs := []xapi.Object{snap}
	for _, d := range disks {
		objs = append(objs, d)
	}
	for _, o := range objs {
		for k, v := range map[string]string{incremental.KeyIncJob: jobID, incremental.KeyIncVM: e.vm().UUID} {
			if err := e.client.AddToOtherConfig(ctx, o, k, v); err != nil {
				e.t.Fatal(err)
			}
		}
	}
	if !asBase {
		return
	}
	if _, err := e.client.Call(ctx, "VM.destroy", snap); err != nil {
		e.t.Fatal(err)
	}
	for _, d := range disks {
		if err := e.client.DataDestroy(ctx, d); err != nil {
			e.t.Fatal(err)
		}
	}
}
