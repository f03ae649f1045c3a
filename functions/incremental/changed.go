package incremental

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"xbr/shared/nbd"
	"xbr/shared/remote"
	"xbr/shared/repo"
	"xbr/shared/xapi"
)

// changedReader reads a cbt disk's changed chunks, in order, into its disk
// writer. A chunk in which at most half the bytes changed, and which the
// base restore point holds, is patched: the base's content, read from the
// repository and checked against its id, with only the changed 64 KiB
// blocks read from the host over NBD laid over it. The host then serves the
// changed blocks, not whole chunks. Any other chunk is read whole over NBD,
// and so is a patchable one whose base chunk cannot be read (missing,
// damaged), with a warning: never a wrong chunk.
type changedReader struct {
	conns []*nbd.Client
	// openBase opens the base point's chunks on the first patchable chunk
	// (nil: no base, every chunk is read whole); base is them once open,
	// noPatch set when they failed: the rest is read whole. queue's alone
	// while it runs.
	openBase func() (*repo.BaseChunks, error)
	base     *repo.BaseChunks
	noPatch  bool
	bm       xapi.Bitmap
	cs, size int64
	m        meter
	warn     func(msg string, args ...any)
	// patched counts the chunks built over their base; unreadable the base
	// chunks that could not be read back (those chunks were read whole).
	patched, unreadable atomic.Int64
}

// span is a byte range [from, to) within a chunk.
type span struct{ from, to int64 }

// chunkJob is one changed chunk to read at off into buf: patched over base
// with the spans read from the host, or (base nil) read whole.
type chunkJob struct {
	off     int64
	buf     []byte
	base    *repo.BaseChunk
	spans   []span
	changed int64
	res     chan chunkRead
}

type chunkRead struct {
	off int64
	buf []byte
	err error
}

func (w *Worker) changedReader(ctx context.Context, rp *repo.Repo, conns []*nbd.Client, p *diskPlan, m meter, j *job) *changedReader {
	cr := &changedReader{conns: conns, bm: p.changed, cs: int64(rp.Config().ChunkSize), size: p.size, m: m}
	cr.warn = func(msg string, args ...any) {
		w.d.Log.Warn(msg, append([]any{"vm_uuid", j.req.VMUUID, "disk", p.rec.Name}, args...)...)
	}
	if b := p.base; b != nil {
		cr.openBase = func() (*repo.BaseChunks, error) { return rp.OpenBaseChunks(ctx, *b, p.size) }
	}
	return cr
}

func (cr *changedReader) close() {
	if cr.base != nil {
		_ = cr.base.Close()
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

// spans are the changed byte ranges of chunk i, merged and clipped to the
// disk; n is their length in bytes. With spans false it only counts.
func (cr *changedReader) spans(i int64, spans bool) (out []span, n int64) {
	per := cr.cs / xapi.CBTBlockSize // the chunk size is a multiple of the block size
	for b := i * per; b < (i+1)*per; b++ {
		if !cr.bm.Changed(b) {
			continue
		}
		from := b*xapi.CBTBlockSize - i*cr.cs
		to := min(from+xapi.CBTBlockSize, cr.size-i*cr.cs)
		if to <= from {
			break
		}
		n += to - from
		switch {
		case !spans:
		case len(out) > 0 && out[len(out)-1].to == from:
			out[len(out)-1].to = to
		default:
			out = append(out, span{from, to})
		}
	}
	return out, n
}

// patchable reports whether a chunk of length n with changed bytes is
// patched when its base holds it.
func (cr *changedReader) patchable(n, changed int64) bool {
	return cr.openBase != nil && 2*changed <= n
}

// hostBytes is what reading the chunks idx should take from the host.
func (cr *changedReader) hostBytes(idx []int64) int64 {
	var total int64
	for _, i := range idx {
		n := min(cr.cs, cr.size-i*cr.cs)
		if _, k := cr.spans(i, false); cr.patchable(n, k) {
			n = k
		}
		total += n
	}
	return total
}

// read reads the changed chunks over the connections and puts them in
// order. Two workers per connection keep a sliding window of reads in
// flight (a slow read holds back only the puts behind it, never the other
// workers' next reads); memory is that window of chunk buffers, one per
// worker and one being put, and a base chunk's stored form per worker.
func (cr *changedReader) read(ctx context.Context, dw *repo.DiskWriter) error {
	idx := changedChunks(cr.bm, int(cr.cs))
	cr.m.prog.total.Add(cr.hostBytes(idx))
	// The reads end with rctx; the puts keep ctx, which the disk writer's own
	// stores go on using after PutAt returns.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := 2 * len(cr.conns)
	free := make(chan []byte, workers+1)
	for range cap(free) {
		free <- make([]byte, cr.cs)
	}
	order := make(chan chan chunkRead, cap(free))
	work := make(chan chunkJob)
	var wg sync.WaitGroup
	for k := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				j.res <- chunkRead{off: j.off, buf: j.buf, err: cr.fetch(rctx, cr.conns[k%len(cr.conns)], j)}
			}
		}()
	}
	go cr.queue(rctx, idx, free, order, work)
	err := putInOrder(ctx, dw, order, free)
	cancel()
	for range order { // drain what the producer queued before it saw the cancel
	}
	wg.Wait()
	return err
}

// queue hands the chunks at idx to the workers, in order, each with a free
// buffer and a result slot queued on order, and the base chunk to patch
// over when it has one; it closes work and order when done or when ctx
// ends.
func (cr *changedReader) queue(ctx context.Context, idx []int64, free chan []byte, order chan chan chunkRead, work chan chunkJob) {
	defer close(order)
	defer close(work)
	for _, ci := range idx {
		j := chunkJob{off: ci * cr.cs, res: make(chan chunkRead, 1)}
		n := min(cr.cs, cr.size-j.off)
		select {
		case buf := <-free:
			j.buf = buf[:n]
		case <-ctx.Done():
			return
		}
		select {
		case order <- j.res:
		case <-ctx.Done():
			return
		}
		if j.spans, j.changed = cr.spans(ci, true); cr.patchable(n, j.changed) {
			if j.base = cr.baseChunk(ci); j.base == nil { // read whole: more than hostBytes counted
				cr.m.prog.total.Add(n - j.changed)
			}
		}
		select {
		case work <- j:
		case <-ctx.Done():
			j.res <- chunkRead{err: ctx.Err()}
			return
		}
	}
}

// baseChunk is the base's chunk i, or nil when the base does not hold it
// (the disk was resized) or its entries cannot be read, which ends
// patching for the rest of the disk.
func (cr *changedReader) baseChunk(i int64) *repo.BaseChunk {
	if cr.noPatch {
		return nil
	}
	if cr.base == nil {
		bc, err := cr.openBase()
		if err != nil {
			cr.warn("changed chunks are read whole from the host: the base restore point cannot be read", "error", err)
			cr.noPatch = true
			return nil
		}
		cr.base = bc
	}
	c, ok, err := cr.base.At(i)
	if err != nil {
		cr.warn("changed chunks are read whole from the host: the base restore point's entries cannot be read", "error", err)
		cr.noPatch = true
	}
	if err != nil || !ok {
		return nil
	}
	return &c
}

// fetch fills j.buf: the base chunk with the changed spans read over it,
// or the whole chunk from the host.
func (cr *changedReader) fetch(ctx context.Context, c *nbd.Client, j chunkJob) error {
	if j.base != nil {
		err := cr.base.Read(ctx, *j.base, j.buf)
		if err == nil {
			for _, s := range j.spans {
				if err := cr.fromHost(ctx, c, j.off+s.from, j.buf[s.from:s.to]); err != nil {
					return err
				}
			}
			cr.patched.Add(1)
			return nil
		}
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, repo.ErrCorrupt) || errors.Is(err, remote.ErrNotFound):
			cr.unreadable.Add(1)
			cr.warn("changed chunk read whole from the host: its base chunk cannot be read; run xbr verify --deep",
				"offset", j.off, "error", err)
		default: // the remote failed (a timeout, a reset): no sign of damage
			cr.warn("changed chunk read whole from the host: its base chunk could not be fetched", "offset", j.off, "error", err)
		}
		cr.m.prog.total.Add(int64(len(j.buf)) - j.changed)
	}
	return cr.fromHost(ctx, c, j.off, j.buf)
}

// fromHost reads buf at off over NBD, counted and rate limited.
func (cr *changedReader) fromHost(ctx context.Context, c *nbd.Client, off int64, buf []byte) error {
	if err := c.Read(ctx, off, buf); err != nil {
		return err
	}
	return cr.m.account(ctx, len(buf))
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
