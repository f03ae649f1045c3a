package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"xbr/events"
)

// TestFollowIncremental: `xbr run --follow` says how an incremental point
// was read and what it cost.
func TestFollowIncremental(t *testing.T) {
	vm := "6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f"
	p := events.IncrementalCompleted{RunID: "r1", Job: "incr", Schedule: "nightly", VMUUID: vm, VMName: "web-1", Pool: "lab",
		Timestamp: "20261129T010000Z", Path: events.PathCBT, BytesRead: 2 << 20, BytesStored: 1 << 20, ChunksNew: 2,
		ChunksReused: 14, DedupRatio: 2, Backups: []events.RemoteBackup{{Remote: "repo", BackupID: "repo:xbr-repo/" + vm + "/20261129T010000Z"}}}
	m, err := events.Subjects{}.Message(events.Meta{ID: "e1", Source: "/test", Time: time.Now()}, p)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if done, err := printRunEvent(&out, events.Received{Message: m, Payload: p}); done || err != nil {
		t.Fatalf("done %v err %v", done, err)
	}
	if got := out.String(); !strings.Contains(got, "web-1") || !strings.Contains(got, "changed blocks over NBD (cbt)") ||
		!strings.Contains(got, "reused 14") {
		t.Errorf("printed %q", got)
	}
}
