package xapisim

import "io"

// coalescer buffers small writes (tar headers, checksums) and passes large
// ones (1 MiB chunks) straight through, saving a copy of every chunk.
type coalescer struct {
	w   io.Writer
	buf []byte
}

const coalesceMax = 64 << 10

func newCoalescer(w io.Writer) *coalescer {
	return &coalescer{w: w, buf: make([]byte, 0, coalesceMax)}
}

func (c *coalescer) Write(p []byte) (int, error) {
	if len(p) >= coalesceMax/2 {
		if err := c.Flush(); err != nil {
			return 0, err
		}
		return c.w.Write(p)
	}
	if len(c.buf)+len(p) > cap(c.buf) {
		if err := c.Flush(); err != nil {
			return 0, err
		}
	}
	c.buf = append(c.buf, p...)
	return len(p), nil
}

// Flush writes the buffered bytes.
func (c *coalescer) Flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.w.Write(c.buf)
	c.buf = c.buf[:0]
	return err
}
