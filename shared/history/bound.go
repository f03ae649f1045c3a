package history

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
// held. Pending runs are never dropped. A late event about a dropped run
// starts a partial one again, as it would on a stream trimmed by its limits.
func (p *Projection) trim() {
	for len(p.runs) > p.keep {
		victim := ""
		for id, r := range p.runs {
			if r.Status == StatusPending || id == p.touched {
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
