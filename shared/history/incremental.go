package history

import (
	"fmt"
	"time"

	"xbr/events"
)

// applyIncremental records incremental restore points as an "incremental"
// task of the run's VM, whose Result says in words which path was taken
// and what it cost: "cbt: read 4.0 MiB from the host, stored 1.2 MiB new
// (dedup 3.3)" or "full scan (first-run): …".
func (p *Projection) applyIncremental(pl events.Payload, at time.Time) {
	switch e := pl.(type) {
	case events.IncrementalRequested:
		vm(p.run(e.RunID, at), e.VMUUID, e.VMName)
	case events.IncrementalStarted:
		v := vm(p.run(e.RunID, at), e.VMUUID, e.VMName)
		v.begin(at)
		x := v.child(KindIncremental, KindIncremental)
		x.begin(at)
		x.Remote = e.Remote
		x.Attempts = max(x.Attempts, e.Attempt)
	case events.IncrementalProgress:
		p.run(e.RunID, at)
		p.addRate(e.RunID, RatePoint{Time: at, VMUUID: e.VMUUID, Bytes: e.Bytes,
			TotalBytes: e.TotalBytes, BytesPerSecond: e.BytesPerSecond})
	case events.IncrementalCompleted:
		incrementalCompleted(vm(p.run(e.RunID, at), e.VMUUID, e.VMName), e, at)
	case events.IncrementalFailed:
		v := vm(p.run(e.RunID, at), e.VMUUID, e.VMName)
		x := v.child(KindIncremental, KindIncremental)
		x.Attempts = max(x.Attempts, e.Attempts)
		x.finish(StatusFailure, at, e.DurationMS)
		x.Error = e.Error
		if v.Status == StatusPending {
			v.fail(at, e.Error)
		}
	}
}

func incrementalCompleted(v *Task, e events.IncrementalCompleted, at time.Time) {
	x := v.child(KindIncremental, KindIncremental)
	x.finish(StatusSuccess, at, e.DurationMS)
	x.Size, x.BytesPerSecond = e.BytesStored, e.BytesPerSecond
	x.Result = PathWords(e)
	if len(e.Backups) > 0 {
		x.Remote, x.BackupID = e.Backups[0].Remote, e.Backups[0].BackupID
		v.BackupID = x.BackupID
	}
	if v.Status == StatusPending {
		v.finish(StatusSuccess, at, 0)
	}
	v.Size = e.BytesStored
}

// PathWords says in words how an incremental point was read and what it
// cost, for history, reports and the CLI.
func PathWords(e events.IncrementalCompleted) string {
	path := "changed blocks over NBD (cbt)"
	if e.Path != events.PathCBT {
		path = "full scan (" + e.PathReason + ")"
	}
	words := fmt.Sprintf("%s: read %s from the host, stored %s new in %d new chunks, reused %d",
		path, HumanBytes(e.BytesRead), HumanBytes(e.BytesStored), e.ChunksNew, e.ChunksReused)
	if e.BytesStored > 0 {
		words += fmt.Sprintf(", dedup ratio %.2f", e.DedupRatio)
	} else {
		words += ": nothing new to store" // the event's ratio is 0 then, which would read as no dedup
	}
	if e.ChunksPatched > 0 {
		words += fmt.Sprintf(", %d patched over their base", e.ChunksPatched)
	}
	if e.BaseChunksUnreadable > 0 {
		words += fmt.Sprintf("; WARNING: %d base chunks could not be read back (read whole from the host instead): run xbr verify --deep",
			e.BaseChunksUnreadable)
	}
	return words
}
