package incremental

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"xbr/events"
	"xbr/shared/nbd"
	"xbr/shared/repo"
	"xbr/shared/xapi"
)

// writeDisk stores disk p into the restore point by its path. A cbt disk
// whose NBD endpoint cannot be reached before any chunk was read is read
// whole instead (path_reason no-nbd).
func (w *Worker) writeDisk(ctx context.Context, c *xapi.Client, b *repo.Backup, cs int, p *diskPlan, m meter, j *job) (repo.DiskStats, error) {
	dw, err := b.AddDisk(ctx, repo.DiskSpec{Name: p.rec.Name, Size: p.size, Base: p.base})
	if err != nil {
		return repo.DiskStats{}, err
	}
	if p.path == events.PathCBT {
		conns, err := dial(ctx, p.nbd, w.d.NBDConnections)
		if err != nil {
			p.path, p.reason = events.PathFullScan, w.why(j, p.pointDisk, events.PathReasonNoNBD, err)
		} else {
			err = readChanged(ctx, dw, conns, int64(cs), p, m)
			closeAll(conns)
			if err != nil {
				return repo.DiskStats{}, fmt.Errorf("disk %s: read changed blocks over NBD: %w", p.rec.Name, err)
			}
		}
	}
	if p.path == events.PathFullScan {
		if err := w.scan(ctx, c, dw, p, m); err != nil {
			return repo.DiskStats{}, err
		}
	}
	_, st, err := dw.Close(ctx)
	if err != nil {
		return repo.DiskStats{}, fmt.Errorf("disk %s: %w", p.rec.Name, err)
	}
	return st, nil
}

// scan reads the whole snapshot VDI (/export_raw_vdi) into dw.
func (w *Worker) scan(ctx context.Context, c *xapi.Client, dw *repo.DiskWriter, p *diskPlan, m meter) error {
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

// changedChunks lists, in order, the chunks that hold a changed block.
func changedChunks(bm xapi.Bitmap, chunkSize int) []int64 {
	var out []int64
	for blk := range bm.Blocks() {
		i := blk * xapi.CBTBlockSize / int64(chunkSize)
		if len(out) == 0 || out[len(out)-1] != i {
			out = append(out, i)
		}
	}
	return out
}

// readChanged reads the changed chunks over the connections, a window of
// two chunks per connection at a time, and puts them in order. Memory is
// that window.
func readChanged(ctx context.Context, dw *repo.DiskWriter, conns []*nbd.Client, cs int64, p *diskPlan, m meter) error {
	idx := changedChunks(p.changed, int(cs))
	m.prog.total.Add(int64(len(idx)) * cs)
	window := 2 * len(conns)
	bufs := make([][]byte, window)
	for i := range bufs {
		bufs[i] = make([]byte, cs)
	}
	for start := 0; start < len(idx); start += window {
		batch := idx[start:min(start+window, len(idx))]
		errs := make([]error, len(batch))
		var wg sync.WaitGroup
		for k, ci := range batch {
			off := ci * cs
			n := min(cs, p.size-off)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if errs[k] = conns[k%len(conns)].Read(ctx, off, bufs[k][:n]); errs[k] == nil {
					errs[k] = m.account(ctx, int(n))
				}
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		for k, ci := range batch {
			off := ci * cs
			if err := dw.PutAt(ctx, off, bufs[k][:min(cs, p.size-off)]); err != nil {
				return err
			}
		}
	}
	return nil
}
