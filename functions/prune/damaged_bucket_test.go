package prune_test

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/prune"
	"xbr/shared/remote/remotetest"
	"xbr/shared/repo"
	"xbr/shared/repoimage/repoimagetest"
)

// TestDamagedPointIsNoBucketRepresentative: a point whose manifest is damaged
// counts in every scope so that it "goes once outside a depth" (doc.go). With
// long-term buckets it does not go: as the oldest point of its month it is kept
// as the monthly representative, while the restorable points of that month are
// deleted. The month is then left with no point that can be restored, and the
// damaged manifest stays for as many months as the bucket keeps, stopping
// every GC of the repository meanwhile.
func TestDamagedPointIsNoBucketRepresentative(t *testing.T) {
	ctx := context.Background()
	w, rp, vm, data := scopeWorld(t)
	scoped := scopeOf(w, "longterm", "daily") // depth 2, daily 3, monthly 2 (Europe/Paris)
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 2, 0, 0, 0, time.UTC) }
	times := []time.Time{day(3, 10), day(3, 11), day(3, 12), day(4, 10), day(4, 11), day(4, 12), day(4, 13)}
	var ids []string
	for _, at := range times {
		repoimagetest.StorePointWith(t, rp, vm.UUID, at, bytes.NewReader(data), scoped)
		ids = append(ids, prune.PointID("store", repo.Point{VM: vm.UUID, Time: at}))
	}
	// March's oldest point: its manifest is damaged (it cannot be restored).
	remotetest.PutBytes(t, rp.Remote(), repo.Root+"/vms/"+repo.Point{VM: vm.UUID, Time: times[0]}.String()+".json", []byte(`{"format":`))

	outs, err := w.pruner.Points(ctx, "run-1", prune.PointsDone{RunID: "run-1", Job: "longterm", Schedule: "daily",
		VMUUID: vm.UUID, Backups: []events.RemoteBackup{{Remote: "store", BackupID: ids[6]}}})
	got, deleted := onePruned(t, outs, err)
	t.Logf("kept %v\ndeleted %v", got.Kept, deleted)
	march := slices.ContainsFunc(got.Kept, func(id string) bool { return id == ids[1] || id == ids[2] })
	if !march {
		t.Errorf("March is kept by its damaged point %s alone: its restorable points %v were deleted (deleted %v)",
			ids[0], ids[1:3], deleted)
	}
	if slices.Contains(got.Kept, ids[0]) {
		t.Errorf("the damaged point %s is kept as a long-term representative: it cannot be restored, and stops every GC while kept", ids[0])
	}
	if !slices.Contains(deleted, ids[0]) {
		t.Errorf("the damaged point %s, with more than depth restorable points newer, was not deleted (deleted %v)", ids[0], deleted)
	}
}
