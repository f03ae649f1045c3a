package repo

import (
	"bufio"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Manifests can be larger than memory should hold (a 2 TiB disk has two million chunk ids),
// so an encrypted manifest is sealed in segments (the STREAM construction): a random nonce
// prefix, then segments of segmentSize plaintext bytes, each sealed under the nonce
// prefix‖counter‖last-flag with the manifest's key as associated data. Reordered,
// truncated, extended or moved manifests fail to open.
const (
	segmentSize = 64 << 10
	prefixSize  = chacha20NonceX - 5
	// chacha20NonceX is XChaCha20-Poly1305's nonce size.
	chacha20NonceX = 24
)

// sealWriter encrypts a stream into w.
type sealWriter struct {
	w      io.Writer
	aead   cipher.AEAD
	ad     []byte
	prefix [prefixSize]byte
	n      uint32
	buf    []byte
	out    []byte
}

func newSealWriter(w io.Writer, aead cipher.AEAD, ad string) (*sealWriter, error) {
	s := &sealWriter{w: w, aead: aead, ad: []byte(ad), buf: make([]byte, 0, segmentSize)}
	if _, err := rand.Read(s.prefix[:]); err != nil {
		return nil, fmt.Errorf("manifest nonce: %w", err)
	}
	if _, err := w.Write(s.prefix[:]); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *sealWriter) nonce(last bool) []byte {
	return streamNonce(s.prefix[:], s.n, last)
}

func streamNonce(prefix []byte, n uint32, last bool) []byte {
	nonce := make([]byte, 0, chacha20NonceX)
	nonce = append(nonce, prefix...)
	nonce = binary.BigEndian.AppendUint32(nonce, n)
	if last {
		return append(nonce, 1)
	}
	return append(nonce, 0)
}

// Write buffers p; a full segment is sealed once more data follows it.
func (s *sealWriter) Write(p []byte) (int, error) {
	total := len(p)
	for len(p) > 0 {
		if len(s.buf) == segmentSize {
			if err := s.flush(false); err != nil {
				return total - len(p), err
			}
		}
		k := copy(s.buf[len(s.buf):segmentSize], p)
		s.buf = s.buf[:len(s.buf)+k]
		p = p[k:]
	}
	return total, nil
}

func (s *sealWriter) flush(last bool) error {
	if s.n == ^uint32(0) {
		return errors.New("manifest: too many segments")
	}
	s.out = s.aead.Seal(s.out[:0], s.nonce(last), s.buf, s.ad)
	s.n++
	s.buf = s.buf[:0]
	_, err := s.w.Write(s.out)
	return err
}

// Close seals the last segment (possibly empty). It does not close w.
func (s *sealWriter) Close() error { return s.flush(true) }

// openReader decrypts a stream sealed by sealWriter; every error wraps ErrCorrupt.
type openReader struct {
	r      *bufio.Reader
	aead   cipher.AEAD
	ad     []byte
	prefix []byte
	n      uint32
	in     []byte
	plain  []byte
	done   bool
}

func newOpenReader(r io.Reader, aead cipher.AEAD, ad string) (*openReader, error) {
	o := &openReader{r: bufio.NewReaderSize(r, segmentSize+64), aead: aead, ad: []byte(ad),
		prefix: make([]byte, prefixSize), in: make([]byte, segmentSize+aead.Overhead())}
	if _, err := io.ReadFull(o.r, o.prefix); err != nil {
		return nil, fmt.Errorf("%w: encrypted manifest shorter than its header: %v", ErrCorrupt, err)
	}
	return o, nil
}

func (o *openReader) Read(p []byte) (int, error) {
	for len(o.plain) == 0 {
		if o.done {
			return 0, io.EOF
		}
		if err := o.next(); err != nil {
			return 0, err
		}
	}
	k := copy(p, o.plain)
	o.plain = o.plain[k:]
	return k, nil
}

// next opens the next segment; the last one is the one the stream ends after.
func (o *openReader) next() error {
	k, err := io.ReadFull(o.r, o.in)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	last := k < len(o.in)
	if !last {
		if _, perr := o.r.Peek(1); errors.Is(perr, io.EOF) {
			last = true
		} else if perr != nil {
			return perr
		}
	}
	plain, err := o.aead.Open(o.in[:0:0], streamNonce(o.prefix, o.n, last), o.in[:k], o.ad)
	if err != nil {
		return fmt.Errorf("%w: manifest segment %d does not decrypt (damaged, truncated, or not this repository's key)", ErrCorrupt, o.n)
	}
	o.n++
	o.plain, o.done = plain, last
	return nil
}
