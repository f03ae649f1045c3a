package runs

import (
	"context"
	"fmt"

	"xbr/events"
)

// Step is what a Finish changed, or, for a repeated Finish, what the first
// one changed: the VMs it made active and whether the run is done.
type Step struct {
	// Run is the run with the finished VM alone in its VMs; once the run
	// is done (Done), with every VM, for its run.completed.
	Run      Run
	Released []VM // VMs made active by this VM's end: publish their requests
	Done     bool // this VM's end ended the run: publish its run.completed
	// Late: the run had already ended (interrupted) when this result came;
	// it was not recorded.
	Late bool
}

// Finish records a VM's result, activates the next queued VM and, when it
// was the last one, ends the run and releases the job's lock. Finish is
// idempotent: repeating it returns the same Step.
//
// A VM's end costs a few reads and writes of small values, whatever the
// number of VMs of the run: the end takes the next ordinal f in the run's
// header (a compare-and-set that also counts the result and, for the last
// ordinal, ends the run) and is then written on the VM's own record. The
// end with ordinal f releases the request at position Initial+f. Between
// the two writes the header keeps the end as pending, so an end repeated
// after a crash, or delivered twice at once, takes the same ordinal
// instead of a second one.
func (c *Coordinator) Finish(ctx context.Context, runID string, res events.VMResult) (Step, error) {
	h, _, err := c.header(ctx, runID)
	if err != nil {
		return Step{}, err
	}
	if h.Plan == "" {
		return c.finishInline(ctx, runID, res)
	}
	p, err := c.plan(ctx, h)
	if err != nil {
		return Step{}, err
	}
	i, ok := p.index[res.VMUUID]
	if !ok {
		return Step{}, fmt.Errorf("run %s has no VM %s", runID, res.VMUUID)
	}
	if p.VMs[i].Planned {
		return Step{Run: h.run(h.vm(p, i, vmRecord{}))}, nil
	}
	ord, h, late, err := c.countEnd(ctx, runID, i, len(p.VMs), res)
	if err != nil {
		return Step{}, err
	}
	if late {
		return Step{Run: h.run(), Late: true}, nil
	}
	return c.step(ctx, h, p, i, ord)
}

// countEnd gives the end of VM i (of total) its ordinal, once: it returns the ordinal
// and the header after the end is on the VM's record, or late when the
// run ended before this VM's end was counted.
//
// The header is read before the VM's record, and a VM's record gets its
// ordinal before the header forgets the pending end: so an end that finds
// neither is not counted yet, and the compare-and-set on the header fails
// if another delivery counts it in between.
func (c *Coordinator) countEnd(ctx context.Context, runID string, i, total int, res events.VMResult) (int, header, bool, error) {
	for range casAttempts {
		h, rev, err := c.header(ctx, runID)
		if err != nil {
			return 0, header{}, false, err
		}
		rec, recRev, err := c.record(ctx, runID, i)
		if err != nil {
			return 0, header{}, false, err
		}
		if rec.Ordinal != nil { // recorded before: a repeated end
			h, err = c.forgetPending(ctx, runID, res.VMUUID)
			return *rec.Ordinal, h, false, err
		}
		pend, counted := h.Pending[res.VMUUID]
		if !counted {
			if h.Done() {
				return 0, h, true, nil
			}
			pend.Ordinal = h.count(res)
			pend.Result = res
			if h.Finished == h.Requested {
				h.end(total, h.Succeeded, h.Failed, c.now())
				h.EndedBy = res.VMUUID
			}
			if _, err := c.putHeader(ctx, h, rev); err != nil {
				if conflict(err) {
					continue
				}
				return 0, header{}, false, fmt.Errorf("update run %s: %w", runID, err)
			}
		}
		rec.Ordinal, rec.Result = &pend.Ordinal, &pend.Result
		if err := c.putRecord(ctx, runID, i, rec, recRev); err != nil {
			if conflict(err) {
				continue // an attempt recorded meanwhile, or the other delivery: read again
			}
			return 0, header{}, false, err
		}
		h, err = c.forgetPending(ctx, runID, res.VMUUID)
		return pend.Ordinal, h, false, err
	}
	return 0, header{}, false, fmt.Errorf("record the end of VM %s in run %s: still conflicting after %d attempts",
		res.VMUUID, runID, casAttempts)
}

// forgetPending removes the pending end of vmUUID from the header, now
// that it is on the VM's record, and returns the header.
func (c *Coordinator) forgetPending(ctx context.Context, runID, vmUUID string) (header, error) {
	for range casAttempts {
		h, rev, err := c.header(ctx, runID)
		if err != nil {
			return header{}, err
		}
		if _, ok := h.Pending[vmUUID]; !ok {
			return h, nil
		}
		delete(h.Pending, vmUUID)
		if _, err := c.putHeader(ctx, h, rev); err == nil {
			return h, nil
		} else if !conflict(err) {
			return header{}, fmt.Errorf("update run %s: %w", runID, err)
		}
	}
	return header{}, fmt.Errorf("update run %s: still conflicting after %d attempts", runID, casAttempts)
}

// step is the Step of the end of VM i with ordinal ord; it releases or
// renews the job's lock.
func (c *Coordinator) step(ctx context.Context, h header, p *plan, i, ord int) (Step, error) {
	rec, _, err := c.record(ctx, h.ID, i)
	if err != nil {
		return Step{}, err
	}
	me := h.vm(p, i, rec)
	st := Step{Run: h.run(me)}
	if pos := h.Initial + ord; pos < len(p.requests) {
		v := p.VMs[p.requests[pos]]
		v.State, v.ReleasedBy = VMActive, me.UUID
		st.Released = []VM{v}
	}
	if h.Done() && h.EndedBy == me.UUID {
		st.Done = true
		if st.Run, err = c.full(ctx, h); err != nil {
			return Step{}, err
		}
	}
	if h.Done() {
		return st, c.release(ctx, h.Job, h.ID)
	}
	return st, c.renew(ctx, h.Job, h.ID)
}

// finishInline is Finish for a run recorded with its VMs inline.
func (c *Coordinator) finishInline(ctx context.Context, runID string, res events.VMResult) (Step, error) {
	var late bool
	h, err := c.update(ctx, runID, func(r *Run) (bool, error) {
		if v, ok := r.VM(res.VMUUID); ok && r.Done() && v.State != VMDone {
			late = true
		}
		return r.finish(res, c.now())
	})
	if err != nil {
		return Step{}, err
	}
	r := h.Run
	if late {
		return Step{Run: r, Late: true}, nil
	}
	if r.Done() {
		err = c.release(ctx, r.Job, r.ID)
	} else {
		err = c.renew(ctx, r.Job, r.ID)
	}
	return Step{Run: r, Released: r.ReleasedBy(res.VMUUID), Done: r.Done()}, err
}
