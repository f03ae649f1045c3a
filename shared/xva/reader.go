package xva

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"

	"xbr/shared/compress"
)

// Limits that keep a hostile archive from making the reader allocate much.
const (
	// MaxOVASize bounds the ova.xml entry.
	MaxOVASize = 32 << 20
	// MaxChunkSize bounds one chunk entry; XAPI and XO write 1 MiB.
	MaxChunkSize = 16 << 20
	// maxSumSize bounds a checksum entry (16 or 40 bytes in practice).
	maxSumSize = 128
)

// errEnd reports the end-of-archive marker (two zero blocks).
var errEnd = errors.New("end of archive")

// Reader reads an XVA stream sequentially: NewReader reads ova.xml, then
// NextDisk hands out each disk in stream order.
type Reader struct {
	src      io.ReadCloser
	br       *bufio.Reader
	codec    compress.Codec
	header   *Header
	disks    []DiskRef
	next     int
	cur      *diskReader
	firstLen int64
	block    [blockSize]byte
	buf      []byte
	sum      [maxSumSize]byte
	zero     []byte
	err      error
}

// NewReader detects gzip, zstd or a plain tar by magic, and reads and parses
// ova.xml, which must be the first entry.
func NewReader(r io.Reader) (*Reader, error) {
	src, codec, err := compress.NewReader(sourceReader{r})
	if err != nil {
		return nil, (&Reader{}).inputErr(err, "stream start")
	}
	xr := &Reader{src: src, br: bufio.NewReaderSize(src, 64<<10), codec: codec, firstLen: -1}
	if err := xr.readOVA(); err != nil {
		_ = src.Close()
		return nil, err
	}
	return xr, nil
}

func (r *Reader) readOVA() error {
	e, err := r.nextEntry()
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, errEnd):
		return formatErr("archive has no entries (expected %s first)", OVAName)
	case err != nil:
		return err
	case e.name != OVAName:
		return formatErr("entry %q: expected %s first", e.name, OVAName)
	}
	data, err := r.readData(e, MaxOVASize)
	if err != nil {
		return err
	}
	if r.header, err = ParseOVA(data); err != nil {
		return err
	}
	r.buf = r.buf[:0]
	r.disks, err = r.header.Disks()
	return err
}

// Header returns the parsed ova.xml.
func (r *Reader) Header() *Header { return r.header }

// Disks returns the disks NextDisk will hand out, in order.
func (r *Reader) Disks() []DiskRef { return r.disks }

// Codec reports the compression detected on the stream.
func (r *Reader) Codec() compress.Codec { return r.codec }

// NextDisk returns the next disk and a reader of exactly its Size bytes,
// each chunk verified against its checksum before it is handed out. The
// rest of the previous disk, if unread, is read and verified first. After
// the last disk it checks the end of the archive and returns io.EOF.
func (r *Reader) NextDisk() (DiskRef, io.Reader, error) {
	if r.err != nil {
		return DiskRef{}, nil, r.err
	}
	if r.cur != nil {
		if _, err := io.Copy(io.Discard, r.cur); err != nil {
			return DiskRef{}, nil, err
		}
		r.cur = nil
	}
	if r.next == len(r.disks) {
		r.err = r.expectEnd()
		return DiskRef{}, nil, r.err
	}
	d := r.disks[r.next]
	r.next++
	r.cur = &diskReader{r: r, d: d, last: "-1", lastN: -1}
	return d, r.cur, nil
}

// expectEnd checks that the end-of-archive marker follows the last disk.
func (r *Reader) expectEnd() error {
	e, err := r.nextEntry()
	switch {
	case errors.Is(err, errEnd):
		return io.EOF
	case errors.Is(err, io.EOF):
		return wrapErr(ErrFormat, io.ErrUnexpectedEOF, "archive ends without its end-of-archive blocks")
	case err != nil:
		return err
	}
	return formatErr("entry %q: not part of any disk in ova.xml (expected the end of the archive)", e.name)
}

// Close releases the decompressor; it does not close the underlying reader.
func (r *Reader) Close() error {
	if r.err == nil {
		r.err = errors.New("xva: reader is closed")
	}
	return r.src.Close()
}

// nextEntry reads the next tar header. It returns io.EOF at a clean end of
// input, errEnd at the end-of-archive marker.
func (r *Reader) nextEntry() (entry, error) {
	for zeros := 0; ; zeros++ {
		_, err := io.ReadFull(r.br, r.block[:])
		switch {
		case err == io.EOF && zeros == 1:
			return entry{}, errEnd // a single zero block, then nothing
		case err == io.EOF:
			return entry{}, io.EOF
		case err != nil:
			return entry{}, r.inputErr(err, "reading a tar header")
		}
		if r.block != [blockSize]byte{} {
			return parseHeader(r.block[:])
		}
		if zeros == 1 {
			return entry{}, errEnd
		}
	}
}

// readData reads entry e (at most limit bytes) into r.buf and skips its
// padding. The buffer grows only as data actually arrives.
func (r *Reader) readData(e entry, limit int64) ([]byte, error) {
	if e.size > limit {
		return nil, formatErr("entry %q: size %d exceeds the limit of %d", e.name, e.size, limit)
	}
	r.buf = r.buf[:0]
	for int64(len(r.buf)) < e.size {
		if len(r.buf) == cap(r.buf) {
			r.buf = slices.Grow(r.buf, min(max(cap(r.buf), 64<<10), int(e.size)-len(r.buf)))
		}
		end := min(int64(cap(r.buf)), e.size)
		n, err := io.ReadFull(r.br, r.buf[len(r.buf):end])
		r.buf = r.buf[:len(r.buf)+n]
		if err != nil {
			return nil, r.inputErr(err, fmt.Sprintf("entry %q: reading byte %d of %d", e.name, len(r.buf), e.size))
		}
	}
	if err := r.skip(e); err != nil {
		return nil, err
	}
	return r.buf, nil
}

// readSum reads a checksum entry into r.sum.
func (r *Reader) readSum(e entry) ([]byte, error) {
	if e.size > maxSumSize {
		return nil, formatErr("entry %q: checksum entry of %d bytes is too large", e.name, e.size)
	}
	b := r.sum[:e.size]
	if _, err := io.ReadFull(r.br, b); err != nil {
		return nil, r.inputErr(err, fmt.Sprintf("entry %q", e.name))
	}
	return b, r.skip(e)
}

func (r *Reader) skip(e entry) error {
	if _, err := r.br.Discard(int(padding(e.size))); err != nil {
		return r.inputErr(err, fmt.Sprintf("entry %q: padding", e.name))
	}
	return nil
}

// inputErr names what was being read when the input failed. A failure of
// the underlying reader is passed on as it is (it may be transient); an EOF
// means the archive is truncated (ErrFormat and io.ErrUnexpectedEOF); any
// other error comes from the decompressor: a corrupt stream (ErrFormat).
func (r *Reader) inputErr(err error, what string) error {
	var se *sourceError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("xva: %s: %w", what, se.err)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return wrapErr(ErrFormat, io.ErrUnexpectedEOF, "%s", what)
	}
	return wrapErr(ErrFormat, err, "%s", what)
}

// sourceReader marks the errors of the underlying reader so they can be
// told apart from the decompressor's.
type sourceReader struct{ r io.Reader }

func (s sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		err = &sourceError{err}
	}
	return n, err
}

type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }
