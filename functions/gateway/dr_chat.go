package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// parseFailover reads `failover <vm> [latest|<time>] [start]`.
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
		case i == 0:
			at, err := ParseCopySelector(a)
			if err != nil {
				return fmt.Errorf("failover: %w", err)
			}
			c.Backup, c.At = a, at
		default:
			return fmt.Errorf("failover: argument %.40q: want latest|<time> or start", a)
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
func (s *Server) chatFailover(ctx context.Context, c Command, by string) (ChatReply, error) {
	res, err := s.failover(ctx, c.VM, c.At, c.Start)
	if err != nil {
		return ChatReply{}, err
	}
	s.log.Info("failover", "via", by, "vm", c.VM, "copy_uuid", res.Copy.UUID, "started", res.Started)
	return ChatReply{ResponseType: inChannel, Text: describeFailover(c.VM, res)}, nil
}

func describeFailover(vm string, res Failover) string {
	what := "start unblocked"
	if res.Started {
		what = "start unblocked and booted"
	}
	return fmt.Sprintf("Failover of %s to copy %s (%s) on pool %s, recovery point %s: %s; power state %s.",
		vm, res.Copy.Name, res.Copy.UUID, res.Copy.Pool, res.Copy.Datetime.UTC().Format(time.RFC3339), what, res.PowerState)
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
