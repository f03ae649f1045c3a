package xva

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
)

// ChunkSize is the size of a disk chunk in the archive (stream_vdi.ml
// chunk_size); the last chunk of a disk holds the remainder.
const ChunkSize = 1 << 20

// OVAName is the name of the metadata entry, always the first one.
const OVAName = "ova.xml"

// WriterOptions tunes a Writer; the zero value is valid.
type WriterOptions struct {
	// ModTime is the mtime of the ova.xml entry (XAPI writes "now"); chunk
	// entries always carry 0. The zero Time writes 0.
	ModTime time.Time
}

// Writer streams an XVA: WriteOVA once, then WriteDisk for each disk in
// lexicographic order of its id, then Close. It buffers one chunk.
type Writer struct {
	w       io.Writer
	mtime   int64
	buf     []byte
	scratch []byte
	zero    [4096]byte
	started bool
	closed  bool
	lastID  string
	// firstLen is the length of the archive's first chunk (-1 before it): XAPI sizes
	// every gap of omitted chunks by it, so zero chunks are omitted only when it is a
	// whole ChunkSize.
	firstLen int64
	err      error
}

// NewWriter returns a Writer that writes the tar stream to w.
func NewWriter(w io.Writer, opts WriterOptions) *Writer {
	var mtime int64
	if !opts.ModTime.IsZero() {
		mtime = max(opts.ModTime.Unix(), 0)
	}
	return &Writer{w: w, mtime: mtime, scratch: make([]byte, 0, 3*blockSize), firstLen: -1}
}

// WriteOVA writes the ova.xml entry; it must come first.
func (w *Writer) WriteOVA(ovaXML []byte) error {
	if err := w.check(); err != nil {
		return err
	}
	if w.started {
		return errors.New("xva: WriteOVA called twice")
	}
	w.started = true
	w.scratch = appendHeader(w.scratch[:0], OVAName, int64(len(ovaXML)), w.mtime)
	if err := w.write(w.scratch); err != nil {
		return err
	}
	if err := w.write(ovaXML); err != nil {
		return err
	}
	return w.write(w.zero[:padding(int64(len(ovaXML)))])
}

// WriteDisk writes the disk with export id (e.g. "Ref:3") and virtual size
// size, reading exactly size bytes from r. All-zero chunks other than the
// first and the last are omitted, as XAPI does, unless the archive's first
// chunk is shorter than ChunkSize (a first disk under 1 MiB): XAPI's importer
// sizes every gap by that first chunk.
func (w *Writer) WriteDisk(id string, size int64, r io.Reader) error {
	if err := w.check(); err != nil {
		return err
	}
	if err := w.checkDisk(id, size); err != nil {
		return err
	}
	w.lastID = id
	if w.buf == nil {
		w.buf = make([]byte, ChunkSize)
	}
	n := (size + ChunkSize - 1) / ChunkSize
	for i := range n {
		off := i * ChunkSize
		data := w.buf[:min(ChunkSize, size-off)]
		if got, err := io.ReadFull(r, data); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("xva: disk %q: reading byte %d of %d: %w", id, off+int64(got), size, err)
		}
		if i == 0 || i == n-1 || w.firstLen != ChunkSize || !w.allZero(data) {
			if err := w.writeChunk(fmt.Sprintf("%s/%08d", id, i), data); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *Writer) checkDisk(id string, size int64) error {
	switch {
	case !w.started:
		return errors.New("xva: WriteDisk before WriteOVA")
	case id == "" || strings.ContainsAny(id, "/\x00"):
		return fmt.Errorf("xva: disk id %q: must be non-empty, without '/' or NUL", id)
	case len(id)+len("/00000000.checksum") > nameLen:
		return fmt.Errorf("xva: disk id %q: too long for a V7 tar name", id)
	case id <= w.lastID:
		return fmt.Errorf("xva: disk %q written after %q: disks must come in lexicographic order of id", id, w.lastID)
	case size < 0:
		return fmt.Errorf("xva: disk %q: negative size %d", id, size)
	}
	return nil
}

// writeChunk writes a chunk entry followed by its .xxhash entry.
func (w *Writer) writeChunk(name string, data []byte) error {
	if w.firstLen < 0 {
		w.firstLen = int64(len(data))
	}
	w.scratch = appendHeader(w.scratch[:0], name, int64(len(data)), 0)
	if err := w.write(w.scratch); err != nil {
		return err
	}
	if err := w.write(data); err != nil {
		return err
	}
	sum := fmt.Appendf(nil, "%016X", xxhash.Sum64(data))
	b := append(w.scratch[:0], w.zero[:padding(int64(len(data)))]...)
	b = appendHeader(b, name+".xxhash", int64(len(sum)), 0)
	b = append(b, sum...)
	b = append(b, w.zero[:padding(int64(len(sum)))]...)
	w.scratch = b
	return w.write(b)
}

// Close ends the archive with two zero blocks. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	if err := w.check(); err != nil {
		return err
	}
	w.closed = true
	if !w.started {
		w.err = errors.New("xva: Close before WriteOVA")
		return w.err
	}
	return w.write(w.zero[:2*blockSize])
}

func (w *Writer) check() error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("xva: writer is closed")
	}
	return nil
}

// write writes b; a failure is sticky.
func (w *Writer) write(b []byte) error {
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("xva: write: %w", err)
		return w.err
	}
	return nil
}

// allZero reports whether b holds only zero bytes.
func (w *Writer) allZero(b []byte) bool {
	for len(b) > 0 {
		n := min(len(b), len(w.zero))
		if !bytes.Equal(b[:n], w.zero[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}
