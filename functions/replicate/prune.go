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
func prune(ctx context.Context, dst *xapi.Client, spec Spec, srUUID, newest string) ([]Copy, error) {
	copies, err := ListCopies(ctx, dst)
	if err != nil {
		return nil, err
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
			return nil, fmt.Errorf("prune copies of %s: %w", spec.VMUUID, err)
		}
		remove = d.Remove
	}
	var pruned []Copy
	var errs []error
	for _, it := range remove {
		c := byUUID[it.ID]
		if err := dst.DestroyVM(ctx, c.Ref); err != nil && !xapi.IsCode(err, xapi.CodeHandleInvalid) {
			errs = append(errs, err)
			continue
		}
		pruned = append(pruned, c)
	}
	if err := errors.Join(errs...); err != nil {
		return pruned, fmt.Errorf("prune copies of %s: %w", spec.VMUUID, err)
	}
	return pruned, nil
}
