package cli

import (
	"bytes"
	"encoding/json"
	"errors"
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
	f := runFollower{v: &textView{w: &out}, names: map[string]string{}, ended: map[string]bool{}}
	if done, err := f.show(events.Received{Message: m, Payload: p}); done || err != nil {
		t.Fatalf("done %v err %v", done, err)
	}
	if got := out.String(); !strings.Contains(got, "web-1") || !strings.Contains(got, "changed blocks over NBD (cbt)") ||
		!strings.Contains(got, "reused 14") {
		t.Errorf("printed %q", got)
	}
}

// received builds the event of payload p in run "r1".
func received(t *testing.T, id string, p events.Payload) events.Received {
	t.Helper()
	m, err := events.Subjects{}.Message(events.Meta{ID: id, Source: "/test", Time: time.Now()}, p)
	if err != nil {
		t.Fatal(err)
	}
	return events.Received{Message: m, Payload: p}
}

// replicateRun is a replicate run of one VM: started, two progress
// events, completed, a late progress event, the run's end.
func replicateRun(t *testing.T) []events.Received {
	vm := "6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f"
	copyUUID := "7c3d2f9e-4e5b-4a6c-8d8e-3f2b1c0d9e8a"
	base := events.ReplicateStarted{RunID: "r1", Job: "dr", Schedule: "hourly", VMUUID: vm, VMName: "web-1", Pool: "lab",
		TargetPool: "standby", TargetSR: "sr-1", Attempt: 1}
	prog := func(n int64) events.ReplicateProgress {
		return events.ReplicateProgress{RunID: "r1", Job: "dr", VMUUID: vm, Transfer: events.TransferAt(n, 0, time.Second)}
	}
	done := events.ReplicateCompleted{RunID: "r1", Job: "dr", Schedule: "hourly", VMUUID: vm, VMName: "web-1", Pool: "lab",
		TargetPool: "standby", TargetSR: "sr-1", CopyUUID: copyUUID, CopyName: "web-1 copy", Timestamp: "20261129T010000Z",
		Bytes: 3 << 20, DurationMS: 1500, BytesPerSecond: 2 << 20}
	end := events.RunCompleted{RunID: "r1", Job: "dr", Schedule: "hourly", Status: events.StatusPartial, DurationMS: 2000}
	return []events.Received{received(t, "e1", base), received(t, "e2", prog(1<<20)), received(t, "e3", prog(2<<20)),
		received(t, "e4", done), received(t, "e5", prog(3<<20)), received(t, "e6", end)}
}

// TestFollowReplicateText: `run <replicate job> --wait` prints a line per
// VM and its progress on a pipe, none after the VM ended, and maps partial
// to exit code 1.
func TestFollowReplicateText(t *testing.T) {
	var out bytes.Buffer
	f := runFollower{v: &textView{w: &out}, names: map[string]string{}, ended: map[string]bool{}}
	var err error
	for i, r := range replicateRun(t) {
		done, e := f.show(r)
		if done != (i == 5) {
			t.Fatalf("event %d: done %v", i, done)
		}
		err = e
	}
	if e := (*ExitError)(nil); !errors.As(err, &e) || e.Code != exitRunFailed {
		t.Errorf("exit %v, want code %d", err, exitRunFailed)
	}
	got := out.String()
	for _, want := range []string{"web-1 (6b2c1f8e-3d4a-4f5b-9c7d-2e1a0b9c8d7f): replicating to pool standby, SR sr-1",
		"web-1: 1.0 MiB of ?", "web-1: 2.0 MiB of ?", `done, copy "web-1 copy"`, "run r1: partial in 2s"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "3.0 MiB of") || strings.Contains(got, "\x1b") {
		t.Errorf("a late progress line or an escape sequence:\n%s", got)
	}
}

// TestFollowJSON: --json writes one object per line: the progress and
// lifecycle events, then the result with its exit code.
func TestFollowJSON(t *testing.T) {
	var out bytes.Buffer
	f := runFollower{v: &jsonView{enc: json.NewEncoder(&out)}, names: map[string]string{}, ended: map[string]bool{}}
	for _, r := range replicateRun(t) {
		f.show(r)
	}
	var types []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var o struct {
			Type, Event string
			Data        map[string]any
			ExitCode    *int `json:"exit_code"`
		}
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		types = append(types, o.Type)
		if o.Type == "result" && (o.ExitCode == nil || *o.ExitCode != exitRunFailed || o.Data["status"] != "partial") {
			t.Errorf("result %s", line)
		}
		if o.Type == "progress" && (o.Event != "xbr.replicate.progress" || o.Data["bytes"] == nil) {
			t.Errorf("progress %s", line)
		}
	}
	if got := strings.Join(types, ","); got != "event,progress,progress,event,progress,result" {
		t.Errorf("types %s", got)
	}
}
