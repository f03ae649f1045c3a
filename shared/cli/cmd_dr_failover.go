package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/failovers"
	"xbr/shared/fn"
	"xbr/shared/vmname"
)

// failoverOpts are the flags of `xbr dr failover`.
type failoverOpts struct {
	copy, pool        string
	start, force, yes bool
	follow            followOpts
}

func newDrFailoverCmd() *cobra.Command {
	var (
		cf clientFlags
		o  failoverOpts
	)
	cmd := &cobra.Command{
		Use:   "failover VM",
		Short: "Fail VM over to a standby copy: unblock start on it (and boot it with --start)",
		Long: `failover asks the server to fail VM (its source uuid or name, or the copy's own
uuid) over to a complete copy on the standby pools — the latest, or the one
whose recovery point --copy names (20231012T10:11:12Z, 20231012T101112Z or
RFC 3339): start/start_on are unblocked on the copy and, with --start, it
boots. A copy that was failed over is never pruned by later runs.

The failover is refused while the source VM is running (or paused) on its
pool, or another copy of it is (one an earlier failover started), to avoid
two live copies of one VM: stop it first, or pass --force. A
source pool that does not answer does not stop the failover (that is the
disaster it is for); the outcome says so.

On a terminal it shows which copy, its age and whether it will be started,
and asks for confirmation (type the VM name or y); the request then names
that copy (its uuid and recovery point): if it is pruned or destroyed
before the failover is handled, the failover fails and no other copy is
started in its place, even when a newer one completed meanwhile. Without a
terminal it needs --yes, and nothing is shown: the copy is chosen when the
request is handled, so "latest" is then the newest complete copy at that
moment. The request is the xbr.failover.requested event (with who
asked); with --wait the command follows it and exits 0 when the failover
completed, 1 when it was refused or failed. --json writes newline-delimited
JSON instead of text: {"type":"requested"}, a "status" object on each change,
and a final "result" object with the status and the exit code.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runFailover(cmd, &cf, args[0], o) },
	}
	cf.add(cmd)
	f := cmd.Flags()
	f.StringVar(&o.copy, "copy", "latest", "latest (the newest complete copy: the one confirmed, or with --yes the newest when the request is handled), or the recovery point of the copy")
	f.StringVar(&o.pool, "pool", "", "look on this configured pool only")
	f.BoolVar(&o.start, "start", false, "boot the copy")
	f.BoolVar(&o.force, "force", false, "fail over even while the source VM or another copy of it is running (split brain is then yours)")
	f.BoolVar(&o.yes, "yes", false, "do not ask for confirmation (needed without a terminal); the copy is then chosen when the request is handled")
	o.follow.add(cmd, "failover")
	return cmd
}

func runFailover(cmd *cobra.Command, cf *clientFlags, vm string, o failoverOpts) error {
	now := time.Now().UTC()
	p := failovers.Params{VM: vm, Copy: o.copy, Pool: o.pool, Start: o.start, Force: o.force, RequestedBy: requester()}
	if _, err := failovers.NewRequest(p, now); err != nil { // fail fast, before connecting
		return err
	}
	if !o.yes && !isTerminalIn(cmd.InOrStdin()) {
		return fmt.Errorf("failover of %s: not asked: standard input is not a terminal; add --yes to fail over without confirmation", vm)
	}
	conn, subjects, err := cf.connect()
	if err != nil {
		return err
	}
	defer conn.Close()
	if !o.yes {
		c, err := confirmOnTerminal(cmd, cf, conn, subjects, vm, o)
		if err != nil {
			return err
		}
		p = p.Confirmed(c.CopyRecord) // that copy or none, whatever completes meanwhile
	}
	req, err := failovers.Publish(cmd.Context(), conn, subjects, events.Source("cli"), p, now)
	if err != nil {
		return err
	}
	v := newView(cmd, o.follow.json)
	v.Object("requested", jsonLine{Event: string(req.EventType()), Time: now, Data: req})
	if req.VM != vm {
		v.Line("failover %s: %s requested, copy %s", req.RequestID, vm, req.VM)
	} else {
		v.Line("failover %s: %s requested", req.RequestID, vm)
	}
	if !o.follow.wait {
		v.Close()
		return nil
	}
	v.Waiting(req.RequestID, "failing over")
	return followFailover(cmd.Context(), v, conn, subjects, req.RequestID)
}

// followFailover shows failover id's changes until its outcome; a refused
// or failed failover is exit code 1.
func followFailover(ctx context.Context, v view, conn *bus.Conn, s events.Subjects, id string) error {
	st, err := failovers.Follow(ctx, conn, s, events.StreamNames{}, id, func(st failovers.Status) {
		if !st.Done() {
			v.Object("status", jsonLine{Data: st})
			v.Line("%s", describeFailover(st))
		}
	})
	v.Close()
	if err != nil {
		return err
	}
	var exit error
	if st.State != failovers.StateCompleted {
		exit = &ExitError{Code: exitRunFailed}
	}
	code := exitCodeOf(exit)
	v.Object("result", jsonLine{Time: st.FinishedAt, Data: st, ExitCode: &code})
	v.Line("%s", describeFailover(st))
	return exit
}

// confirmOnTerminal shows the copy a failover would use, asks, and
// returns the copy confirmed.
func confirmOnTerminal(cmd *cobra.Command, cf *clientFlags, conn *bus.Conn, s events.Subjects, vm string, o failoverOpts) (events.DRCopy, error) {
	ctx, cancel := cf.requestCtx(cmd.Context())
	defer cancel()
	cs, err := fn.Ask(ctx, conn.NATS(), s, events.QueryDRList, events.DRListRequest{VM: vm, Pool: o.pool})
	if err != nil {
		return events.DRCopy{}, err
	}
	if err := unambiguousCopies(cs, vm); err != nil {
		return events.DRCopy{}, fmt.Errorf("failover of %s: %w", vm, err)
	}
	at, _ := failovers.ParseCopy(o.copy) // checked by NewRequest
	c, ok := pickCopy(cs, at)
	if !ok {
		return events.DRCopy{}, fmt.Errorf("failover of %s: no complete copy (copy %s) on the standby pools; see 'xbr dr ls --vm %s'", vm, o.copy, vm)
	}
	ok, err = confirmFailover(cmd.InOrStdin(), questionWriter(cmd, o.follow.json), vm, c, o)
	if err != nil {
		return events.DRCopy{}, err
	}
	if !ok {
		return events.DRCopy{}, errors.New("failover not confirmed: nothing was done")
	}
	return c, nil
}

// questionWriter is where the confirmation is asked: stderr with --json,
// whose stdout is the JSON stream alone; else stdout.
func questionWriter(cmd *cobra.Command, asJSON bool) io.Writer {
	if asJSON {
		return cmd.ErrOrStderr()
	}
	return cmd.OutOrStdout()
}

// unambiguousCopies refuses a name the complete copies of several source
// VMs carry, as the replicate function does (replicate.Choose): the
// confirmed request names the copy's uuid, which it would no longer refuse.
func unambiguousCopies(cs []events.DRCopy, vm string) error {
	if vmname.IsUUID(vm) {
		return nil
	}
	var known []vmname.Known
	for _, c := range cs {
		if c.SR != "" {
			known = append(known, vmname.Known{UUID: c.VMUUID, Name: c.VMName})
		}
	}
	if _, err := vmname.Resolve(vm, known); err != nil && !errors.Is(err, vmname.ErrNotFound) {
		return err
	}
	return nil
}

// pickCopy picks as the replicate function does: complete copies only,
// the newest (or the one at at), on a tie the one still on standby.
func pickCopy(cs []events.DRCopy, at time.Time) (events.DRCopy, bool) {
	var best events.DRCopy
	found := false
	for _, c := range cs {
		if c.SR == "" || (!at.IsZero() && !c.Datetime.Equal(at)) {
			continue
		}
		if !found || c.Datetime.After(best.Datetime) || (c.Datetime.Equal(best.Datetime) && c.StartBlocked && !best.StartBlocked) {
			best, found = c, true
		}
	}
	return best, found
}
