package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
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
		wait      bool
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
name) and --at pick a VM's backup instead of BACKUP-ID. A remote, backup, pool
or SR that does not exist fails at once; a VM name another VM of the pool has
becomes "<name> (2)", with a warning.

With --wait it follows the restore (a progress bar on a terminal, plain lines
otherwise) and exits 0 when the VM is restored, 1 when the restore failed.

A restore point of an incremental repository (<remote>:xbr-repo/<vm-uuid>/<timestamp>)
restores the same way. With --disk-image DIR, its disks are instead written
here, without a server or a pool, as raw image files
DIR/<vm-uuid>-<timestamp>-<disk>.raw, read from the remote of --config with its
encryption_key_file; every chunk and each disk's SHA-256 are verified, and an
existing file is never overwritten.`,
		Args: cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := sel.check(args, diskImage != ""); err != nil {
				return err
			}
			if sel.vm != "" {
				return runRestore(cmd, &cf, p, &sel, wait)
			}
			p.BackupID = args[0]
			if diskImage != "" {
				return restoreDiskImages(cmd, file, p.BackupID, diskImage)
			}
			return runRestore(cmd, &cf, p, nil, wait)
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
	f.BoolVar(&wait, "wait", false, "follow the restore until it ends")
	f.StringVar(&diskImage, "disk-image", "", "write the restore point's disks as raw images into this folder, locally")
	f.StringVar(&file, "config", defaultConfigFile(), "configuration file with the remotes, for --disk-image (env XBR_CONFIG)")
	return cmd
}

// runRestore requests the restore of p, or of the backup sel picks when
// sel is not nil.
func runRestore(cmd *cobra.Command, cf *clientFlags, p restoreclient.Params, sel *vmBackup, wait bool) error {
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
	fmt.Fprintf(cmd.OutOrStdout(), "restore %s: %s to pool %s requested\n", req.RequestID, req.BackupID, req.Pool)
	if !wait {
		return nil
	}
	return followRestore(cmd, conn, subjects, req.RequestID)
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

func followRestore(cmd *cobra.Command, conn *bus.Conn, s events.Subjects, id string) error {
	pr := &restorePrinter{w: cmd.OutOrStdout(), bar: isTerminal(cmd.OutOrStdout())}
	final, err := restoreclient.Follow(cmd.Context(), conn, s, events.StreamNames{}, id, pr.update)
	if err != nil {
		return err
	}
	if final.State == restoreclient.StateFailed {
		return &ExitError{Code: exitRunFailed}
	}
	return nil
}

// restorePrinter shows a restore's statuses: a \r-redrawn bar on a terminal,
// one line per change otherwise.
type restorePrinter struct {
	w     io.Writer
	bar   bool
	last  restoreclient.State
	drawn bool
}

func (p *restorePrinter) update(s restoreclient.Status) {
	if s.State == restoreclient.StateRunning && s.Bytes > 0 {
		p.progress(s)
	} else if s.State != p.last {
		p.endBar()
		fmt.Fprintln(p.w, describeRestore(s))
	}
	p.last = s.State
}

func (p *restorePrinter) progress(s restoreclient.Status) {
	line := fmt.Sprintf("%s of %s  %s/s  ETA %s", config.ByteSize(s.Bytes).Human(), config.ByteSize(s.TotalBytes).Human(),
		config.ByteSize(s.BytesPerSecond).Human(), time.Duration(s.ETASeconds)*time.Second)
	if !p.bar {
		fmt.Fprintf(p.w, "progress: %.0f%% %s\n", s.Percent, line)
		return
	}
	const width = 30
	n := int(s.Percent * width / 100)
	fmt.Fprintf(p.w, "\r[%s%s] %3.0f%% %s   ", strings.Repeat("#", n), strings.Repeat(".", width-n), s.Percent, line)
	p.drawn = true
}

func (p *restorePrinter) endBar() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
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
