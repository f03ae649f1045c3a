package cli

import (
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
	)
	cmd := &cobra.Command{
		Use:   "restore BACKUP-ID",
		Short: "Restore a backup as a new VM",
		Long: `restore asks a running server to restore BACKUP-ID (as 'xbr backups ls' prints
it: <remote>:<vm-uuid>/<timestamp>) to a pool, as a new VM named
"<name> (<backup time>)" unless --name says otherwise, tagged "restored from
backup". --sr picks the SR by uuid or name (default: the pool's default SR).
--pool may be omitted when the server has one pool.

With --wait it follows the restore (a live progress line on a terminal, plain
lines otherwise) and exits 0 when the VM is restored, 1 when the restore
failed. --json writes newline-delimited JSON instead: {"type":"requested"},
"status" objects on each change of state, "progress" objects while it runs,
and a final "result" object with the status and the exit code.

A restore point of an incremental repository (<remote>:xbr-repo/<vm-uuid>/<timestamp>)
restores the same way. With --disk-image DIR, its disks are instead written
here, without a server or a pool, as raw image files
DIR/<vm-uuid>-<timestamp>-<disk>.raw, read from the remote of --config with its
encryption_key_file; every chunk and each disk's SHA-256 are verified, and an
existing file is never overwritten.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p.BackupID = args[0]
			if diskImage != "" {
				return restoreDiskImages(cmd, file, p.BackupID, diskImage)
			}
			return runRestore(cmd, &cf, p, o)
		},
	}
	cf.add(cmd)
	f := cmd.Flags()
	f.StringVar(&p.Pool, "pool", "", "target pool (default: the server's only pool)")
	f.StringVar(&p.SR, "sr", "", "target SR, by uuid or name (default: the pool's default SR)")
	f.StringVar(&p.Name, "name", "", `name of the new VM (default "<name> (<backup time>)")`)
	f.BoolVar(&p.Start, "start", false, "start the VM after the restore")
	f.StringVar(&diskImage, "disk-image", "", "write the restore point's disks as raw images into this folder, locally")
	f.StringVar(&file, "config", defaultConfigFile(), "configuration file with the remotes, for --disk-image (env XBR_CONFIG)")
	o.add(cmd, "restore")
	return cmd
}

func runRestore(cmd *cobra.Command, cf *clientFlags, p restoreclient.Params, o followOpts) error {
	now := time.Now().UTC()
	if _, err := restoreclient.NewRequest(withPool(p), now); err != nil { // fail fast, before connecting
		return err
	}
	conn, subjects, err := cf.connect()
	if err != nil {
		return err
	}
	defer conn.Close()
	if p.Pool == "" {
		if p.Pool, err = onlyPool(cmd.Context(), cf, conn, subjects); err != nil {
			return err
		}
	}
	p.RequestedBy = requester()
	req, err := restoreclient.Publish(cmd.Context(), conn, subjects, events.Source("cli"), p, now)
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

// withPool fills a placeholder pool so the rest of the request can be
// checked before the server names the pool.
func withPool(p restoreclient.Params) restoreclient.Params {
	if p.Pool == "" {
		p.Pool = "default"
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
