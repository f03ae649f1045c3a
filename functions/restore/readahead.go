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
	blocks  chan []byte
	free    chan []byte
	stop    chan struct{} // closed by Close
	aborted chan struct{} // closed by abort
	cancel  context.CancelFunc
	unwatch func() bool   // stops watching the context
	timer   *time.Timer   // the stall bound; nil when unbounded
	stall   time.Duration // its timeout
	got     atomic.Int64  // bytes read from the source
	abortMu sync.Once
	once    sync.Once
	why     error  // the abort's reason; read once aborted is closed
	block   []byte // the buffer being handed out, whole
	cur     []byte // its bytes not read yet
	err     error  // the source's final error; read once blocks is closed
}

// newHashAhead starts reading src, opened with ctx, which cancel ends; sum
// may be nil (nothing to hash here). The hashAhead owns src from now on.
func newHashAhead(ctx context.Context, cancel context.CancelFunc, src io.ReadCloser, sum hash.Hash, stall time.Duration) *hashAhead {
	h := &hashAhead{blocks: make(chan []byte, aheadDepth), free: make(chan []byte, aheadDepth+1),
		stop: make(chan struct{}), aborted: make(chan struct{}), cancel: cancel, stall: stall}
	for range aheadDepth + 1 {
		h.free <- make([]byte, aheadBlock)
	}
	if stall > 0 {
		h.timer = time.AfterFunc(stall, func() {
			h.abort(fmt.Errorf("%w: the remote sent nothing for %v after %d bytes", ErrReadStalled, stall, h.got.Load()))
		})
		h.timer.Stop()
	}
	h.unwatch = context.AfterFunc(ctx, func() { h.abort(ctx.Err()) })
	go h.produce(src, sum)
	return h
}

// abort fails the stream with why and ends the source's context.
func (h *hashAhead) abort(why error) {
	h.abortMu.Do(func() {
		h.why = why
		close(h.aborted)
		h.cancel()
	})
}

func (h *hashAhead) produce(src io.ReadCloser, sum hash.Hash) {
	defer src.Close()
	defer close(h.blocks)
	timed := timedReader{h: h, src: src}
	for {
		var b []byte
		select {
		case b = <-h.free:
		case <-h.stop:
			return
		case <-h.aborted:
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
			case <-h.aborted:
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
	h   *hashAhead
	src io.Reader
}

func (t timedReader) Read(p []byte) (int, error) {
	if t.h.timer != nil {
		t.h.timer.Reset(t.h.stall)
	}
	n, err := t.src.Read(p)
	if t.h.timer != nil {
		t.h.timer.Stop()
	}
	t.h.got.Add(int64(n))
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
		case <-h.aborted:
			return 0, h.why
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
		h.unwatch()
		if h.timer != nil {
			h.timer.Stop()
		}
		h.cancel()
	})
}
