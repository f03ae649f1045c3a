package prune

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/catalog"
	"xbr/shared/remote"
	"xbr/shared/xotag"
)

// SweepJob is the job and schedule name of sweep events: it starts with '_',
// which no configured job or schedule name can.
const SweepJob = "_sweep"

// noVM stands for the VM of a swept file that lies outside a VM folder.
const noVM = "00000000-0000-0000-0000-000000000000"

// Publisher publishes an event right away (*bus.Conn).
type Publisher interface {
	Publish(ctx context.Context, subject string, ev event.Event) (*jetstream.PubAck, error)
}

// SweepEvery sweeps every configured remote and pool now and then every
// Options.SweepEvery until ctx is cancelled, publishing an event per removal.
func (p *Pruner) SweepEvery(ctx context.Context, pub Publisher) {
	if p.o.SweepEvery < 0 {
		return
	}
	tick := time.NewTicker(p.o.SweepEvery)
	defer tick.Stop()
	for {
		trigger := "sweep-" + catalog.FormatTimestamp(p.o.Now())
		outs, err := p.Sweep(ctx, trigger, p.remotes.Names(), p.pools.Names())
		for _, o := range outs {
			if _, perr := pub.Publish(ctx, o.Subject, o.Event); perr != nil {
				err = errors.Join(err, perr)
			}
		}
		if err != nil && ctx.Err() == nil {
			p.o.Log.Warn("sweep incomplete; the next sweep goes on", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Sweep removes from the named remotes the temp files, the data files
// without a .json and the claims of backup times older than
// Options.SweepAfter, and from the named pools
// the snapshots still named xo-backup-temp-snapshot-name older than
// Options.TempSnapshotAfter. It returns one prune.completed per removal
// (run id trigger), and the errors it met; it goes on after an error.
func (p *Pruner) Sweep(ctx context.Context, trigger string, remotes, pools []string) ([]bus.Out, error) {
	var outs []bus.Out
	var errs []error
	for _, name := range remotes {
		o, err := p.sweepRemote(ctx, trigger, name)
		outs = append(outs, o...)
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep remote %s: %w", name, err))
		}
	}
	for _, name := range pools {
		o, err := p.sweepPool(ctx, trigger, name)
		outs = append(outs, o...)
		if err != nil {
			errs = append(errs, fmt.Errorf("sweep pool %s: %w", name, err))
		}
	}
	return outs, errors.Join(errs...)
}

func (p *Pruner) sweepRemote(ctx context.Context, trigger, name string) ([]bus.Out, error) {
	r, err := p.remotes.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	before := p.o.Now().Add(-p.o.SweepAfter)
	var outs []bus.Out
	var errs []error
	if s, ok := r.(remote.Sweeper); ok {
		removed, err := remote.Sweep(ctx, s, catalog.Root, before)
		errs = append(errs, err)
		why := "sweep: unfinished upload older than " + p.o.SweepAfter.String()
		for _, t := range removed {
			o, err := p.sweptFile(trigger, name, t.Key, t.Time, why)
			errs = append(errs, err)
			outs = append(outs, o...)
		}
	}
	o, err := p.sweepOrphans(ctx, trigger, r, before)
	outs, errs = append(outs, o...), append(errs, err)
	o, err = p.sweepClaims(ctx, trigger, r, before)
	return append(outs, o...), errors.Join(append(errs, err)...)
}

// sweepClaims deletes the claims of backup times (catalog.Claim) older than
// before, by the time the remote gives them: an export that crashed before
// releasing its claim, and whose run was not retried. A claim never blocks
// a writer (the next one takes the next second); this only tidies.
func (p *Pruner) sweepClaims(ctx context.Context, trigger string, r remote.Remote, before time.Time) ([]bus.Out, error) {
	infos, err := r.List(ctx, catalog.ClaimsFolder)
	if err != nil {
		return nil, err
	}
	why := "sweep: backup time claim older than " + p.o.SweepAfter.String()
	var outs []bus.Out
	var errs []error
	for _, in := range infos {
		if _, ok := catalog.ParseClaimKey(r.Name(), in.Key); !ok || !in.ModTime.Before(before) {
			continue
		}
		if err := r.Delete(ctx, in.Key); err != nil {
			errs = append(errs, err)
			continue
		}
		o, err := p.sweptFile(trigger, r.Name(), in.Key, in.ModTime, why)
		errs = append(errs, err)
		outs = append(outs, o...)
	}
	return outs, errors.Join(errs...)
}

// sweepOrphans deletes the .xva and .xva.checksum files that have no .json
// (an export that crashed between its data and its metadata, or a delete
// that stopped after the .json) once they are older than before. It lists
// one VM folder at a time, and only its top: XO's delta backups keep a file
// per disk block below, which the sweep has no business holding.
func (p *Pruner) sweepOrphans(ctx context.Context, trigger string, r remote.Remote, before time.Time) ([]bus.Out, error) {
	vms, err := catalog.VMFolders(ctx, r)
	if err != nil {
		return nil, err
	}
	var outs []bus.Out
	var errs []error
	for _, vm := range vms {
		o, err := p.sweepFolder(ctx, trigger, r, vm, before)
		outs = append(outs, o...)
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return outs, errors.Join(errs...)
}

// sweepFolder is sweepOrphans in vm's folder.
func (p *Pruner) sweepFolder(ctx context.Context, trigger string, r remote.Remote, vm string, before time.Time) ([]bus.Out, error) {
	infos, err := catalog.FolderFiles(ctx, r, vm)
	if err != nil {
		return nil, err
	}
	keys := make(map[string]bool, len(infos))
	for _, in := range infos {
		keys[in.Key] = true
	}
	why := "sweep: data file without its .json older than " + p.o.SweepAfter.String()
	var outs []bus.Out
	var errs []error
	for _, in := range infos {
		id, ok := dataFileID(r.Name(), in.Key)
		if !ok || keys[id.MetaKey()] || !in.ModTime.Before(before) {
			continue
		}
		if err := p.deleteLocked(ctx, r, id.VM, in.Key); err != nil {
			errs = append(errs, err)
			if errors.Is(err, remote.ErrLockLost) {
				break // XO holds the folder: the next file's lock would wait for XO's backup
			}
			continue
		}
		o, err := p.sweptFile(trigger, r.Name(), in.Key, in.ModTime, why)
		errs = append(errs, err)
		outs = append(outs, o...)
	}
	return outs, errors.Join(errs...)
}

// deleteLocked deletes key in vm's folder under the folder's lock (XO's), and
// leaves XO's cache.json.gz telling the truth; both come right after a check
// of the lock, and a lock lost meanwhile (an error wrapping
// remote.ErrLockLost) leaves the folder alone.
func (p *Pruner) deleteLocked(ctx context.Context, r remote.Remote, vm, key string) error {
	f, err := lockFolder(ctx, r, vm)
	if err != nil {
		return err
	}
	err = f.check(ctx)
	if err == nil {
		err = errors.Join(r.Delete(ctx, key), p.refreshCache(ctx, f))
	}
	return errors.Join(err, f.unlock())
}

// dataFileID recognises xo-vm-backups/<uuid>/<ts>.xva and .xva.checksum.
func dataFileID(remoteName, key string) (catalog.ID, bool) {
	rest, ok := strings.CutPrefix(key, catalog.Root)
	if !ok {
		return catalog.ID{}, false
	}
	base, ok := strings.CutSuffix(rest, catalog.ChecksumSuffix)
	if !ok {
		if base, ok = strings.CutSuffix(rest, catalog.DataSuffix); !ok {
			return catalog.ID{}, false
		}
	}
	vm, ts, ok := strings.Cut(base, "/")
	if !ok || catalog.ValidateVMUUID(vm) != nil {
		return catalog.ID{}, false
	}
	t, err := catalog.ParseTimestamp(ts)
	if err != nil {
		return catalog.ID{}, false
	}
	return catalog.ID{Remote: remoteName, VM: vm, Time: t}, true
}

// sweptFile is the event of one removed file.
func (p *Pruner) sweptFile(trigger, rem, key string, at time.Time, why string) ([]bus.Out, error) {
	vm := noVM
	if id, ok := catalog.ParseClaimKey(rem, key); ok {
		vm = id.VM
	} else if rest, ok := strings.CutPrefix(key, catalog.Root); ok {
		if u, _, ok := strings.Cut(rest, "/"); ok && catalog.ValidateVMUUID(u) == nil {
			vm = u
		}
	}
	o, err := p.message(events.DeriveID("prune.sweep", rem, key, at.UTC().Format(time.RFC3339Nano)), events.PruneCompleted{
		RunID: trigger, Job: SweepJob, Schedule: SweepJob, VMUUID: vm, Kind: events.PruneBackups, Remote: rem,
		Deleted: []events.PrunedItem{{ID: key, Timestamp: catalog.FormatTimestamp(at), Reason: why}}})
	if err != nil {
		return nil, err
	}
	return []bus.Out{o}, nil
}

// sweepPool destroys the snapshots (with their disks) still carrying the
// temporary name once older than Options.TempSnapshotAfter: a crash between
// VM.snapshot and the stamping left them without keys.
func (p *Pruner) sweepPool(ctx context.Context, trigger, pool string) ([]bus.Out, error) {
	c, err := p.pools.Client(ctx, pool)
	if err != nil {
		return nil, err
	}
	vms, err := c.CachedVMs(ctx)
	if err != nil {
		return nil, err
	}
	before := p.o.Now().Add(-p.o.TempSnapshotAfter)
	why := "sweep: snapshot still named " + xotag.TempSnapshotName + " older than " + p.o.TempSnapshotAfter.String()
	var outs []bus.Out
	var errs []error
	for ref, vm := range vms {
		if !vm.IsASnapshot || vm.NameLabel != xotag.TempSnapshotName || !vm.SnapshotTime.Before(before) {
			continue
		}
		if err := c.DestroyVM(ctx, ref); err != nil {
			errs = append(errs, err)
			continue
		}
		source := noVM
		if src, ok := vms[vm.SnapshotOf]; ok {
			source = src.UUID
		}
		o, err := p.message(events.DeriveID("prune.sweep", pool, vm.UUID), events.PruneCompleted{
			RunID: trigger, Job: SweepJob, Schedule: SweepJob, VMUUID: source, Kind: events.PruneSnapshots,
			Deleted: []events.PrunedItem{{ID: vm.UUID, Timestamp: catalog.FormatTimestamp(vm.SnapshotTime), Reason: why}}})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		outs = append(outs, o)
	}
	return outs, errors.Join(errs...)
}
