package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/catalog"
)

// defaultHealthTimeout is Xen Orchestra's healthCheckTimeout default.
const defaultHealthTimeout = 10 * time.Minute

func newHealthCheckCmd() *cobra.Command {
	var (
		cf       clientFlags
		req      events.HealthCheckRequested
		timeout  time.Duration
		xenstore bool
		wait     bool
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
restore-failed).`,
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
			return runHealthCheck(cmd, &cf, req, wait)
		},
	}
	cf.add(cmd)
	f := cmd.Flags()
	f.StringVar(&req.Pool, "pool", "", "pool the test VM runs on (default: the server's only pool)")
	f.StringVar(&req.SR, "sr", "", "SR of the test VM's disks, by uuid or name (required)")
	f.DurationVar(&timeout, "boot-timeout", defaultHealthTimeout, "how long the guest has to report")
	f.BoolVar(&xenstore, "xenstore", false, "wait for the guest script's verdict in vm-data/xo-backup-health-check")
	f.BoolVar(&wait, "wait", false, "follow the check until it ends")
	f.StringVar(&sel.vm, "vm", "", "check this VM's newest backup (by uuid or exact name) instead of BACKUP-ID")
	f.StringVar(&sel.at, "at", "", "with --vm: the backup taken at this time (YYYYMMDDTHHMMSSZ or RFC 3339)")
	_ = cmd.MarkFlagRequired("sr")
	return cmd
}

func runHealthCheck(cmd *cobra.Command, cf *clientFlags, req events.HealthCheckRequested, wait bool) error {
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
	fmt.Fprintf(cmd.OutOrStdout(), "health check %s: %s on pool %s, SR %s requested\n", req.RequestID, req.BackupID, req.Pool, req.SR)
	if !wait {
		return nil
	}
	return followHealthCheck(cmd.Context(), cmd.OutOrStdout(), w, req.RequestID)
}

// followHealthCheck prints a check's events until its outcome; a failed
// check is exit code 1.
func followHealthCheck(ctx context.Context, out io.Writer, w *bus.Watch, id string) error {
	for {
		r, err := w.Next(ctx)
		if err != nil {
			return fmt.Errorf("following health check %s: %w", id, err)
		}
		switch p := r.Event.Payload.(type) {
		case events.HealthCheckStarted:
			fmt.Fprintf(out, "started: test VM %s booting\n", p.TestVMUUID)
		case events.HealthCheckCompleted:
			fmt.Fprintf(out, "completed: the backup boots (%s reported in %s)\n", p.Method, time.Duration(p.BootMS)*time.Millisecond)
			return nil
		case events.HealthCheckFailed:
			fmt.Fprintf(out, "FAILED (%s): %s\n", p.Reason, p.Error)
			return &ExitError{Code: exitRunFailed}
		}
	}
}
