package incremental

import (
	"context"
	"errors"
	"fmt"
	"io"

	"xbr/events"
	"xbr/shared/nbd"
	"xbr/shared/remote"
	"xbr/shared/repo"
	"xbr/shared/vhd"
	"xbr/shared/xapi"
)

// writeDisk stores disk p into the restore point by its path. A cbt disk
// whose NBD endpoint cannot be reached before any chunk was read is read
// whole instead (path_reason no-nbd).
func (w *Worker) writeDisk(ctx context.Context, c *xapi.Client, rp *repo.Repo, b *repo.Backup, p *diskPlan, m meter, j *job) (repo.DiskStats, error) {
	dw, err := b.AddDisk(ctx, repo.DiskSpec{Name: p.rec.Name, Size: p.size, Base: p.base})
	if p.base != nil && errors.Is(err, remote.ErrNotFound) {
		// The base point was deleted since the plan (another job's prune of the VM):
		// the host still holds every byte of the disk.
		p.path, p.reason, p.base = events.PathFullScan, w.why(j, p.pointDisk, events.PathReasonBaseGone, err), nil
		m.prog.total.Add(p.size)
		dw, err = b.AddDisk(ctx, repo.DiskSpec{Name: p.rec.Name, Size: p.size})
	}
	if err != nil {
		return repo.DiskStats{}, err
	}
	if p.path == events.PathCBT {
		conns, err := dial(ctx, p.nbd, w.d.NBDConnections)
		if err != nil {
			p.path, p.reason = events.PathFullScan, w.why(j, p.pointDisk, events.PathReasonNoNBD, err)
		} else {
			cr := w.changedReader(ctx, rp, conns, p, m, j)
			err = cr.read(ctx, dw)
			cr.close()
			closeAll(conns)
			p.patched, p.unreadable = cr.patched.Load(), cr.unreadable.Load()
			if err != nil {
				return repo.DiskStats{}, fmt.Errorf("disk %s: read changed blocks over NBD: %w", p.rec.Name, err)
			}
		}
	}
	if p.path == events.PathFullScan {
		if err := w.scan(ctx, c, dw, p, m, j.raw); err != nil {
			return repo.DiskStats{}, err
		}
	}
	_, st, err := dw.Close(ctx)
	if err != nil {
		return repo.DiskStats{}, fmt.Errorf("disk %s: %w", p.rec.Name, err)
	}
	return st, nil
}

// scan reads the whole snapshot VDI into dw: its allocated blocks from
// /export_raw_vdi?format=vhd, the rest as zero chunks. When the VHD export
// is refused (above vhd.MaxSize, decided here, or an error answer before
// any body) the disk is read raw instead: every byte from
// /export_raw_vdi?format=raw. So it is when raw is set: the attempt before
// found the host's VHD stream unreadable (vhd.ErrFormat).
func (w *Worker) scan(ctx context.Context, c *xapi.Client, dw *repo.DiskWriter, p *diskPlan, m meter, raw bool) error {
	if p.size <= vhd.MaxSize && !raw {
		tr, err := c.ExportVHD(ctx, p.vdi)
		if err == nil {
			return fillVHD(ctx, tr, dw, p, m)
		}
		if ctx.Err() != nil || errors.Is(err, xapi.ErrStalled) {
			return fmt.Errorf("disk %s: export_raw_vdi: %w", p.rec.Name, err)
		}
		w.d.Log.Info("vhd export refused; the disk is read raw", "disk", p.rec.Name, "error", err)
	}
	tr, err := c.ExportRawVDI(ctx, p.vdi)
	if err != nil {
		return fmt.Errorf("disk %s: export_raw_vdi: %w", p.rec.Name, err)
	}
	defer tr.Close()
	if err := dw.Fill(ctx, m.reader(ctx, tr)); err != nil {
		return fmt.Errorf("disk %s: %w", p.rec.Name, err)
	}
	return tr.Wait(ctx)
}

// fillVHD writes the disk of a format=vhd transfer into dw.
func fillVHD(ctx context.Context, tr *xapi.Transfer, dw *repo.DiskWriter, p *diskPlan, m meter) error {
	defer tr.Close()
	vr, err := vhd.NewReader(m.reader(ctx, tr), p.size)
	if err != nil {
		return fmt.Errorf("disk %s: export_raw_vdi format=vhd: %w", p.rec.Name, err)
	}
	m.prog.total.Add(vr.StreamSize() - p.size) // progress counts the bytes the host sends
	disk := vhd.Expand(vr)
	if err := dw.Fill(ctx, disk); err != nil {
		return fmt.Errorf("disk %s: export_raw_vdi format=vhd: %w", p.rec.Name, err)
	}
	// Fill only looks for a byte past the disk; the trailing footer's checks
	// are in the expander's end.
	if _, err := disk.Read(make([]byte, 1)); err != io.EOF {
		return fmt.Errorf("disk %s: export_raw_vdi format=vhd: after the disk's end: %w", p.rec.Name, err)
	}
	return tr.Wait(ctx)
}

// dial opens up to n connections to the disk's NBD export, trying each
// endpoint get_nbd_info gave in turn; it fails only when none opens.
func dial(ctx context.Context, infos []xapi.NBDInfo, n int) ([]*nbd.Client, error) {
	var conns []*nbd.Client
	var errs []error
	for i := 0; len(conns) < n && i < n+len(infos); i++ {
		cl, err := nbd.Dial(ctx, infos[i%len(infos)].NBDConfig())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		conns = append(conns, cl)
	}
	if len(conns) == 0 {
		return nil, errors.Join(errs...)
	}
	return conns, nil
}

func closeAll(conns []*nbd.Client) {
	for _, c := range conns {
		_ = c.Close()
	}
}
