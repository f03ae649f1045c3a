package restore

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync/atomic"
)

// ErrChecksum: the backup's bytes do not match the checksum recorded with it.
var ErrChecksum = errors.New("checksum mismatch")

// ErrTruncated: the backup is shorter (or longer) than its metadata says.
var ErrTruncated = errors.New("backup size does not match its metadata")

// Verification defaults.
const (
	DefaultHoldBack = 1 << 20 // bytes withheld until the digest is verified
	minReadSize     = 64 << 10
)

// check is a digest a backup is verified against.
type check struct {
	name string // "sha256", "md5"
	sum  hash.Hash
	want []byte
}

// verifier streams src through, hashing it, but withholds the last hold bytes
// until src has ended, its length matches size and its digest matches. A
// mismatch is returned by Read instead of those bytes, so the reader on the
// other side (XAPI's import) never sees a complete archive of a bad backup.
type verifier struct {
	src io.Reader
	chk *check // nil: nothing to verify here (XAPI verifies the chunks)
	// hashed: src already feeds chk.sum (a hashAhead), so fill does not.
	hashed bool
	size   int64 // expected length; -1 unknown
	hold   int

	buf  []byte
	r, w int // pending bytes are buf[r:w]
	read int64
	eof  bool
	done bool // src ended and everything checked
	err  error

	released *atomic.Int64 // bytes handed out: the progress
}

func newVerifier(src io.Reader, chk *check, size int64, hold int, released *atomic.Int64) *verifier {
	if hold <= 0 {
		hold = DefaultHoldBack
	}
	// Reads of 3x the withheld bytes keep the copying of the withheld tail
	// to the front of the buffer at a third of the bytes streamed.
	return &verifier{src: src, chk: chk, size: size, hold: hold,
		buf: make([]byte, hold+max(3*hold, minReadSize)), released: released}
}

// Read implements io.Reader.
func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	for !v.eof && v.w-v.r <= v.hold {
		if err := v.fill(); err != nil {
			v.err = err
			return 0, err
		}
	}
	if v.eof && !v.done {
		if err := v.finish(); err != nil {
			v.err = err
			return 0, err
		}
		v.done = true
	}
	avail := v.w - v.r
	if !v.done {
		avail -= v.hold
	}
	if avail == 0 {
		return 0, io.EOF
	}
	n := copy(p, v.buf[v.r:v.r+avail])
	v.r += n
	v.released.Add(int64(n))
	return n, nil
}

// fill reads once from src into the free end of buf, moving the withheld
// bytes to the front first when the end is full.
func (v *verifier) fill() error {
	if v.w == len(v.buf) {
		v.w = copy(v.buf, v.buf[v.r:v.w])
		v.r = 0
	}
	n, err := v.src.Read(v.buf[v.w:])
	if n > 0 {
		if v.chk != nil && !v.hashed {
			v.chk.sum.Write(v.buf[v.w : v.w+n])
		}
		v.w += n
		v.read += int64(n)
		if v.size >= 0 && v.read > v.size {
			return fmt.Errorf("%w: more than the %d bytes recorded", ErrTruncated, v.size)
		}
	}
	switch {
	case errors.Is(err, io.EOF):
		v.eof = true
	case err != nil:
		return &sourceError{err: err}
	}
	return nil
}

// finish checks the length and the digest once src has ended.
func (v *verifier) finish() error {
	if v.size >= 0 && v.read != v.size {
		return fmt.Errorf("%w: %d bytes read, %d recorded (truncated)", ErrTruncated, v.read, v.size)
	}
	if v.chk == nil {
		return nil
	}
	if got := v.chk.sum.Sum(nil); subtle.ConstantTimeCompare(got, v.chk.want) != 1 {
		return fmt.Errorf("%w: %s of the backup is %x, its metadata records %x", ErrChecksum, v.chk.name, got, v.chk.want)
	}
	return nil
}

// sourceError is a failure to read the backup from its remote (retryable),
// as opposed to a backup that is wrong.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return "read the backup: " + e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }
