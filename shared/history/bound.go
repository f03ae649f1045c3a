package history

import "xbr/events"

// DefaultKeepRuns is how many runs and restores a projection holds: about
// three years of one nightly job, or a month of a few hourly ones. The
// projection of a long-running process (the gateway's page and API) is
// bounded by it; `xbr history` replays the stream and can set more.
const DefaultKeepRuns = 1000

// remember records that the event key was applied, under the run it was
// about; an event about no run is not remembered (applying it again does
// nothing either).
func (p *Projection) remember(key string) {
	if p.touched == "" {
		return
	}
	if _, ok := p.runs[p.touched]; !ok {
		return // dropped by trim while being applied
	}
	p.seen[key] = true
	p.keys[p.touched] = append(p.keys[p.touched], key)
}

// trim drops ended runs, oldest last event first, while more than keep are
// held. Pending runs are not dropped until they are stale (shown
// interrupted). A late lifecycle event about a dropped run starts a
// partial one again, as it would on a stream trimmed by its limits.
func (p *Projection) trim() {
	now := p.now()
	for len(p.runs) > p.keep {
		victim := ""
		for id, r := range p.runs {
			live := r.Status == StatusPending && now.Sub(r.LastEvent) <= p.staleAfter
			if live || id == p.touched {
				continue
			}
			if victim == "" || r.LastEvent.Before(p.runs[victim].LastEvent) {
				victim = id
			}
		}
		if victim == "" {
			return
		}
		p.drop(victim)
	}
}

func (p *Projection) drop(id string) {
	for _, k := range p.keys[id] {
		delete(p.seen, k)
	}
	delete(p.keys, id)
	delete(p.rates, id)
	delete(p.runs, id)
}

// lateProgress reports whether pl is a progress sample of a run the full
// projection does not hold: one dropped by trim, whose samples come late
// on their own stream. Starting it again would hold a partial run, never
// ended, for each; its samples are dropped instead. (A run whose samples
// come before its first lifecycle event loses those, when the projection
// is full.)
func (p *Projection) lateProgress(pl events.Payload) bool {
	var id string
	switch e := pl.(type) {
	case events.ExportProgress:
		id = e.RunID
	case events.RestoreProgress:
		id = e.RequestID
	default:
		return false
	}
	_, held := p.runs[id]
	return !held && len(p.runs) >= p.keep
}
