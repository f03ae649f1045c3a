package runs

import (
	"context"
	"fmt"

	"xbr/events"
)

// CountEndOnly makes the first write of a VM's end, in the run's header,
// and stops there, as a worker that crashed before the second.
func (c *Coordinator) CountEndOnly(ctx context.Context, runID string, res events.VMResult) error {
	h, rev, err := c.header(ctx, runID)
	if err != nil {
		return err
	}
	p, err := c.plan(ctx, h)
	if err != nil {
		return err
	}
	if _, ok := p.index[res.VMUUID]; !ok {
		return fmt.Errorf("no VM %s", res.VMUUID)
	}
	h.count(res)
	if h.Finished == h.Requested {
		h.end(len(p.VMs), h.Succeeded, h.Failed, c.now())
		h.EndedBy = res.VMUUID
	}
	_, err = c.putHeader(ctx, h, rev)
	return err
}

// HeaderSize is the size of the value that every VM's end reads and
// rewrites.
func (c *Coordinator) HeaderSize(ctx context.Context, runID string) (int, error) {
	e, err := c.kv.Get(ctx, runKey(runID))
	if err != nil {
		return 0, err
	}
	return len(e.Value()), nil
}

// TakeOverOnly takes the stale lock of f's job for f and stops there, as a
// planner that crashed before it interrupted the run it took over.
func (c *Coordinator) TakeOverOnly(ctx context.Context, f Fire) error {
	l, rev, err := c.lock(ctx, f.Job)
	if err != nil {
		return err
	}
	return c.putLock(ctx, f, rev, &l)
}
