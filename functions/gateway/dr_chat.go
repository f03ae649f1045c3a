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

// chatFailover answers `failover ...` in the channel (a failover is news)
// as soon as it published xbr.failover.requested (requested_by
// slack:<user> or mattermost:<user>): a slash command must be answered
// within seconds, a failover may take minutes. Its outcome is posted to the
// command's response_url when it ends (see failoverFollow).
func (s *Server) chatFailover(ctx context.Context, c Command, by, key string) (ChatReply, error) {
	p := failovers.Params{VM: c.VM, Copy: failovers.CopyString(c.At), Start: c.Start, Force: c.Force, RequestedBy: by, Key: key}
	req, err := s.requestFailover(ctx, p)
	if err != nil {
		return ChatReply{}, err
	}
	what := "unblock start on its " + copyWords(req.Copy)
	if req.Start {
		what += " and boot it"
	}
	if req.Force {
		what += ", even while the source VM runs (forced)"
	}
	return ChatReply{ResponseType: inChannel, Text: fmt.Sprintf("Failover `%s` of %s requested by %s: %s.", req.RequestID, c.VM, by, what),
		follow: s.failoverFollow(c.VM, by, req.RequestID)}, nil
}

// copyWords names the copy a failover asks for.
func copyWords(sel string) string {
	if sel == failovers.Latest || sel == "" {
		return "latest copy"
	}
	return "copy of " + sel
}

// failoverFollow follows chat failover id for the chat failover wait
// (WithChatFailoverWait): its outcome is done, or still pending when the
// wait passed. Nothing is posted when the gateway closes first.
func (s *Server) failoverFollow(vm, by, id string) *chatFollow {
	wait := s.opts.chatFailoverWait
	return &chatFollow{what: "failover", id: id, wait: wait, elsewhere: " Look at the DR page for it.",
		outcome: func(ctx context.Context) (string, string, error) {
			st, err := failovers.Follow(ctx, s.env.Conn, s.env.Subjects, s.env.Streams, id, nil)
			st.RequestID = id
			switch {
			case st.Done():
				return describeFailover(vm, st, by), string(st.State), nil
			case errors.Is(ctx.Err(), context.DeadlineExceeded):
				return fmt.Sprintf("Failover `%s` of %s (requested by %s) is still pending after %s: no outcome yet; look at the DR page.",
					id, vm, by, wait), string(failovers.StatePending), nil
			case err == nil:
				err = errors.New("it is not done")
			}
			return "", "", fmt.Errorf("the failover did not end while followed: %w", err)
		}}
}

// describeFailover is a failover's outcome in a sentence or two: completed,
// refused (with how to force it), failed, or not known yet.
func describeFailover(vm string, st failovers.Status, by string) string {
	res := st.Completed
	switch {
	case st.Refused():
		return fmt.Sprintf("Failover `%s` of %s (requested by %s) refused: %s. Nothing was changed; shut the original VM down, or ask again with `force` at the end.",
			st.RequestID, vm, by, strings.TrimSuffix(st.Error(), "; stop it or use --force"))
	case st.Failed != nil:
		return fmt.Sprintf("Failover `%s` of %s (requested by %s) failed: %s.", st.RequestID, vm, by, st.Error())
	case res == nil:
		return fmt.Sprintf("Failover `%s` of %s requested by %s; its outcome is not known yet: look at the DR page.", st.RequestID, vm, by)
	}
	what := "start unblocked"
	if res.Started {
		what = "start unblocked and booted"
	}
	text := fmt.Sprintf("Failover `%s` of %s (requested by %s) to copy %s (%s) on pool %s, recovery point %s: %s; power state %s; source VM %s.",
		st.RequestID, vm, by, res.CopyName, res.CopyUUID, res.Pool, res.RecoveryPoint, what, res.PowerState, res.Source)
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
