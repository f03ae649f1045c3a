package xapisim

import (
	"io"
	"sync"
)

// prefetchDepth is how many blocks the generator may run ahead of the writer.
const prefetchDepth = 4

// prefetcher reads a disk in a second goroutine, so generating content and
// hashing/sending it use two cores.
type prefetcher struct {
	ready chan []byte
	free  chan []byte
	stop  chan struct{}
	once  sync.Once
	buf   []byte // the block being consumed
	cur   []byte // its unread part
	err   error
	errMu sync.Mutex
}

// newPrefetcher starts reading k from its start; Close stops it.
func newPrefetcher(k *disk) *prefetcher {
	p := &prefetcher{ready: make(chan []byte, prefetchDepth), free: make(chan []byte, prefetchDepth),
		stop: make(chan struct{})}
	for range prefetchDepth {
		p.free <- make([]byte, blockSize)
	}
	go p.run(k)
	return p
}

func (p *prefetcher) run(k *disk) {
	defer close(p.ready)
	for off := int64(0); off < k.size; {
		var buf []byte
		select {
		case buf = <-p.free:
		case <-p.stop:
			return
		}
		n := int(min(blockSize, k.size-off))
		if _, err := k.src.ReadAt(buf[:n], off); err != nil {
			p.errMu.Lock()
			p.err = err
			p.errMu.Unlock()
			return
		}
		select {
		case p.ready <- buf[:n]:
		case <-p.stop:
			return
		}
		off += int64(n)
	}
}

func (p *prefetcher) Read(b []byte) (int, error) {
	if len(p.cur) == 0 {
		buf, ok := <-p.ready
		if !ok {
			p.errMu.Lock()
			defer p.errMu.Unlock()
			if p.err != nil {
				return 0, p.err
			}
			return 0, io.EOF
		}
		p.buf, p.cur = buf, buf
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	if len(p.cur) == 0 {
		p.free <- p.buf[:cap(p.buf)]
	}
	return n, nil
}

// Close stops the reading goroutine.
func (p *prefetcher) Close() error {
	p.once.Do(func() { close(p.stop) })
	return nil
}
