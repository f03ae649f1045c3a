package cli

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/restoreclient"
)

func newRestoreCmd() *cobra.Command {
	var (
		cf        clientFlags
		p         restoreclient.Params
		o         followOpts
		diskImage string
		file      string
		sel       vmBackup
	)
	cmd := &cobra.Command{
		Use:   "restore BACKUP-ID | --vm VM [--at TIME]",
		Short: "Restore a backup as a new VM",
		Long: `restore asks a running server to restore BACKUP-ID (as 'xbr backups ls' prints
it: <remote>:<vm-uuid>/<timestamp>) to a pool, as a new VM named
"<name> (<backup time>)" unless --name says otherwise, tagged "restored from
backup". --sr picks the SR by uuid or name (default: the pool's default SR).
--pool may be omitted when the server has one pool. --vm (a uuid or exact
name) and --at pick a VM's backup instead of BACKUP-ID; when not every backup
could be listed (a remote, a backup or a repository could not be read), --vm
without --at refuses, naming what could not be read, rather than pick a backup
that may not be the newest. A remote, backup, pool or SR that does not exist
fails at once; a VM name another VM of the pool has becomes "<name> (2)", with
a warning.

With --wait it follows the restore (a live progress line on a terminal, plain
lines otherwise) and exits 0 when the VM is restored, 1 when the restore
failed. --json writes newline-delimited JSON instead: {"type":"requested"},
"status" objects on each change of state, "progress" objects while it runs,
and a final "result" object with the status and the exit code.

A restore point of an incremental repository (<remote>:xbr-repo/<vm-uuid>/<timestamp>)
restores the same way. With --disk-image DIR, its disks are instead written
here, without a server or a pool, as raw image files
DIR/<vm-uuid>-<timestamp>-<disk>.raw (<disk>: the disk's index, then its VDI's
name when it has one, as in 0-system), read from the remote of --config with its
encryption_key_file (DIR is made, mode 0700, when only it is missing); every
chunk and each disk's SHA-256 are verified, and an existing file is never
overwritten.`,
		Args: cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := sel.check(args, diskImage != ""); err != nil {
				return err
			}
			if sel.vm != "" {
				return runRestore(cmd, &cf, p, &sel, o)
			}
			p.BackupID = args[0]
			if diskImage != "" {
				return restoreDiskImages(cmd, file, p.BackupID, diskImage)
			}
			return runRestore(cmd, &cf, p, nil, o)
		},
	}
	cf.add(cmd)
	f := cmd.Flags()
	f.StringVar(&p.Pool, "pool", "", "target pool (default: the server's only pool)")
	f.StringVar(&p.SR, "sr", "", "target SR, by uuid or name (default: the pool's default SR)")
	f.StringVar(&p.Name, "name", "", `name of the new VM (default "<name> (<backup time>)")`)
	f.BoolVar(&p.Start, "start", false, "start the VM after the restore")
	f.StringVar(&sel.vm, "vm", "", "restore this VM's newest backup (by uuid or exact name) instead of BACKUP-ID")
	f.StringVar(&sel.at, "at", "", "with --vm: the backup taken at this time (YYYYMMDDTHHMMSSZ or RFC 3339)")
	f.StringVar(&diskImage, "disk-image", "", "write the restore point's disks as raw images into this folder, locally")
	f.StringVar(&file, "config", defaultConfigFile(), "configuration file with the remotes, for --disk-image (env XBR_CONFIG)")
	o.add(cmd, "restore")
	return cmd
}

// runRestore requests the restore of p, or of the backup sel picks when
// sel is not nil.
func runRestore(cmd *cobra.Command, cf *clientFlags, p restoreclient.Params, sel *vmBackup, o followOpts) error {
	now := time.Now().UTC()
	if _, err := restoreclient.NewRequest(withPool(p, sel), now); err != nil { // fail fast, before connecting
		return err
	}
	conn, subjects, err := cf.connect()
	if err != nil {
		return err
	}
	defer conn.Close()
	if sel != nil {
		b, err := sel.pick(cmd.Context(), cf, conn, subjects)
		if err != nil {
			return err
		}
		p.BackupID = b.ID.String()
	}
	if p.Pool == "" {
		if p.Pool, err = onlyPool(cmd.Context(), cf, conn, subjects); err != nil {
			return err
		}
	}
	p.RequestedBy = requester()
	req, err := acceptRestore(cmd, cf, conn, subjects, p, now)
	if err != nil {
		return err
	}
	v := newView(cmd, o.json)
	v.Object("requested", jsonLine{Event: string(req.EventType()), Time: now, Data: req})
	v.Line("restore %s: %s to pool %s requested", req.RequestID, req.BackupID, req.Pool)
	if !o.wait {
		v.Close()
		return nil
	}
	return followRestore(cmd.Context(), v, conn, subjects, req.RequestID)
}

// acceptRestore has the server check p (restoreclient.QueryAccept: the
// backup, pool and SR exist, the VM name is free) and publishes the request
// it accepted; its warnings go to stderr.
func acceptRestore(cmd *cobra.Command, cf *clientFlags, conn *bus.Conn, s events.Subjects, p restoreclient.Params,
	now time.Time) (events.RestoreRequested, error) {
	p.Key = cmp.Or(p.Key, now.Format(time.RFC3339Nano)) // the id the request would have had without a key
	ctx, cancel := cf.requestCtx(cmd.Context())
	defer cancel()
	a, err := fn.Ask(ctx, conn.NATS(), s, restoreclient.QueryAccept, p)
	if err != nil {
		return events.RestoreRequested{}, err
	}
	for _, w := range a.Warnings {
		fmt.Fprintln(cmd.ErrOrStderr(), "xbr: warning:", w)
	}
	if err := restoreclient.PublishAccepted(cmd.Context(), conn, s, events.Source("cli"), a, now); err != nil {
		return events.RestoreRequested{}, err
	}
	return a.Request, nil
}

// withPool fills a placeholder pool (and backup id, when sel picks the
// backup) so the rest of the request can be checked before the server
// names them.
func withPool(p restoreclient.Params, sel *vmBackup) restoreclient.Params {
	if p.Pool == "" {
		p.Pool = "default"
	}
	if sel != nil {
		p.BackupID = "placeholder:00000000-0000-4000-8000-000000000000/20000101T000000Z"
	}
	return p
}

func onlyPool(ctx context.Context, cf *clientFlags, conn *bus.Conn, s events.Subjects) (string, error) {
	ctx, cancel := cf.requestCtx(ctx)
	defer cancel()
	pools, err := fn.Ask(ctx, conn.NATS(), s, events.QueryPools, events.NoRequest{})
	if err != nil {
		return "", err
	}
	if len(pools) != 1 {
		return "", fmt.Errorf("--pool is required: the server has %d pools (%s)", len(pools), strings.Join(pools, ", "))
	}
	return pools[0], nil
}

func followRestore(ctx context.Context, v view, conn *bus.Conn, s events.Subjects, id string) error {
	pr := &restorePrinter{v: v}
	final, err := restoreclient.Follow(ctx, conn, s, events.StreamNames{}, id, pr.update)
	v.Close()
	if err != nil {
		return err
	}
	var exit error
	if final.State == restoreclient.StateFailed {
		exit = &ExitError{Code: exitRunFailed}
	}
	code := exitCodeOf(exit)
	v.Object("result", jsonLine{Time: final.UpdatedAt, Data: final, ExitCode: &code})
	v.Line("%s", describeRestore(final))
	return exit
}

// restorePrinter shows a restore's statuses on a view: a live line while
// it runs, a line per change of state.
type restorePrinter struct {
	v    view
	last restoreclient.State
}

func (p *restorePrinter) update(s restoreclient.Status) {
	switch {
	case s.Done():
		p.v.Done(s.RequestID) // the final line follows the view's close
	case s.State == restoreclient.StateRunning && s.Bytes > 0:
		p.v.Object("progress", jsonLine{Event: string(events.TypeRestoreProgress), Time: s.UpdatedAt, Data: s})
		p.v.Progress(s.RequestID, "restore", events.Transfer{Bytes: s.Bytes, TotalBytes: s.TotalBytes,
			BytesPerSecond: s.BytesPerSecond, ETASeconds: s.ETASeconds})
	case s.State != p.last:
		p.v.Object("status", jsonLine{Time: s.UpdatedAt, Data: s})
		p.v.Line("%s", describeRestore(s))
	}
	p.last = s.State
}

func describeRestore(s restoreclient.Status) string {
	switch s.State {
	case restoreclient.StatePending:
		return "pending: waiting for a restore worker"
	case restoreclient.StateRunning:
		return fmt.Sprintf("running: importing %s into pool %s", config.ByteSize(s.TotalBytes).Human(), s.Pool)
	case restoreclient.StateCompleted:
		started := ""
		if s.VMStarted {
			started = ", started"
		}
		return fmt.Sprintf("completed: VM %q (%s)%s, %s in %s (%s/s)", s.NewVMName, s.NewVMUUID, started,
			config.ByteSize(s.Bytes).Human(), time.Duration(s.DurationMS)*time.Millisecond, config.ByteSize(s.BytesPerSecond).Human())
	case restoreclient.StateFailed:
		return "FAILED: " + s.Error
	}
	return string(s.State)
}
