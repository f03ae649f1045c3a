package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"xbr/shared/remote"
)

// Backup writes one restore point: its disks one after the other, then the manifest.
// Begin takes a lease that keeps GC sweeps away until Commit or Abort. It is not safe for
// concurrent use; the chunks of a disk are stored concurrently inside DiskWriter.
type Backup struct {
	rp    *Repo
	point Point
	lease *lease
	// chunks stores the chunks of every disk; its Barrier runs before the manifest is written.
	chunks remote.Batch
	disks  []finishedDisk
	open   *DiskWriter
	ended  bool
}

type finishedDisk struct {
	disk  Disk
	spool *os.File
}

// Begin starts the restore point of vm at time t (kept to the second, UTC), waiting while a
// GC sweeps. Commit writes it; Abort (also fine after Commit) drops it.
func (rp *Repo) Begin(ctx context.Context, vm string, t time.Time) (*Backup, error) {
	p := Point{VM: vm, Time: t.UTC().Truncate(time.Second)}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	body, err := json.Marshal(map[string]string{"point": p.String()})
	if err != nil {
		return nil, err
	}
	l, err := rp.beginSession(ctx, pointSessions(p), body)
	if err != nil {
		return nil, err
	}
	if err := rp.claim(ctx, p, l); err != nil {
		return nil, errors.Join(err, l.release(ctx))
	}
	chunks, err := remote.NewBatch(ctx, rp.r)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("restore point %s: %w", p, err), l.release(ctx))
	}
	return &Backup{rp: rp, point: p, lease: l, chunks: chunks}, nil
}

// pointSessions is the prefix of the leases of the backups writing p: their keys name the
// point, so that one listing finds the others.
func pointSessions(p Point) string {
	return sessionsPrefix + p.VM + "_" + p.Time.UTC().Format(timeLayout) + "_"
}

// claim fails when another backup is writing p or p exists, once l (under pointSessions(p))
// is written. Two backups of one point (two jobs holding the VM, fired in the same second)
// each write their lease before listing the other's, so at least one sees the other, as a
// backup and a sweep do (doc.go, "GC and backups"); one that committed and left before the
// listing left its manifest, which the Stat after the listing finds. Without this the later
// manifest silently replaces the earlier, whose caller was told its point was written.
func (rp *Repo) claim(ctx context.Context, p Point, l *lease) error {
	others, err := rp.liveUnder(ctx, pointSessions(p), l.mod, l.key)
	if err != nil {
		return fmt.Errorf("restore point %s: %w", p, err)
	}
	if len(others) > 0 {
		return fmt.Errorf("restore point %s: another backup is writing it (lease %s)", p, others[0].Key)
	}
	if _, err := rp.r.Stat(ctx, p.key()); err == nil {
		return fmt.Errorf("restore point %s exists already", p)
	} else if !errors.Is(err, remote.ErrNotFound) {
		return fmt.Errorf("restore point %s: %w", p, err)
	}
	return nil
}

// Point is the restore point being written.
func (b *Backup) Point() Point { return b.point }

// Commit writes the manifest (records: the VM's XAPI records, any JSON value) as the last
// step, which makes the restore point exist, then releases the lease.
func (b *Backup) Commit(ctx context.Context, records json.RawMessage) (*Manifest, error) {
	switch {
	case b.ended:
		return nil, fmt.Errorf("restore point %s: already committed or aborted", b.point)
	case b.open != nil:
		return nil, fmt.Errorf("restore point %s: disk %q is not closed", b.point, b.open.spec.Name)
	case !json.Valid(records):
		return nil, fmt.Errorf("restore point %s: vm records are not valid JSON", b.point)
	}
	if err := b.lease.fresh(); err != nil {
		return nil, fmt.Errorf("restore point %s: %w", b.point, err)
	}
	m := &Manifest{Format: ManifestFormat, Version: ManifestVersion, VM: b.point.VM, Time: b.point.Time, Records: records}
	for _, d := range b.disks {
		m.Disks = append(m.Disks, d.disk)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	// The durability barrier: every chunk the manifest names is durable before it is.
	if err := b.chunks.Barrier(ctx); err != nil {
		return nil, fmt.Errorf("restore point %s: make its chunks durable: %w", b.point, err)
	}
	if err := b.lease.confirm(ctx); err != nil { // the remote's clock too, right before
		return nil, fmt.Errorf("restore point %s: %w", b.point, err)
	}
	if err := b.rp.commitManifest(ctx, m, b.spooled, b.lease.fresh); err != nil {
		return nil, fmt.Errorf("restore point %s: write manifest: %w", b.point, err)
	}
	// The point exists now: what fails in cleaning up (removing the lease, which then goes
	// stale and is removed by a GC) must not make the caller undo it.
	if err := b.end(ctx); err != nil {
		b.rp.opts.log.Warn("restore point committed; cleaning up after it failed", "point", b.point.String(), "err", err)
	}
	return m, nil
}

// spooled emits disk i's chunk entries from its spool.
func (b *Backup) spooled(i int, emit func(entry) error) error {
	d := b.disks[i]
	err := b.rp.spoolEntries(d.spool, d.disk.Chunks, func(_ int64, e entry) error { return emit(e) })
	if err != nil {
		return fmt.Errorf("disk %q: %w", d.disk.Name, err)
	}
	return nil
}

// Abort drops the restore point: nothing becomes visible; the chunks already stored wait
// for a GC. Abort after Commit does nothing.
func (b *Backup) Abort(ctx context.Context) error {
	if b.ended {
		return nil
	}
	var err error
	if b.open != nil {
		err = b.open.abort()
	}
	return errors.Join(err, b.end(ctx))
}

func (b *Backup) end(ctx context.Context) error {
	b.ended = true
	var errs []error
	for _, d := range b.disks {
		errs = append(errs, d.spool.Close())
	}
	b.disks = nil
	errs = append(errs, b.chunks.Close(), b.lease.release(ctx))
	return errors.Join(errs...)
}
