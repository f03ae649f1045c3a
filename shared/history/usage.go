package history

import (
	"cmp"
	"slices"
	"time"

	"xbr/events"
)

// UsageDaysKept bounds the measurements a projection holds per remote: the
// newest of each UTC day, for this many days (the page charts 30).
const UsageDaysKept = 60

// UsagePoint is one measurement of a remote (xbr.remote.usage).
type UsagePoint struct {
	At        time.Time
	UsedBytes int64
	FreeBytes int64 // -1: unknown
}

// applyUsage keeps the newest measurement of each UTC day per remote. It is
// idempotent (an event applied twice changes nothing), so usage events are
// not remembered among the seen ids.
func (p *Projection) applyUsage(e events.RemoteUsage, at time.Time) {
	pt := UsagePoint{At: at, UsedBytes: e.UsedBytes, FreeBytes: -1}
	if e.FreeBytes != nil {
		pt.FreeBytes = *e.FreeBytes
	}
	pts := p.usage[e.Remote]
	day := at.Format(time.DateOnly)
	i, found := slices.BinarySearchFunc(pts, day, func(u UsagePoint, d string) int {
		return cmp.Compare(u.At.Format(time.DateOnly), d)
	})
	switch {
	case found && at.After(pts[i].At):
		pts[i] = pt
	case !found:
		pts = slices.Insert(pts, i, pt)
	}
	if len(pts) > UsageDaysKept {
		pts = slices.Delete(pts, 0, len(pts)-UsageDaysKept)
	}
	p.usage[e.Remote] = pts
}

// Usage is the remote's newest measurement of each UTC day it was
// measured, oldest first.
func (p *Projection) Usage(remote string) []UsagePoint {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.usage[remote])
}
