package restore

import (
	"errors"
	"hash"
	"io"
	"sync"
)

const (
	aheadBlock = 1 << 20 // bytes read from the remote at a time
	aheadDepth = 4       // blocks read ahead: the memory is aheadDepth MiB
)

// hashAhead reads its source in a goroutine of its own and hashes what it
// reads there, so that reading and hashing the backup overlap with sending
// it to XAPI (all three in one goroutine made the restore of an uncompressed
// backup run at about two thirds of curl -T). Read returns the source's bytes
// in order, then its error (io.EOF at a clean end), and only after every byte
// was hashed, so a digest taken at EOF covers the whole stream.
type hashAhead struct {
	blocks chan []byte
	free   chan []byte
	stop   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
	block  []byte // the buffer being handed out, whole
	cur    []byte // its bytes not read yet
	err    error  // the source's final error; read once blocks is closed
}

// newHashAhead starts reading src; sum may be nil (nothing to hash here).
func newHashAhead(src io.Reader, sum hash.Hash) *hashAhead {
	h := &hashAhead{blocks: make(chan []byte, aheadDepth), free: make(chan []byte, aheadDepth+1),
		stop: make(chan struct{})}
	for range aheadDepth + 1 {
		h.free <- make([]byte, aheadBlock)
	}
	h.wg.Add(1)
	go h.produce(src, sum)
	return h
}

func (h *hashAhead) produce(src io.Reader, sum hash.Hash) {
	defer h.wg.Done()
	defer close(h.blocks)
	for {
		var b []byte
		select {
		case b = <-h.free:
		case <-h.stop:
			return
		}
		n, err := io.ReadFull(src, b)
		if n > 0 {
			if sum != nil {
				sum.Write(b[:n])
			}
			select {
			case h.blocks <- b[:n]:
			case <-h.stop:
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

// Read implements io.Reader.
func (h *hashAhead) Read(p []byte) (int, error) {
	for len(h.cur) == 0 {
		if h.block != nil {
			h.free <- h.block[:cap(h.block)]
			h.block = nil
		}
		b, ok := <-h.blocks
		if !ok {
			return 0, h.err
		}
		h.block, h.cur = b, b
	}
	n := copy(p, h.cur)
	h.cur = h.cur[n:]
	return n, nil
}

// Close stops the reading goroutine and waits for it; the source itself is
// closed by its owner afterwards.
func (h *hashAhead) Close() {
	h.once.Do(func() { close(h.stop) })
	h.wg.Wait()
}
