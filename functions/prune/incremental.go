package prune

import "xbr/events"

// The adapter to the incremental function's event, kept apart so that
// merging its branch changes only this file: xbr.incremental.completed is
// defined in events by the incremental function's branch. Once it is, Handle
// gains the case
//
//	case events.IncrementalCompleted:
//		return p.Points(ctx, ev.Event.ID(), PointsDone{RunID: e.RunID, Job: e.Job,
//			Schedule: e.Schedule, VMUUID: e.VMUUID, Backups: e.Backups})
//
// and typeIncrementalCompleted becomes events.TypeIncrementalCompleted.
const typeIncrementalCompleted = events.Type("xbr.incremental.completed")
