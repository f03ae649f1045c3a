package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"xbr/shared/failovers"
)

// parseFailover reads `failover <vm> [latest|<time>] [start] [force]`.
func (c *Command) parseFailover(args []string) error {
	if len(args) == 0 {
		return errors.New("failover: missing <vm>")
	}
	c.VM, c.Backup = args[0], Latest
	if err := checkValue("vm", c.VM); err != nil {
		return err
	}
	for i, a := range args[1:] {
		switch {
		case strings.EqualFold(a, "start"):
			c.Start = true
		case strings.EqualFold(a, "force"):
			c.Force = true
		case i == 0:
			at, err := ParseCopySelector(a)
			if err != nil {
				return fmt.Errorf("failover: %w", err)
			}
			c.Backup, c.At = a, at
		default:
			return fmt.Errorf("failover: argument %.40q: want latest|<time>, start or force", a)
		}
	}
	return nil
}

// chatCopies answers `copies <vm>`: its copies, newest first, with age.
func (s *Server) chatCopies(ctx context.Context, c Command) (ChatReply, error) {
	cs, err := s.copies(ctx, c.VM)
	if err != nil {
		return ChatReply{}, err
	}
	if len(cs) == 0 {
		return ChatReply{}, missing("vm", c.VM, "has no standby copy")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d copy(ies) of %s, newest first:\n", len(cs), orDash(cs[0].VMName))
	for i := len(cs) - 1; i >= 0; i-- {
		x := cs[i]
		fmt.Fprintf(&b, "• %s  (%s old)  %s  pool %s  %s  `%s`\n", x.Datetime.UTC().Format(time.RFC3339),
			age(x.AgeSeconds), x.State, x.Pool, x.PowerState, x.UUID)
	}
	return ChatReply{ResponseType: ephemeral, Text: b.String()}, nil
}

// chatFailover answers `failover ...` in the channel: a failover is news.
// It publishes xbr.failover.requested (requested_by slack:<user> or
// mattermost:<user>) and waits for the outcome.
func (s *Server) chatFailover(ctx context.Context, c Command, by, key string) (ChatReply, error) {
	p := failovers.Params{VM: c.VM, Copy: failovers.CopyString(c.At), Start: c.Start, Force: c.Force, RequestedBy: by, Key: key}
	st, err := s.failover(ctx, p)
	var refused *refusedError
	if errors.As(err, &refused) {
		return ChatReply{ResponseType: inChannel, Text: fmt.Sprintf("Failover of %s refused: %s. Nothing was changed; "+
			"shut the original VM down, or ask again with `force` at the end.", c.VM, strings.TrimSuffix(refused.msg, "; stop it or use --force"))}, nil
	}
	if err != nil {
		return ChatReply{}, err
	}
	return ChatReply{ResponseType: inChannel, Text: describeFailover(c.VM, st, by)}, nil
}

func describeFailover(vm string, st failovers.Status, by string) string {
	res := st.Completed
	if res == nil {
		return fmt.Sprintf("Failover of %s requested by %s (id %s); its outcome is not known yet: look at the DR page.", vm, by, st.RequestID)
	}
	what := "start unblocked"
	if res.Started {
		what = "start unblocked and booted"
	}
	text := fmt.Sprintf("Failover of %s (requested by %s) to copy %s (%s) on pool %s, recovery point %s: %s; power state %s; source VM %s.",
		vm, by, res.CopyName, res.CopyUUID, res.Pool, res.RecoveryPoint, what, res.PowerState, res.Source)
	if res.Note != "" {
		text += " " + res.Note + "."
	}
	return text
}

// age is a duration in seconds, roughly ("3h12m", "2d4h").
func age(sec int64) string {
	d := time.Duration(max(sec, 0)) * time.Second
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return d.Truncate(time.Second).String()
}
