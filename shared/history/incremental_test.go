package history_test

import (
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/history"
)

// TestIncrementalTask: an incremental run's VM gets an "incremental" task
// that names the path taken and what it cost, in words.
func TestIncrementalTask(t *testing.T) {
	point := "repo:xbr-repo/" + vmA + "/20261129T010002Z"
	p := project(t0.Add(time.Hour), build(t, []stamped{
		{0, events.RunStarted{RunID: run1, Job: "incr", Schedule: "nightly", Mode: events.ModeIncremental, FireTime: t0,
			VMs: []events.RunVM{{VMUUID: vmA, VMName: "web-1", Pool: "lab"}, {VMUUID: vmB, VMName: "db-1", Pool: "lab"}}}},
		{time.Second, events.IncrementalStarted{RunID: run1, Job: "incr", Schedule: "nightly", VMUUID: vmA, Pool: "lab", Remote: "repo", Attempt: 1}},
		{3 * time.Second, events.IncrementalCompleted{RunID: run1, Job: "incr", Schedule: "nightly", VMUUID: vmA, Pool: "lab",
			Timestamp: "20261129T010002Z", Path: events.PathFullScan, PathReason: events.PathReasonCBTReset, BytesRead: 8 << 20,
			BytesStored: 2 << 20, ChunksNew: 3, ChunksReused: 5, DedupRatio: 4, DurationMS: 2000,
			Backups: []events.RemoteBackup{{Remote: "repo", BackupID: point}}}},
		{4 * time.Second, events.IncrementalFailed{RunID: run1, Job: "incr", Schedule: "nightly", VMUUID: vmB, Pool: "lab",
			Error: "NBD read: connection reset", Attempts: 2}},
	}))
	r, ok := p.Run(run1)
	if !ok || r.Mode != events.ModeIncremental {
		t.Fatalf("run %+v", r)
	}
	x := find(t, find(t, &r.Task, vmA), history.KindIncremental)
	if x.Status != history.StatusSuccess || x.BackupID != point || x.Size != 2<<20 || x.Remote != "repo" ||
		!strings.HasPrefix(x.Result, "full scan (cbt-reset): read 8") || !strings.Contains(x.Result, "dedup ratio 4.00") {
		t.Errorf("incremental task of A = %+v", x)
	}
	b := find(t, &r.Task, vmB)
	if y := find(t, b, history.KindIncremental); y.Status != history.StatusFailure || y.Attempts != 2 || b.Status != history.StatusFailure {
		t.Errorf("incremental task of B = %+v (VM %s)", y, b.Status)
	}
}

// TestPathWordsPatchedAndUnreadable: patched chunks are said, and base
// chunks that could not be read back are a warning that names the check to
// run.
func TestPathWordsPatchedAndUnreadable(t *testing.T) {
	e := events.IncrementalCompleted{Path: events.PathCBT, BytesRead: 1 << 20, BytesStored: 1 << 20, ChunksNew: 4,
		ChunksPatched: 3, DedupRatio: 4}
	if got := history.PathWords(e); !strings.Contains(got, "3 patched over their base") || strings.Contains(got, "WARNING") {
		t.Errorf("PathWords = %q, want the patched chunks and no warning", got)
	}
	e.BaseChunksUnreadable = 1
	if got := history.PathWords(e); !strings.Contains(got, "WARNING: 1 base chunks could not be read back") ||
		!strings.Contains(got, "xbr verify --deep") {
		t.Errorf("PathWords = %q, want the unreadable base chunk and verify --deep", got)
	}
}

// TestPathWordsNothingStored: a run that stored nothing new (an unchanged
// VM, or every chunk already in the repository) says so instead of a dedup
// ratio of 0.00, which would read as no deduplication at all.
func TestPathWordsNothingStored(t *testing.T) {
	for _, e := range []events.IncrementalCompleted{
		{Path: events.PathCBT, ChunksReused: 168},
		{Path: events.PathFullScan, PathReason: events.PathReasonFirstRun, BytesRead: 256 << 20, ChunksReused: 156},
	} {
		got := history.PathWords(e)
		if strings.Contains(got, "dedup ratio") || !strings.Contains(got, "nothing new to store") {
			t.Errorf("PathWords = %q, want no dedup ratio and \"nothing new to store\"", got)
		}
	}
}
