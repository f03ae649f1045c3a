package compress

import (
	"bufio"
	"fmt"
	"io"
	"runtime"

	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
)

// Codec names a whole-stream compression.
type Codec string

// The codecs XAPI's /export offers (use_compression=false|gzip|zstd).
const (
	None Codec = "none"
	Gzip Codec = "gzip"
	Zstd Codec = "zstd"
)

// ParseCodec parses a codec name: "none", "gzip" or "zstd".
func ParseCodec(s string) (Codec, error) {
	switch c := Codec(s); c {
	case None, Gzip, Zstd:
		return c, nil
	}
	return "", fmt.Errorf("compress: unknown codec %q (want none, gzip or zstd)", s)
}

// Detect names the codec whose magic starts prefix: gzip 1F 8B, zstd
// 28 B5 2F FD, else None.
func Detect(prefix []byte) Codec {
	switch {
	case len(prefix) >= 2 && prefix[0] == 0x1f && prefix[1] == 0x8b:
		return Gzip
	case len(prefix) >= 4 && prefix[0] == 0x28 && prefix[1] == 0xb5 && prefix[2] == 0x2f && prefix[3] == 0xfd:
		return Zstd
	}
	return None
}

// maxZstdWindow bounds the memory a hostile zstd frame can make the decoder
// allocate; zstd's own levels (without --long) stay far below it.
const maxZstdWindow = 128 << 20

// NewReader sniffs the magic at the start of r without losing bytes and
// returns a reader of the decompressed stream and the codec it found.
func NewReader(r io.Reader) (io.ReadCloser, Codec, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	prefix, err := br.Peek(4)
	if err != nil && err != io.EOF {
		return nil, "", fmt.Errorf("compress: sniff magic: %w", err)
	}
	switch c := Detect(prefix); c {
	case Gzip:
		zr, err := pgzip.NewReader(br)
		if err != nil {
			return nil, "", fmt.Errorf("compress: gzip header: %w", err)
		}
		return zr, c, nil
	case Zstd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return nil, "", fmt.Errorf("compress: zstd: %w", err)
		}
		return zr.IOReadCloser(), c, nil
	default:
		return io.NopCloser(br), None, nil
	}
}

// WriterOptions tunes a compressing writer; the zero value means defaults.
type WriterOptions struct {
	// Level is the codec's own level: gzip 1..9 (default 6), zstd 1..22
	// (default: the encoder's SpeedDefault, about zstd level 3).
	Level int
	// Concurrency is the number of goroutines compressing (default
	// GOMAXPROCS).
	Concurrency int
}

// gzipBlock is pgzip's block size: 1 MiB blocks measured ~570 MB/s on 2
// cores at level 6 (what-works-here §5).
const gzipBlock = 1 << 20

// NewWriter returns a writer that compresses into w with codec c. Close
// flushes it and does not close w.
func NewWriter(w io.Writer, c Codec, opts WriterOptions) (io.WriteCloser, error) {
	conc := opts.Concurrency
	if conc <= 0 {
		conc = runtime.GOMAXPROCS(0)
	}
	switch c {
	case None:
		return nopWriteCloser{w}, nil
	case Gzip:
		return newGzip(w, opts.Level, conc)
	case Zstd:
		return newZstd(w, opts.Level, conc)
	}
	return nil, fmt.Errorf("compress: unknown codec %q", c)
}

func newGzip(w io.Writer, level, conc int) (io.WriteCloser, error) {
	if level == 0 {
		level = 6 // gzip's default; pgzip.DefaultCompression is -1
	}
	if level < pgzip.BestSpeed || level > pgzip.BestCompression {
		return nil, fmt.Errorf("compress: gzip level %d out of range 1..9", level)
	}
	zw, err := pgzip.NewWriterLevel(w, level)
	if err != nil {
		return nil, fmt.Errorf("compress: gzip: %w", err)
	}
	// Two blocks in flight per goroutine keep every core busy while one
	// block is being written out.
	if err := zw.SetConcurrency(gzipBlock, 2*conc); err != nil {
		return nil, fmt.Errorf("compress: gzip: %w", err)
	}
	return zw, nil
}

func newZstd(w io.Writer, level, conc int) (io.WriteCloser, error) {
	enc := zstd.SpeedDefault
	if level != 0 {
		if level < 1 || level > 22 {
			return nil, fmt.Errorf("compress: zstd level %d out of range 1..22", level)
		}
		enc = zstd.EncoderLevelFromZstd(level)
	}
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(enc), zstd.WithEncoderConcurrency(conc))
	if err != nil {
		return nil, fmt.Errorf("compress: zstd: %w", err)
	}
	return zw, nil
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
