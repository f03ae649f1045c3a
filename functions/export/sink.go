package export

import (
	"io"
	"sync"
	"sync/atomic"
)

// sinkBlock is the size of the blocks the sink hands to its goroutines.
const sinkBlock = 1 << 20

// sinkDepth is how many blocks may be in flight: the sink's memory in MiB.
const sinkDepth = 8

// block is a buffer shared by the hash and the write goroutines; it goes
// back to the free list when all are done with it.
type block struct {
	buf  []byte
	refs atomic.Int32
}

// asyncSink writes what it is given to w and to each hash, each in its own
// goroutine, so that reading the export, hashing it and writing it to the
// remotes overlap instead of adding up. Write copies p and returns at once;
// the first error of w sticks and is returned by later Writes and by Close.
type asyncSink struct {
	pool *blockPool
	free chan *block
	outs []chan *block // one per hash, then the one to w
	wg   sync.WaitGroup
	cur  *block

	mu  sync.Mutex
	err error
	n   int64 // bytes written to w
}

func newAsyncSink(w io.Writer, pool *blockPool, hashes ...io.Writer) *asyncSink {
	s := &asyncSink{pool: pool, free: make(chan *block, sinkDepth)}
	for range sinkDepth {
		s.free <- pool.get()
	}
	for _, h := range hashes {
		s.start(func(b []byte) { h.Write(b) })
	}
	s.start(func(b []byte) { s.write(w, b) })
	return s
}

// start runs do over every block in a goroutine of its own.
func (s *asyncSink) start(do func([]byte)) {
	in := make(chan *block, sinkDepth)
	s.outs = append(s.outs, in)
	s.wg.Add(1)
	go s.run(in, do)
}

func (s *asyncSink) run(in <-chan *block, do func([]byte)) {
	defer s.wg.Done()
	for b := range in {
		do(b.buf)
		if b.refs.Add(-1) == 0 {
			b.buf = b.buf[:0]
			s.free <- b
		}
	}
}

func (s *asyncSink) write(w io.Writer, b []byte) {
	if s.failed() != nil {
		return
	}
	n, err := w.Write(b)
	s.mu.Lock()
	s.n += int64(n)
	if err != nil && s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

func (s *asyncSink) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Write queues a copy of p.
func (s *asyncSink) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if err := s.failed(); err != nil {
			return written, err
		}
		if s.cur == nil {
			s.cur = <-s.free
		}
		b := s.cur.buf
		k := copy(b[len(b):cap(b)], p)
		s.cur.buf = b[:len(b)+k]
		p, written = p[k:], written+k
		if len(s.cur.buf) == cap(s.cur.buf) {
			s.flush()
		}
	}
	return written, nil
}

func (s *asyncSink) flush() {
	if s.cur == nil || len(s.cur.buf) == 0 {
		return
	}
	s.cur.refs.Store(int32(len(s.outs)))
	for _, out := range s.outs {
		out <- s.cur
	}
	s.cur = nil
}

// Close flushes what is queued, waits for the goroutines and returns the
// bytes written to w and its first error. It must be called exactly once,
// also when the copy into the sink failed, to stop the goroutines.
func (s *asyncSink) Close() (int64, error) {
	s.flush()
	for _, out := range s.outs {
		close(out)
	}
	s.wg.Wait()
	for range sinkDepth { // every block is back on the free list
		s.pool.put(<-s.free)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n, s.err
}

// blockPool keeps the sink's blocks between transfers, so a worker does not
// allocate 8 MiB per backup for the garbage collector to find (the issue's
// soak profiles); the runtime may still drop pooled blocks when idle.
type blockPool struct{ p sync.Pool }

func newBlockPool() *blockPool {
	return &blockPool{p: sync.Pool{New: func() any { return &block{buf: make([]byte, 0, sinkBlock)} }}}
}

func (bp *blockPool) get() *block { return bp.p.Get().(*block) }

func (bp *blockPool) put(b *block) {
	b.buf = b.buf[:0]
	bp.p.Put(b)
}
