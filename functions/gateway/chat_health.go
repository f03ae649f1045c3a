package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"

	"xbr/events"
	"xbr/shared/config"
)

// parseHealthCheck reads `healthcheck <vm> [latest|<time>] sr=<sr> [pool=<pool>]`.
func (c *Command) parseHealthCheck(args []string) error {
	if err := c.parseRestore(args); err != nil {
		return err
	}
	switch {
	case c.Start:
		return errors.New("healthcheck: start: not an option (the test VM is always started, then destroyed)")
	case c.SR == "":
		return errors.New("healthcheck: missing sr=<sr> (the SR the test VM's disks go to)")
	}
	return nil
}

// chatHealthCheck publishes an xbr.healthcheck.requested for the chosen
// backup; the healthcheck function does the rest, and the outcome is in the
// history and on the backups page.
func (s *Server) chatHealthCheck(ctx context.Context, c Command, by, key string) (ChatReply, error) {
	b, err := s.selectBackup(ctx, c.VM, "", c.At)
	if err != nil {
		return ChatReply{}, err
	}
	pool, err := s.pickPool(c.Pool)
	if err != nil {
		return ChatReply{}, err
	}
	sr, err := s.resolveSR(ctx, pool, c.SR) // as the web form and `restore` do: an unknown SR is refused here
	if err != nil {
		return ChatReply{}, err
	}
	now := s.now()
	if key == "" { // Mattermost signs nothing: each command is a new check, as each CLI call is
		key = now.UTC().Format(time.RFC3339Nano)
	}
	req := events.HealthCheckRequested{RequestID: events.NewHealthCheckID("healthcheck", "chat", key, b.ID.String()),
		BackupID: b.ID.String(), VMUUID: b.VMUUID, VMName: b.VMName, Pool: pool, SR: sr,
		Method: events.HealthMethodGuestMetrics, TimeoutMS: config.DefaultHealthTimeout.Milliseconds(), RequestedBy: by}
	msg, err := s.env.Subjects.Message(events.Meta{ID: events.DeriveID(string(events.TypeHealthCheckRequested), req.RequestID),
		Source: events.Source(Name), Time: now}, req)
	if err != nil {
		return ChatReply{}, err
	}
	if _, err := s.env.Conn.Publish(ctx, msg.Subject, msg.Event); err != nil {
		return ChatReply{}, upstream(fmt.Errorf("publish the health check: %w", err))
	}
	s.log.Info("health check requested", "request", req.RequestID, "backup", req.BackupID, "requested_by", by)
	return ChatReply{ResponseType: inChannel, Text: fmt.Sprintf(
		"Health check `%s` requested by %s: the backup of %s (%s) taken %s on %s boots as a test VM on pool %s, SR %s; "+
			"its outcome shows in the history and on the backups page.",
		req.RequestID, by, b.VMName, b.VMUUID, b.Timestamp.UTC().Format(time.RFC3339), b.Remote, pool, c.SR)}, nil
}
