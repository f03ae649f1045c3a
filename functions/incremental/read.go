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

// readChanged reads the changed chunks over the connections and puts them
// in order. Each connection keeps two reads in flight, as a sliding window
// (a slow read holds back only the puts behind it, never the other
// connections' next reads); memory is that window of chunk buffers.
func readChanged(ctx context.Context, dw *repo.DiskWriter, conns []*nbd.Client, cs int64, p *diskPlan, m meter) error {
	idx := changedChunks(p.changed, int(cs))
	m.prog.total.Add(int64(len(idx)) * cs)
	// The reads end with rctx; the puts keep ctx, which the disk writer's own
	// stores go on using after PutAt returns.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	window := 2 * len(conns)
	free := make(chan []byte, window)
	for range window {
		free <- make([]byte, cs)
	}
	order := make(chan chan chunkRead, window)
	work := make(chan chunkJob)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				err := c.Read(rctx, j.off, j.buf)
				if err == nil {
					err = m.account(rctx, len(j.buf))
				}
				j.res <- chunkRead{off: j.off, buf: j.buf, err: err}
			}
		}()
	}
	go queueReads(rctx, idx, cs, p.size, free, order, work)
	err := putInOrder(ctx, dw, order, free)
	cancel()
	for range order { // drain what the producer queued before it saw the cancel
	}
	wg.Wait()
	return err
}

// chunkJob is one NBD read of the changed chunk at off into buf; chunkRead its result.
type chunkJob struct {
	off int64
	buf []byte
	res chan chunkRead
}

type chunkRead struct {
	off int64
	buf []byte
	err error
}

// queueReads hands the chunks at idx to the readers, in order, each with a
// free buffer and a result slot queued on order; it closes work and order
// when done or when ctx ends.
func queueReads(ctx context.Context, idx []int64, cs, size int64, free chan []byte, order chan chan chunkRead, work chan chunkJob) {
	defer close(order)
	defer close(work)
	for _, ci := range idx {
		off := ci * cs
		var buf []byte
		select {
		case buf = <-free:
		case <-ctx.Done():
			return
		}
		res := make(chan chunkRead, 1)
		select {
		case order <- res:
		case <-ctx.Done():
			return
		}
		select {
		case work <- chunkJob{off: off, buf: buf[:min(cs, size-off)], res: res}:
		case <-ctx.Done():
			res <- chunkRead{err: ctx.Err()}
			return
		}
	}
}

// putInOrder puts each read chunk as its turn comes and gives its buffer back.
func putInOrder(ctx context.Context, dw *repo.DiskWriter, order chan chan chunkRead, free chan []byte) error {
	for res := range order {
		r := <-res
		if r.err != nil {
			return r.err
		}
		if err := dw.PutAt(ctx, r.off, r.buf); err != nil {
			return err
		}
		free <- r.buf[:cap(r.buf)]
	}
	return ctx.Err()
}
