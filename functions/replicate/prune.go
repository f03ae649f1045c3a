package replicate

import (
	"context"
	"errors"
	"fmt"

	"xbr/shared/retention"
	"xbr/shared/xapi"
)

// ResolveSR finds the SR named by target (a uuid or a unique name label)
// on the pool of c and returns its ref and uuid (xapi.ResolveSR).
func ResolveSR(ctx context.Context, c *xapi.Client, target string) (xapi.SRRef, string, error) {
	ref, sr, err := xapi.ResolveSR(ctx, c, target)
	if err != nil {
		return "", "", fmt.Errorf("target %w", err)
	}
	return ref, sr.UUID, nil
}

// prune destroys the standby copies of the VM by this job and schedule on
// the SR beyond spec.CopyRetention, oldest recovery point first; newest is
// the copy just made and always stays (recovery points are to the second,
// so it may tie with an older one). prune runs only after a new copy
// completed, so a failed run never costs a good copy. A copy that is not
// halted neither counts nor is pruned, whatever its blocks say: it was
// booted (with start_on, or by a tool that blocked start again), and
// destroying it would shut a running VM down and delete its disks.
//
// prune decides on a listing, and a failover may unblock and start a copy
// after it: each copy is destroyed only if, read again right before, it is
// still a halted, start-blocked standby copy, and never shut down (see
// destroyStandby). One that is not any more is kept: it is returned in
// kept, and is no error.
func prune(ctx context.Context, dst *xapi.Client, spec Spec, srUUID, newest string) (pruned, kept []Copy, err error) {
	copies, err := ListCopies(ctx, dst)
	if err != nil {
		return nil, nil, err
	}
	byUUID := map[string]Copy{}
	var items []retention.Item
	for _, c := range copies {
		if c.Standby() && c.PowerState == string(xapi.Halted) && spec.ofJob(c.JobID) && spec.ofSchedule(c.ScheduleID) && c.VMUUID == spec.VMUUID &&
			c.SR == srUUID && c.UUID != newest {
			byUUID[c.UUID] = c
			items = append(items, retention.Item{ID: c.UUID, Time: c.Datetime})
		}
	}
	remove := items
	if keep := max(spec.CopyRetention, 1) - 1; keep > 0 {
		d, err := retention.Decide(items, retention.Policy{Depth: keep})
		if err != nil {
			return nil, nil, fmt.Errorf("prune copies of %s: %w", spec.VMUUID, err)
		}
		remove = d.Remove
	}
	var errs []error
	for _, it := range remove {
		c := byUUID[it.ID]
		err := destroyStandby(ctx, dst, c)
		switch {
		case errors.Is(err, xapi.ErrKept):
			kept = append(kept, c)
		case err != nil && !xapi.IsCode(err, xapi.CodeHandleInvalid):
			errs = append(errs, err)
		default:
			pruned = append(pruned, c)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return pruned, kept, fmt.Errorf("prune copies of %s: %w", spec.VMUUID, err)
	}
	return pruned, kept, nil
}

// destroyStandby destroys the copy c with its disks only while it is a
// halted standby copy (xapi.DestroyHaltedVM): a failover unblocks start
// before it starts the copy, so a copy whose start is still blocked at
// that read is not being failed over, and one started after that read is
// not halted any more when VM.destroy runs, which XAPI then refuses. An
// error wrapping xapi.ErrKept means c was left as it is.
func destroyStandby(ctx context.Context, dst *xapi.Client, c Copy) error {
	return dst.DestroyHaltedVM(ctx, c.Ref, func(vm xapi.VM) error {
		now, ok := copyOf(c.Ref, vm)
		switch {
		case !ok || !now.Complete():
			return fmt.Errorf("copy %s is no longer a complete copy", c.UUID)
		case !now.StartBlocked:
			return fmt.Errorf("copy %s is no longer on standby: its start is unblocked (failed over)", c.UUID)
		}
		return nil
	})
}
