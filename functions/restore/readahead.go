package restore

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

const (
	aheadBlock = 1 << 20 // bytes read from the remote at a time
	aheadDepth = 4       // blocks read ahead: the memory is aheadDepth MiB
)

// ErrReadStalled: the remote sent nothing of the backup for the stall
// timeout (the pool's stall_timeout, as the pool's side of the transfer).
var ErrReadStalled = errors.New("the backup read stalled")

// hashAhead reads its source in a goroutine of its own and hashes what it
// reads there, so that reading and hashing the backup overlap with sending
// it to XAPI (all three in one goroutine made the restore of an uncompressed
// backup run at about two thirds of curl -T). Read returns the source's bytes
// in order, then its error (io.EOF at a clean end), and only after every byte
// was hashed, so a digest taken at EOF covers the whole stream.
//
// Each read of the source gets the stall timeout (0: no bound); only those
// waits are timed, never a wait for XAPI to take a block. A source silent
// that long fails the stream with ErrReadStalled, and the end of the
// source's context fails it with the context's error: Read returns at once
// and the reading goroutine is abandoned. That goroutine ends, closing the
// source, when its read returns; a read that ignores cancellation (a hung
// NFS server) holds it, never the restore.
type hashAhead struct {
	blocks chan []byte
	free   chan []byte
	stop   chan struct{} // closed by Close
	w      *stallWatch   // bounds the reads of the source
	once   sync.Once
	block  []byte // the buffer being handed out, whole
	cur    []byte // its bytes not read yet
	err    error  // the source's final error; read once blocks is closed
}

// newHashAhead starts reading src, opened with ctx, which cancel ends; sum
// may be nil (nothing to hash here). The hashAhead owns src from now on.
func newHashAhead(ctx context.Context, cancel context.CancelFunc, src io.ReadCloser, sum hash.Hash, stall time.Duration) *hashAhead {
	h := &hashAhead{blocks: make(chan []byte, aheadDepth), free: make(chan []byte, aheadDepth+1),
		stop: make(chan struct{}), w: newStallWatch(ctx, cancel, stall, "")}
	for range aheadDepth + 1 {
		h.free <- make([]byte, aheadBlock)
	}
	go h.produce(src, sum)
	return h
}

func (h *hashAhead) produce(src io.ReadCloser, sum hash.Hash) {
	defer src.Close()
	defer close(h.blocks)
	timed := timedReader{w: h.w, src: src}
	for {
		var b []byte
		select {
		case b = <-h.free:
		case <-h.stop:
			return
		case <-h.w.aborted:
			return
		}
		n, err := io.ReadFull(timed, b)
		if n > 0 {
			if sum != nil {
				sum.Write(b[:n])
			}
			select {
			case h.blocks <- b[:n]:
			case <-h.stop:
				return
			case <-h.w.aborted:
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF // a short last block is a clean end
			}
			h.err = err
			return
		}
	}
}

// timedReader reads the source under the stall bound.
type timedReader struct {
	w   *stallWatch
	src io.Reader
}

func (t timedReader) Read(p []byte) (int, error) {
	t.w.arm()
	n, err := t.src.Read(p)
	t.w.disarm(n)
	return n, err
}

// Read implements io.Reader.
func (h *hashAhead) Read(p []byte) (int, error) {
	for len(h.cur) == 0 {
		if h.block != nil {
			h.free <- h.block[:cap(h.block)]
			h.block = nil
		}
		select {
		case <-h.w.aborted:
			return 0, h.w.why
		case b, ok := <-h.blocks:
			if !ok {
				return 0, h.err
			}
			h.block, h.cur = b, b
		}
	}
	n := copy(p, h.cur)
	h.cur = h.cur[n:]
	return n, nil
}

// Close stops the reading goroutine and ends the source's context; it does
// not wait for a read in progress (the goroutine closes the source once
// that read returns).
func (h *hashAhead) Close() {
	h.once.Do(func() {
		close(h.stop)
		h.w.stop()
	})
}

// stallWatch is the stall bound of the reads of a remote: armed while a read
// is waited for, it fails them with ErrReadStalled once one such wait lasts
// the stall timeout (0: no bound), and with the context's error once the
// context ends; either way it ends the reads' context and closes aborted, so
// that their waiter returns at once, whether the read heeds it or not.
type stallWatch struct {
	aborted chan struct{} // closed by abort
	cancel  context.CancelFunc
	unwatch func() bool   // stops watching the context
	timer   *time.Timer   // nil when unbounded
	stall   time.Duration // its timeout
	what    string        // what is read, when not a stream whose bytes are counted
	got     atomic.Int64  // bytes read
	once    sync.Once
	why     error // the abort's reason; read once aborted is closed
}

// newStallWatch watches reads done under ctx, which cancel ends.
func newStallWatch(ctx context.Context, cancel context.CancelFunc, stall time.Duration, what string) *stallWatch {
	w := &stallWatch{aborted: make(chan struct{}), cancel: cancel, stall: stall, what: what}
	if stall > 0 {
		w.timer = time.AfterFunc(stall, func() { w.abort(w.stalled()) })
		w.timer.Stop()
	}
	w.unwatch = context.AfterFunc(ctx, func() { w.abort(ctx.Err()) })
	return w
}

func (w *stallWatch) stalled() error {
	if w.what != "" {
		return fmt.Errorf("%w: %s: the remote answered nothing for %v", ErrReadStalled, w.what, w.stall)
	}
	return fmt.Errorf("%w: the remote sent nothing for %v after %d bytes", ErrReadStalled, w.stall, w.got.Load())
}

// abort fails the reads with why and ends their context, first: a waiter
// that sees aborted closed finds the context ended.
func (w *stallWatch) abort(why error) {
	w.once.Do(func() {
		w.why = why
		w.cancel()
		close(w.aborted)
	})
}

// arm starts timing a wait for the remote; disarm ends it, n bytes read.
func (w *stallWatch) arm() {
	if w.timer != nil {
		w.timer.Reset(w.stall)
	}
}

func (w *stallWatch) disarm(n int) {
	if w.timer != nil {
		w.timer.Stop()
	}
	w.got.Add(int64(n))
}

// stop ends the watch and the reads' context.
func (w *stallWatch) stop() {
	w.unwatch()
	if w.timer != nil {
		w.timer.Stop()
	}
	w.cancel()
}

// boundedRead runs read, a read of a remote whole (a manifest, a config),
// under the stall bound of a stream's reads: silent for stall (the whole
// read one wait), it fails with ErrReadStalled; when ctx ends, with ctx's
// error. It then returns at once, and read, whose context is ended, is
// abandoned: one that ignores cancellation holds only its goroutine.
func boundedRead[T any](ctx context.Context, stall time.Duration, what string, read func(context.Context) (T, error)) (T, error) {
	rctx, cancel := context.WithCancel(ctx)
	w := newStallWatch(rctx, cancel, stall, what)
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	defer w.stop()
	w.arm()
	go func() {
		v, err := read(rctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-w.aborted:
		var zero T
		return zero, w.why
	}
}
