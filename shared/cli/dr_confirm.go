package cli

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"xbr/events"
	"xbr/shared/failovers"
)

// confirmFailover says what the failover will do and reads the answer: the
// VM name (as typed on the command line, or the copy's source name) or y.
func confirmFailover(in io.Reader, out io.Writer, vm string, c events.DRCopy, o failoverOpts) (bool, error) {
	start := "start will be unblocked; the copy will NOT be booted (add --start to boot it)"
	if o.start {
		start = "start will be unblocked and the copy BOOTED"
	}
	fmt.Fprintf(out, "Fail over %s to copy %q (%s) on pool %s\n", vm, c.Name, c.UUID, c.Pool)
	fmt.Fprintf(out, "  recovery point %s (%s old), state %s, power %s\n",
		c.Datetime.UTC().Format(time.RFC3339), drAge(c.AgeSeconds), c.State, c.PowerState)
	fmt.Fprintf(out, "  %s\n", start)
	if o.force {
		fmt.Fprintln(out, "  --force: even if the source VM, or another copy of it, is still running (two live copies of one VM)")
	} else {
		fmt.Fprintln(out, "  refused if the source VM, or another copy of it, is still running (stop it first, or --force)")
	}
	fmt.Fprintf(out, "Type the VM name (%s) or y to go ahead [y/N]: ", vm)
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && line == "" {
		return false, fmt.Errorf("failover not confirmed: %w", err)
	}
	a := strings.TrimSpace(line)
	return strings.EqualFold(a, "y") || strings.EqualFold(a, "yes") || a == vm || (c.VMName != "" && a == c.VMName), nil
}

// describeFailover is the outcome of a failover, in one line.
func describeFailover(st failovers.Status) string {
	switch {
	case st.Completed != nil:
		c := st.Completed
		what := "start unblocked"
		if c.Started {
			what += " and booted"
		} else if !c.Unblocked {
			what = "start was already unblocked"
		}
		line := fmt.Sprintf("completed: failover of %s to copy %s (%s) on pool %s, recovery point %s: %s, power state %s; source VM %s",
			c.VM, c.CopyUUID, c.CopyName, c.Pool, c.RecoveryPoint, what, c.PowerState, c.Source)
		if c.SourcePool != "" {
			line += " on pool " + c.SourcePool
		}
		if c.Note != "" {
			line += " (" + c.Note + ")"
		}
		return line
	case st.Refused():
		return "REFUSED: " + st.Error()
	case st.Failed != nil:
		return "FAILED: " + st.Error()
	}
	return string(st.State)
}
