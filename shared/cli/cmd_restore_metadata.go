package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"xbr/shared/catalog"
	"xbr/shared/cli/serve"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/remote"
	"xbr/shared/xapi"
)

// confirmFlag is the flag that replaces the typed confirmation.
const confirmFlag = "yes-replace-the-pool-database"

// otherPoolFlag lets the backup of one pool go into another.
const otherPoolFlag = "into-another-pool"

type restoreMetaOpts struct {
	file, pool             string
	dryRun, yes, otherPool bool
}

func newRestoreMetadataCmd() *cobra.Command {
	var o restoreMetaOpts
	cmd := &cobra.Command{
		Use:   "restore-metadata BACKUP-ID --pool P",
		Short: "Put a pool's database back from a pool metadata backup (replaces the whole pool database)",
		Long: `restore-metadata uploads the database dump of a pool metadata backup
(BACKUP-ID as 'xbr backups ls' shows it, e.g.
nfs:xo-pool-metadata-backups/<schedule id>/<pool uuid>/20260501T020000Z) to the
master of pool P, as 'xe pool-restore-database' and Xen Orchestra's metadata
restore do (PUT /pool/xmldbdump). It is how a lost or broken pool database is
put back.

THIS REPLACES THE WHOLE POOL DATABASE: the master restarts on the uploaded
database, and every VM, disk, network or setting created or changed since the
backup is forgotten by the pool (their data on the SRs is not deleted, but the
pool no longer knows it). Use it on a freshly installed master, or when the
database is lost.

The dump is read and checked first (its size and SHA-256 against its
metadata.json). The backup of another pool than P is refused unless
--` + otherPoolFlag + ` is given (a freshly installed master has a pool uuid
of its own).
--dry-run asks the pool to check the dump without replacing anything.
Otherwise it asks you to type the pool's name; without a terminal (scripts, CI)
it refuses unless --` + confirmFlag + ` is given.
It reads the remotes and pools of the configuration file.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRestoreMetadata(cmd, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.file, "config", defaultConfigFile(), "configuration file with the remotes and pools (env XBR_CONFIG)")
	f.StringVar(&o.pool, "pool", "", "the configured pool whose database is replaced (required)")
	f.BoolVar(&o.dryRun, "dry-run", false, "only have the pool check the dump; replace nothing")
	f.BoolVar(&o.yes, confirmFlag, false, "replace the pool database without asking (for scripts)")
	f.BoolVar(&o.otherPool, otherPoolFlag, false, "accept the backup of another pool (a freshly installed master has a pool of its own)")
	return cmd
}

func runRestoreMetadata(cmd *cobra.Command, backupID string, o restoreMetaOpts) error {
	ctx := cmd.Context()
	id, err := catalog.ParsePoolMetaID(backupID)
	if err != nil {
		return &ExitError{Code: 2, Err: err}
	}
	if o.pool == "" {
		return &ExitError{Code: 2, Err: errors.New("--pool: missing (the pool whose database is replaced)")}
	}
	cfg, err := config.Load(o.file)
	if err != nil {
		return err
	}
	if _, ok := cfg.Pool(o.pool); !ok {
		return &ExitError{Code: 2, Err: fmt.Errorf("--pool %q: no pool of %s has this name", o.pool, o.file)}
	}
	rm, err := fn.NewRemotes(cfg.Remotes, serve.OpenRemote).Get(ctx, id.Remote)
	if err != nil {
		return err
	}
	size, err := catalog.CheckPoolMeta(ctx, rm, id) // a damaged dump never reaches the pool
	if err != nil {
		return err
	}
	pools := fn.NewPools(cfg.Pools, slog.New(slog.DiscardHandler))
	defer pools.Close(context.WithoutCancel(ctx))
	c, err := pools.Client(ctx, o.pool)
	if err != nil {
		return err
	}
	_, target, err := c.Pool(ctx)
	if err != nil {
		return fmt.Errorf("pool %s: %w", o.pool, err)
	}
	if target.UUID != id.PoolUUID && !o.otherPool {
		return &ExitError{Code: 2, Err: fmt.Errorf("backup %s is of pool %s, not of pool %s (%s): refusing; "+
			"add --%s to put it into this pool (a freshly installed master)", id, id.PoolUUID, o.pool, target.UUID, otherPoolFlag)}
	}
	if !o.dryRun && !o.yes {
		if err := confirmRestoreMeta(cmd.InOrStdin(), cmd.ErrOrStderr(), id, o.pool, target.UUID); err != nil {
			return &ExitError{Code: 2, Err: err}
		}
	}
	return uploadPoolMeta(ctx, cmd.OutOrStdout(), rm, c, o, id, size)
}

// confirmRestoreMeta says loudly what is about to happen and wants the
// pool's name typed back; without a terminal it refuses.
func confirmRestoreMeta(in io.Reader, out io.Writer, id catalog.PoolMetaID, pool, poolUUID string) error {
	if !isTerminalIn(in) {
		return fmt.Errorf("refusing to replace the database of pool %s without a terminal to confirm: add --%s", pool, confirmFlag)
	}
	fmt.Fprintf(out, "WARNING: this REPLACES THE WHOLE DATABASE of pool %s (%s) with the backup of pool %s of %s\n",
		pool, poolUUID, id.PoolUUID, id.Time.Format("2006-01-02 15:04:05 UTC"))
	fmt.Fprintln(out, "  The master restarts on it; everything created or changed in the pool since then is forgotten.")
	fmt.Fprintf(out, "Type the pool name (%s) to go ahead: ", pool)
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("not confirmed: %w", err)
	}
	if strings.TrimSpace(line) != pool {
		return errors.New("not confirmed: the pool database was left alone")
	}
	return nil
}

// uploadPoolMeta streams the backup's data to the pool's master.
func uploadPoolMeta(ctx context.Context, out io.Writer, rm remote.Remote, c *xapi.Client, o restoreMetaOpts, id catalog.PoolMetaID, size int64) error {
	rc, err := rm.Open(ctx, id.Key(catalog.PoolMetaData))
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := c.RestorePoolDatabase(ctx, rc, size, o.dryRun); err != nil {
		return err
	}
	if o.dryRun {
		_, err = fmt.Fprintf(out, "dry run: pool %s accepted the database of %s (%d bytes); nothing was replaced\n", o.pool, id, size)
		return err
	}
	_, err = fmt.Fprintf(out, "pool %s: database replaced from %s (%d bytes); the master restarts on it\n", o.pool, id, size)
	return err
}
