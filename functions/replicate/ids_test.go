package replicate_test

import (
	"context"
	"testing"
	"time"

	"xbr/functions/replicate"
	"xbr/shared/config"
	"xbr/shared/xotag"
)

// A copy carries the job's and the schedule's UUIDs in xo:backup:job and
// xo:backup:schedule, as Xen Orchestra's replication does (so XO knows the
// job), and its names for display; a copy made before xbr wrote ids (names
// in those keys) still counts for the job's retention.
func TestCopiesCarryJobAndScheduleIDs(t *testing.T) {
	ctx := context.Background()
	main, standby := startPool(t, "main", 1), startPool(t, "standby", 1)
	clk := &clock{t: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	vm := main.sourceVMs(t)[0]
	jobID := config.DeriveID(config.IDNamespace, "dr")
	schedID := config.DeriveID(jobID, "hourly")

	legacy := spec(vm.UUID, "Local storage", 1)
	if _, err := replicate.Replicate(ctx, main.client, standby.client, legacy, replicate.Options{Now: clk.now}); err != nil {
		t.Fatal(err)
	}
	s := spec(vm.UUID, "Local storage", 1)
	s.JobID, s.ScheduleID = jobID, schedID
	res, err := replicate.Replicate(ctx, main.client, standby.client, s, replicate.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pruned) != 1 {
		t.Errorf("pruned %d copies, want the name-keyed one: %+v", len(res.Pruned), res.Pruned)
	}
	cs := standby.copiesOf(t, vm.UUID)
	if len(cs) != 1 {
		t.Fatalf("%d copies, want 1: %+v", len(cs), cs)
	}
	cp := cs[0]
	rec, err := standby.client.VMRecord(ctx, cp.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.OtherConfig[xotag.KeyJob]; got != jobID {
		t.Errorf("%s = %q, want the job's id %q", xotag.KeyJob, got, jobID)
	}
	if got := rec.OtherConfig[xotag.KeySchedule]; got != schedID {
		t.Errorf("%s = %q, want the schedule's id %q", xotag.KeySchedule, got, schedID)
	}
	if cp.Job != "dr" || cp.Schedule != "hourly" || cp.JobID != jobID || cp.ScheduleID != schedID {
		t.Errorf("copy job %q (%s), schedule %q (%s); want dr (%s), hourly (%s)",
			cp.Job, cp.JobID, cp.Schedule, cp.ScheduleID, jobID, schedID)
	}
	if cp.VMName != vm.NameLabel {
		t.Errorf("copy's source name %q, want %q", cp.VMName, vm.NameLabel)
	}
	checkCopy(t, standby, cp, vm, standby.srUUID(t))
}
