package prune

import "xbr/events"

// pointsDone is what Points needs of an incremental backup's completion:
// the adapter between the incremental function's event and retention.
func pointsDone(e events.IncrementalCompleted) PointsDone {
	return PointsDone{RunID: e.RunID, Job: e.Job, Schedule: e.Schedule, VMUUID: e.VMUUID, Backups: e.Backups}
}
