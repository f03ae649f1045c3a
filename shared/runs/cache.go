package runs

import (
	"slices"
	"sync"
)

// cachedRuns bounds the decoded runs kept: more than the runs in flight
// at once in one process.
const cachedRuns = 16

// decodedRuns keeps the last decoded version of recent runs by KV revision.
// A run's record holds every VM of the run and each VM's worker reads and
// rewrites it, so decoding it on every read cost O(N) per VM (38% of xbr
// serve's CPU in a 1,000-VM run). A read whose revision is the one this
// process last wrote or read is answered from here; any other revision (a
// write by another process) is decoded. Revisions are the KV stream's
// sequence numbers, so a revision names exactly one content.
type decodedRuns struct {
	mu   sync.Mutex
	runs map[string]decodedRun
}

type decodedRun struct {
	rev uint64
	run Run
}

// get returns a copy of run id at revision rev, if kept.
func (d *decodedRuns) get(id string, rev uint64) (Run, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e, ok := d.runs[id]
	if !ok || e.rev != rev {
		return Run{}, false
	}
	return e.run.clone(), true
}

// put keeps a copy of r at revision rev; an ended run is forgotten.
func (d *decodedRuns) put(rev uint64, r Run) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.runs == nil {
		d.runs = map[string]decodedRun{}
	}
	if r.Done() {
		delete(d.runs, r.ID)
		return
	}
	if _, ok := d.runs[r.ID]; !ok && len(d.runs) >= cachedRuns {
		for id := range d.runs { // drop any one: a miss only costs a decode
			delete(d.runs, id)
			break
		}
	}
	d.runs[r.ID] = decodedRun{rev: rev, run: r.clone()}
}

// clone is a deep copy of r: callers change the VMs of what load returns.
func (r Run) clone() Run {
	r.VMs = slices.Clone(r.VMs)
	for i := range r.VMs {
		r.VMs[i].Attempts = slices.Clone(r.VMs[i].Attempts)
		if res := r.VMs[i].Result; res != nil {
			cp := *res
			r.VMs[i].Result = &cp
		}
	}
	return r
}
