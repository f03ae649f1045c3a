package replicate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"xbr/shared/failovers"
	"xbr/shared/vmname"
	"xbr/shared/xapi"
	"xbr/shared/xotag"
)

// Selector picks one copy of a VM: the latest, or the one whose recovery
// point is At.
type Selector struct {
	At time.Time // zero: the latest complete copy
}

// Latest is the selector of the newest complete copy.
var Latest = Selector{}

// ParseSelector reads a --copy value as failovers.ParseCopy does: "" or
// "latest", or a recovery point (20231012T10:11:12Z, 20231012T101112Z or
// RFC 3339).
func ParseSelector(s string) (Selector, error) {
	t, err := failovers.ParseCopy(s)
	if err != nil {
		return Selector{}, err
	}
	return Selector{At: t}, nil
}

// String is the selector as ParseSelector reads it.
func (s Selector) String() string {
	if s.At.IsZero() {
		return "latest"
	}
	return s.At.UTC().Format(xotag.DatetimeLayout)
}

// ErrNoCopy means no complete copy matches a VM and selector.
var ErrNoCopy = errors.New("no complete copy")

// Matches reports whether the copy is of vm: its source VM's uuid, the
// copy's own uuid, or the source VM's name as in the copy's name.
func (c Copy) Matches(vm string) bool {
	return strings.EqualFold(c.VMUUID, vm) || strings.EqualFold(c.UUID, vm) || (c.VMName != "" && c.VMName == vm)
}

// Choose picks the copy of vm that sel names among copies: only complete
// copies count. Ties on the recovery point go to the copy still on standby.
// A name the copies of several source VMs carry is refused as every door
// refuses it (a *vmname.AmbiguousError): failing over the wrong VM is worse
// than asking for its uuid.
func Choose(copies []Copy, vm string, sel Selector) (Copy, error) {
	if err := unambiguous(copies, vm); err != nil {
		return Copy{}, err
	}
	var best Copy
	found := false
	for _, c := range copies {
		if !c.Complete() || !c.Matches(vm) || (!sel.At.IsZero() && !c.Datetime.Equal(sel.At)) {
			continue
		}
		if !found || c.Datetime.After(best.Datetime) || (c.Datetime.Equal(best.Datetime) && c.Standby() && !best.Standby()) {
			best, found = c, true
		}
	}
	if !found {
		return Copy{}, noCopy(copies, vm, sel)
	}
	return best, nil
}

// noCopy is Choose's error when no copy matches: what became of the copy a
// confirmed request names (its own uuid and recovery point, see
// failovers.Params.Confirmed). Such a request fails over that copy or
// nothing: never a newer copy in its place.
func noCopy(copies []Copy, vm string, sel Selector) error {
	for _, c := range copies {
		switch {
		case !strings.EqualFold(c.UUID, vm):
			continue
		case !c.Complete():
			return fmt.Errorf("vm %q, copy %s: %w: copy %s (%s) is not complete (no xo:backup:sr: its transfer did not finish); no other copy is failed over in its place",
				vm, sel, ErrNoCopy, c.UUID, c.Name)
		default:
			return fmt.Errorf("vm %q, copy %s: %w: copy %s (%s) has recovery point %s; no other copy is failed over in its place",
				vm, sel, ErrNoCopy, c.UUID, c.Name, Selector{At: c.Datetime})
		}
	}
	if !sel.At.IsZero() {
		return fmt.Errorf("vm %q, copy %s: %w: nothing matches on the standby pools (pruned or destroyed since it was shown?); "+
			"no other copy is failed over in its place", vm, sel, ErrNoCopy)
	}
	return fmt.Errorf("vm %q, copy %s: %w", vm, sel, ErrNoCopy)
}

// unambiguous refuses a VM name that the complete copies of several
// source VMs carry (vmname.Resolve); a name none carries is left to
// Choose's ErrNoCopy.
func unambiguous(copies []Copy, vm string) error {
	if vmname.IsUUID(vm) {
		return nil
	}
	var known []vmname.Known
	for _, c := range copies {
		if c.Complete() {
			known = append(known, vmname.Known{UUID: c.VMUUID, Name: c.VMName})
		}
	}
	if _, err := vmname.Resolve(vm, known); err != nil && !errors.Is(err, vmname.ErrNotFound) {
		return err
	}
	return nil
}

// FailoverResult is what a failover did.
type FailoverResult struct {
	Copy Copy `json:"copy"`
	// Unblocked: start was blocked and is not any more.
	Unblocked bool `json:"unblocked"`
	// Started: this failover booted the copy.
	Started bool `json:"started"`
	// PowerState after the failover.
	PowerState string `json:"power_state"`
}

// Failover finds the copy of vm that sel names on the pool of c, unblocks
// start on it and, with start, boots it. Repeating it is harmless: a copy
// already unblocked or running is left as it is.
func Failover(ctx context.Context, c *xapi.Client, vm string, sel Selector, start bool) (FailoverResult, error) {
	copies, err := ListCopies(ctx, c)
	if err != nil {
		return FailoverResult{}, err
	}
	cp, err := Choose(copies, vm, sel)
	if err != nil {
		return FailoverResult{}, err
	}
	return FailoverCopy(ctx, c, cp, start)
}

// FailoverCopy unblocks start (and start_on) on cp and, with start, boots
// it when it is halted. When the unblocking or the boot fails, nothing was
// failed over: what it unblocked is blocked again with the replication's
// reason, so the copy stays on standby, and the error says whether that
// worked.
func FailoverCopy(ctx context.Context, c *xapi.Client, cp Copy, start bool) (FailoverResult, error) {
	res := FailoverResult{Copy: cp, Unblocked: cp.StartBlocked}
	var unblocked []string
	for _, op := range blockedOps {
		if err := c.RemoveFromBlockedOperations(ctx, cp.Ref, op); err != nil {
			if cp.StartBlocked { // a cut call may have unblocked it all the same
				unblocked = append(unblocked, op)
			}
			return res, failed(ctx, c, cp, "unblock "+op, err, unblocked)
		}
		if cp.StartBlocked {
			unblocked = append(unblocked, op)
		}
	}
	if start && cp.PowerState == string(xapi.Halted) {
		if err := c.Start(ctx, cp.Ref, false, false); err != nil {
			return res, failed(ctx, c, cp, "start", err, unblocked)
		}
		res.Started = true
	}
	rec, err := c.VMRecord(ctx, cp.Ref)
	if err != nil {
		return res, fmt.Errorf("failover %s: %w", cp.UUID, err)
	}
	if now, ok := copyOf(cp.Ref, rec); ok {
		res.Copy = now
	}
	res.Copy.Pool = cp.Pool
	res.PowerState = string(rec.PowerState)
	return res, nil
}

// failed is the error of a failover of cp whose step failed with err,
// after it unblocked ops: it blocks them again with the replication's
// reason (nothing was failed over, so the copy stays on standby), and says
// first whether that worked, since a long reason is cut at its end.
func failed(ctx context.Context, c *xapi.Client, cp Copy, step string, err error, ops []string) error {
	if len(ops) == 0 {
		return fmt.Errorf("failover %s: %s: %w", cp.UUID, step, err)
	}
	var errs []error
	for _, op := range ops {
		if berr := c.AddToBlockedOperations(ctx, cp.Ref, op, BlockReason); berr != nil {
			errs = append(errs, fmt.Errorf("block %s again: %w", op, berr))
		}
	}
	berr := errors.Join(errs...)
	if xapi.IsCode(berr, xapi.CodeHandleInvalid) {
		return fmt.Errorf("failover %s: %s failed, and the copy no longer exists (destroyed meanwhile): %s: %w", cp.UUID, step, step, err)
	}
	if berr != nil {
		return fmt.Errorf("failover %s: %s failed, and blocking start again failed too: the copy is left unblocked, "+
			"no longer on standby (fail it over again, or block its start): %s: %w; %w", cp.UUID, step, step, err, berr)
	}
	note := "start blocked again: the copy is still on standby"
	if rec, rerr := c.VMRecord(ctx, cp.Ref); rerr == nil && rec.PowerState != xapi.Halted {
		note = fmt.Sprintf("start blocked again, but the copy is %s: check it", rec.PowerState)
	}
	return fmt.Errorf("failover %s: %s failed (%s): %w", cp.UUID, step, note, err)
}
