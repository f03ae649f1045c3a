package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/catalog"
	"xbr/shared/config"
)

func newHealthCheckCmd() *cobra.Command {
	var (
		cf       clientFlags
		req      events.HealthCheckRequested
		timeout  time.Duration
		xenstore bool
		o        followOpts
		sel      vmBackup
	)
	cmd := &cobra.Command{
		Use:   "healthcheck BACKUP-ID | --vm VM [--at TIME]",
		Short: "Boot a backup as a throw-away test VM to prove it works",
		Long: `healthcheck asks a running server to prove that BACKUP-ID (as 'xbr backups ls'
prints it, a full backup or a restore point) boots, as Xen Orchestra's health
check does: it is restored on --sr (by uuid or name) of --pool as a test VM
without network interfaces, started, and watched until its guest agent reports
(VM_guest_metrics with PV_drivers_detected) or, with --xenstore, until the
guest's script writes vm-data/xo-backup-health-check = success or failure.
The test VM and its disks are destroyed in every case. --pool may be omitted
when the server has one pool. Instead of BACKUP-ID, --vm names the VM (its
uuid or exact name) and its newest backup is checked, or the one taken at
--at.

With --wait it follows the check and exits 0 when the backup booted, 1 when
the check failed (the reason: timeout, guest-failure, boot-failed or
restore-failed). --json writes newline-delimited JSON instead of text:
{"type":"requested"}, an "event" object per event of the check, and a final
"result" object with the outcome's payload and the exit code.`,
		Args: cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			backupID, err := sel.backupID(cmd.Context(), &cf, args)
			if err != nil {
				return err
			}
			id, err := catalog.ParseID(backupID)
			if err != nil {
				return err
			}
			req.BackupID, req.VMUUID = backupID, id.VM
			req.TimeoutMS = timeout.Milliseconds()
			req.Method = events.HealthMethodGuestMetrics
			if xenstore {
				req.Method = events.HealthMethodXenStore
			}
			return runHealthCheck(cmd, &cf, req, o)
		},
	}
	cf.add(cmd)
	f := cmd.Flags()
	f.StringVar(&req.Pool, "pool", "", "pool the test VM runs on (default: the server's only pool)")
	f.StringVar(&req.SR, "sr", "", "SR of the test VM's disks, by uuid or name (required)")
	f.DurationVar(&timeout, "boot-timeout", config.DefaultHealthTimeout, "how long the guest has to report")
	f.BoolVar(&xenstore, "xenstore", false, "wait for the guest script's verdict in vm-data/xo-backup-health-check")
	f.StringVar(&sel.vm, "vm", "", "check this VM's newest backup (by uuid or exact name) instead of BACKUP-ID")
	f.StringVar(&sel.at, "at", "", "with --vm: the backup taken at this time (YYYYMMDDTHHMMSSZ or RFC 3339)")
	o.add(cmd, "check")
	_ = cmd.MarkFlagRequired("sr")
	return cmd
}

func runHealthCheck(cmd *cobra.Command, cf *clientFlags, req events.HealthCheckRequested, o followOpts) error {
	now := time.Now().UTC()
	req.RequestedBy = requester()
	req.RequestID = events.NewHealthCheckID("healthcheck", "cli", req.BackupID, now.Format(time.RFC3339Nano))
	conn, subjects, err := cf.connect()
	if err != nil {
		return err
	}
	defer conn.Close()
	if req.Pool == "" {
		if req.Pool, err = onlyPool(cmd.Context(), cf, conn, subjects); err != nil {
			return err
		}
	}
	if err := req.Validate(); err != nil {
		return err
	}
	w, err := conn.Watch(cmd.Context(), bus.WatchOptions{StartTime: now.Add(-time.Second), Subjects: []string{
		subjects.For(events.TypeHealthCheckStarted, req.RequestID), subjects.For(events.TypeHealthCheckCompleted, req.RequestID),
		subjects.For(events.TypeHealthCheckFailed, req.RequestID)}})
	if err != nil {
		return err
	}
	defer w.Close()
	msg, err := subjects.Message(events.Meta{ID: events.DeriveID(string(events.TypeHealthCheckRequested), req.RequestID),
		Source: events.Source("cli"), Time: now}, req)
	if err != nil {
		return err
	}
	if _, err := conn.Publish(cmd.Context(), msg.Subject, msg.Event); err != nil {
		return fmt.Errorf("publish the health check request: %w", err)
	}
	v := newView(cmd, o.json)
	v.Object("requested", jsonLine{Event: string(req.EventType()), Time: now, Data: req})
	v.Line("health check %s: %s on pool %s, SR %s requested", req.RequestID, req.BackupID, req.Pool, req.SR)
	if !o.wait {
		v.Close()
		return nil
	}
	v.Waiting(req.RequestID, "waiting for a health check worker")
	return followHealthCheck(cmd.Context(), v, w, req.RequestID)
}

// followHealthCheck shows a check's events until its outcome; a failed
// check is exit code 1.
func followHealthCheck(ctx context.Context, v view, w *bus.Watch, id string) error {
	for {
		r, err := w.Next(ctx)
		if err != nil {
			v.Close()
			return fmt.Errorf("following health check %s: %w", id, err)
		}
		line, done, exit := healthLine(r.Event.Payload)
		if line == "" {
			continue
		}
		v.Done(id)
		o := jsonLine{Event: string(r.Event.Type()), Time: r.Event.Event.Time(), Data: r.Event.Payload}
		if !done {
			v.Object("event", o)
			v.Line("%s", line)
			v.Waiting(id, "test VM booting")
			continue
		}
		v.Close()
		code := exitCodeOf(exit)
		o.ExitCode = &code
		v.Object("result", o)
		v.Line("%s", line)
		return exit
	}
}

// healthLine is the text of a check's event, whether it is the outcome,
// and the outcome's exit error.
func healthLine(pl events.Payload) (line string, done bool, exit error) {
	switch p := pl.(type) {
	case events.HealthCheckStarted:
		return fmt.Sprintf("started: test VM %s booting", p.TestVMUUID), false, nil
	case events.HealthCheckCompleted:
		return fmt.Sprintf("completed: the backup boots (%s reported in %s)", p.Method, millis(p.BootMS)), true, nil
	case events.HealthCheckFailed:
		return fmt.Sprintf("FAILED (%s): %s", p.Reason, p.Error), true, &ExitError{Code: exitRunFailed}
	}
	return "", false, nil
}
