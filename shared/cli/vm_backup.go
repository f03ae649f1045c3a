package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/catalog"
	"xbr/shared/fn"
	"xbr/shared/restoreclient"
	"xbr/shared/vmname"
)

// vmBackup is a backup chosen by its VM instead of its id: --vm (a uuid or
// an exact name) and --at ("" or latest: the newest).
type vmBackup struct {
	vm, at string
	when   time.Time // at, parsed
}

// check reads the selection of a command that takes BACKUP-ID or --vm;
// a usage error is exit code 2. idOnly: an option that needs BACKUP-ID is
// set.
func (v *vmBackup) check(args []string, idOnly bool) error {
	switch {
	case idOnly && v.vm != "":
		return &ExitError{Code: 2, Err: errors.New("--disk-image takes BACKUP-ID, not --vm")}
	case len(args) == 1 && v.vm != "":
		return &ExitError{Code: 2, Err: errors.New("give BACKUP-ID or --vm, not both")}
	case len(args) == 0 && v.vm == "":
		return &ExitError{Code: 2, Err: errors.New("give BACKUP-ID, or --vm with the VM's uuid or name")}
	case v.at != "" && v.vm == "":
		return &ExitError{Code: 2, Err: errors.New("--at: only with --vm")}
	case v.vm == "":
		return nil
	}
	if err := vmname.Check(v.vm); err != nil {
		return &ExitError{Code: 2, Err: fmt.Errorf("--%w", err)}
	}
	if v.at == "" {
		v.at = restoreclient.LatestBackup
	}
	t, err := restoreclient.ParseBackupTime(v.at)
	if err != nil {
		return &ExitError{Code: 2, Err: fmt.Errorf("--at %q: %w", v.at, err)}
	}
	v.when = t
	return nil
}

// pick asks the server for the VM's backups (it resolves a name with
// vmname.Resolve: a name several VMs share is refused) and picks the
// newest or the one taken at --at. The newest is not picked when the
// listing has problems (restoreclient.Pick).
func (v *vmBackup) pick(ctx context.Context, cf *clientFlags, conn *bus.Conn, s events.Subjects) (catalog.Backup, error) {
	ctx, cancel := cf.requestCtx(ctx)
	defer cancel()
	l, err := fn.Ask(ctx, conn.NATS(), s, restoreclient.QueryBackups, restoreclient.Query{VM: v.vm})
	if err != nil {
		return catalog.Backup{}, err
	}
	b, err := restoreclient.Pick(l, v.vm, v.when)
	return b, v.explain(err)
}

// explain adds to Pick's refusal to name the newest backup how to choose
// one on the command line.
func (v *vmBackup) explain(err error) error {
	var inc *restoreclient.IncompleteError
	if !errors.As(err, &inc) {
		return err
	}
	return fmt.Errorf("%w\n'xbr backups ls --vm %q' lists its backups: give one's BACKUP-ID, or --at with its time", err, v.vm)
}

// resolve is pick on a connection of its own, for commands that connect
// later.
func (v *vmBackup) resolve(ctx context.Context, cf *clientFlags) (catalog.Backup, error) {
	conn, subjects, err := cf.connect()
	if err != nil {
		return catalog.Backup{}, err
	}
	defer conn.Close()
	return v.pick(ctx, cf, conn, subjects)
}

// backupID is args[0], or the id of the backup --vm and --at select.
func (v *vmBackup) backupID(ctx context.Context, cf *clientFlags, args []string) (string, error) {
	if err := v.check(args, false); err != nil || v.vm == "" {
		return strings.Join(args, ""), err
	}
	b, err := v.resolve(ctx, cf)
	return b.ID.String(), err
}
