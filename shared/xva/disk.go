package xva

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cespare/xxhash/v2"
)

// diskReader hands out one disk's bytes: XAPI's recv_all_vdi, one chunk at
// a time.
type diskReader struct {
	r      *Reader
	d      DiskRef
	loaded int64  // disk bytes covered by the chunks read so far
	last   string // the last chunk suffix, compared as a string
	lastN  int64
	zeros  int64  // zero bytes (a numbering gap) to hand out first
	data   []byte // then the verified bytes of the last chunk
	err    error
}

func (dr *diskReader) Read(p []byte) (int, error) {
	if err := dr.fill(); err != nil {
		return 0, err
	}
	if dr.zeros > 0 {
		n := int(min(int64(len(p)), dr.zeros))
		clear(p[:n])
		dr.zeros -= int64(n)
		return n, nil
	}
	n := copy(p, dr.data)
	dr.data = dr.data[n:]
	return n, nil
}

// WriteTo writes the rest of the disk to w without an extra copy.
func (dr *diskReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if err := dr.fill(); err == io.EOF {
			return total, nil
		} else if err != nil {
			return total, err
		}
		for dr.zeros > 0 {
			z := dr.r.zeroBuf()
			n, err := w.Write(z[:min(int64(len(z)), dr.zeros)])
			total += int64(n)
			dr.zeros -= int64(n)
			if err != nil {
				return total, err
			}
		}
		n, err := w.Write(dr.data)
		total += int64(n)
		dr.data = dr.data[n:]
		if err != nil {
			return total, err
		}
	}
}

// fill loads the next chunk when nothing is pending; io.EOF at the end.
func (dr *diskReader) fill() error {
	for dr.zeros == 0 && len(dr.data) == 0 {
		if dr.err != nil {
			return dr.err
		}
		if dr.loaded == dr.d.Size {
			return io.EOF
		}
		if dr.r.cur != dr {
			return fmt.Errorf("xva: disk %q: read after NextDisk moved on", dr.d.ID)
		}
		if err := dr.load(); err != nil {
			dr.err, dr.r.err = err, err
			return err
		}
	}
	return nil
}

// load reads the next chunk entry and its checksum entry.
func (dr *diskReader) load() error {
	r, d := dr.r, dr.d
	e, err := r.nextEntry()
	if errors.Is(err, io.EOF) || errors.Is(err, errEnd) {
		return wrapErr(ErrFormat, io.ErrUnexpectedEOF, "disk %q: archive ends at byte %d of %d", d.ID, dr.loaded, d.Size)
	}
	if err != nil {
		return err
	}
	n, suffix, err := dr.chunkNumber(e)
	if err != nil {
		return err
	}
	if r.firstLen < 0 {
		r.firstLen = e.size // XAPI sizes every gap by the archive's first chunk
	}
	zeros, err := dr.gapBytes(e, n)
	if err != nil {
		return err
	}
	if e.size > d.Size-dr.loaded-zeros {
		return formatErr("entry %q: chunk of %d bytes at byte %d overruns disk %q of %d bytes", e.name, e.size, dr.loaded+zeros, d.ID, d.Size)
	}
	data, err := r.readData(e, MaxChunkSize)
	if err != nil {
		return err
	}
	if err := r.verify(e, data); err != nil {
		return err
	}
	dr.loaded += zeros + e.size
	dr.last, dr.lastN = suffix, n
	dr.zeros, dr.data = zeros, data
	return nil
}

// chunkNumber checks that e is the next chunk of the disk and returns its
// number and name suffix.
func (dr *diskReader) chunkNumber(e entry) (int64, string, error) {
	prefix := dr.d.ID + "/"
	suffix, ok := strings.CutPrefix(e.name, prefix)
	if !ok {
		return 0, "", formatErr("entry %q: expected a chunk of disk %q (at byte %d of %d)", e.name, dr.d.ID, dr.loaded, dr.d.Size)
	}
	n, err := strconv.ParseInt(suffix, 10, 64)
	if err != nil || n < 0 || strings.Trim(suffix, "0123456789") != "" {
		return 0, "", formatErr("entry %q: expected a chunk of disk %q named %s<number>", e.name, dr.d.ID, prefix)
	}
	if suffix <= dr.last || n <= dr.lastN {
		return 0, "", formatErr("entry %q: chunk out of order: it follows %q", e.name, prefix+dr.last)
	}
	return n, suffix, nil
}

// gapBytes is the number of zero bytes the numbering gap before chunk n
// stands for: one first-chunk size per missing number.
func (dr *diskReader) gapBytes(e entry, n int64) (int64, error) {
	gap := n - dr.lastN - 1
	if gap == 0 || dr.r.firstLen == 0 {
		return 0, nil
	}
	if gap > (dr.d.Size-dr.loaded)/dr.r.firstLen {
		return 0, formatErr("entry %q: gap of %d chunks of %d bytes after byte %d overruns disk %q of %d bytes",
			e.name, gap, dr.r.firstLen, dr.loaded, dr.d.ID, dr.d.Size)
	}
	return gap * dr.r.firstLen, nil
}

// verify reads the checksum entry that must follow chunk e and compares it,
// as a string, with the checksum of data.
func (r *Reader) verify(e entry, data []byte) error {
	c, err := r.nextEntry()
	if errors.Is(err, io.EOF) || errors.Is(err, errEnd) {
		return wrapErr(ErrFormat, io.ErrUnexpectedEOF, "entry %q: archive ends before its checksum", e.name)
	}
	if err != nil {
		return err
	}
	var kind, got string
	switch c.name {
	case e.name + ".xxhash":
		kind, got = "xxhash", fmt.Sprintf("%016X", xxhash.Sum64(data))
	case e.name + ".checksum":
		sum := sha1.Sum(data)
		kind, got = "sha1", hex.EncodeToString(sum[:])
	default:
		return formatErr("entry %q: expected %q or %q", c.name, e.name+".xxhash", e.name+".checksum")
	}
	want, err := r.readSum(c)
	if err != nil {
		return err
	}
	if got != string(want) {
		return &archiveError{errs: []error{ErrChecksum},
			msg: fmt.Sprintf("xva: entry %q: %s mismatch: got %s want %q", e.name, kind, got, want)}
	}
	return nil
}

// zeroBuf returns a buffer of zeros for writing gaps.
func (r *Reader) zeroBuf() []byte {
	if r.zero == nil {
		r.zero = make([]byte, 256<<10)
	}
	return r.zero
}
