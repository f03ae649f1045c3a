package repo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// manifestReader parses a manifest as a stream: the header first, then each disk's chunk
// entries on demand, so a manifest is never held whole in memory.
type manifestReader struct {
	dec   *json.Decoder
	src   *readErrs
	lim   *limitReader
	keyed bool // entries carry the chunk's SHA-256 beside its keyed id
	m     Manifest
	disk  int   // the disk whose ids next returns; -1 before the first
	left  int64 // ids of that disk not read yet
}

// limitReader fails once more than n bytes were read while limited.
type limitReader struct {
	r       io.Reader
	n       int64
	limited bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	k, err := l.r.Read(p)
	if l.limited {
		l.n -= int64(k)
		if l.n < 0 {
			return k, fmt.Errorf("%w: manifest header larger than %d bytes", ErrCorrupt, maxHeader)
		}
	}
	return k, err
}

// readManifest parses the header of the manifest in r and stops before the chunk ids.
// keyed says the repository's ids are keyed (encrypted): every stored chunk's entry then
// carries its SHA-256.
// src, when not nil, records the errors of the stored object's reader under r (under its
// decryption); else r's own are recorded.
func readManifest(r io.Reader, keyed bool, src *readErrs) (*manifestReader, error) {
	if src == nil {
		src = &readErrs{r: r}
		r = src
	}
	lim := &limitReader{r: r, n: maxHeader, limited: true}
	mr := &manifestReader{dec: json.NewDecoder(lim), src: src, lim: lim, keyed: keyed, disk: -1}
	if err := mr.header(); err != nil {
		return nil, mr.corrupt(err)
	}
	lim.limited = false
	return mr, nil
}

// corrupt marks a parse error as ErrCorrupt, unless reading the manifest failed: a read cut
// short (a network or disk error) is that error, which a caller may retry, not a damaged
// manifest.
func (mr *manifestReader) corrupt(err error) error {
	switch {
	case err == nil:
		return nil
	case mr.src.err != nil: // whatever failed after, the transfer did first
		return fmt.Errorf("manifest: read: %w", mr.src.err)
	case errors.Is(err, ErrCorrupt):
		return err
	}
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}

// readErrs remembers the first error of the reader it wraps other than io.EOF and
// ErrCorrupt. Under a manifest's decryption it sees the stored object's own reads, so a
// transfer cut short (io.ErrUnexpectedEOF from an HTTP body, a reset) is told from a
// stored object that is short (a clean io.EOF), which decryption alone cannot.
type readErrs struct {
	r   io.Reader
	err error
}

func (e *readErrs) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && !errors.Is(err, ErrCorrupt) && e.err == nil {
		e.err = err
	}
	return n, err
}

func (mr *manifestReader) header() error {
	if err := mr.delim('{'); err != nil {
		return err
	}
	seen := map[string]bool{}
	for {
		tok, err := mr.dec.Token()
		if err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("manifest: unexpected %v where a field name belongs", tok)
		}
		if seen[key] {
			return fmt.Errorf("manifest: field %q twice", clip(key))
		}
		seen[key] = true
		if key == "chunk_ids" {
			if err := mr.m.Validate(); err != nil {
				return err
			}
			return mr.delim('[')
		}
		if err := mr.field(key); err != nil {
			return err
		}
	}
}

func (mr *manifestReader) field(key string) error {
	var dst any
	switch key {
	case "format":
		dst = &mr.m.Format
	case "version":
		dst = &mr.m.Version
	case "vm_uuid":
		dst = &mr.m.VM
	case "time":
		dst = &mr.m.Time
	case "vm":
		dst = &mr.m.Records
	case "disks":
		dst = &mr.m.Disks
	default:
		return fmt.Errorf("manifest: unknown field %q", clip(key))
	}
	if err := mr.dec.Decode(dst); err != nil {
		return fmt.Errorf("manifest: field %s: %w", key, err)
	}
	return nil
}

func (mr *manifestReader) delim(want json.Delim) error {
	tok, err := mr.dec.Token()
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("manifest: unexpected %v, want %v", tok, want)
	}
	return nil
}

// nextDisk moves to the next disk's ids, skipping what is left of the current one, and
// returns its index; io.EOF after the last disk (the manifest's end checked).
func (mr *manifestReader) nextDisk() (int, error) {
	for mr.disk >= 0 && mr.left > 0 {
		if _, err := mr.next(); err != nil {
			return 0, err
		}
	}
	if mr.disk >= 0 {
		if err := mr.delim(']'); err != nil {
			return 0, mr.corrupt(fmt.Errorf("disk %d: more chunk ids than its %d chunks: %w", mr.disk, mr.m.Disks[mr.disk].Chunks, err))
		}
	}
	mr.disk++
	if mr.disk == len(mr.m.Disks) {
		return 0, mr.end()
	}
	mr.left = mr.m.Disks[mr.disk].Chunks
	return mr.disk, mr.corrupt(mr.delim('['))
}

// end checks that the manifest ends after the last disk.
func (mr *manifestReader) end() error {
	if err := mr.delim(']'); err != nil {
		return mr.corrupt(fmt.Errorf("more chunk lists than %d disks: %w", len(mr.m.Disks), err))
	}
	if err := mr.delim('}'); err != nil {
		return mr.corrupt(err)
	}
	if _, err := mr.dec.Token(); err != io.EOF {
		return mr.corrupt(errors.New("manifest: data after its end"))
	}
	return io.EOF
}

// seekDisk moves to disk i's ids.
func (mr *manifestReader) seekDisk(i int) error {
	if i < 0 || i >= len(mr.m.Disks) || i <= mr.disk {
		return fmt.Errorf("manifest of %s: no disk %d after disk %d", mr.m.Point(), i, mr.disk)
	}
	for mr.disk < i {
		if _, err := mr.nextDisk(); err != nil {
			return err
		}
	}
	return nil
}

// next returns the current disk's next chunk entry (zeroID for a zero chunk), or io.EOF
// once all of its entries were read.
func (mr *manifestReader) next() (entry, error) {
	if mr.disk < 0 || mr.left == 0 {
		return entry{}, io.EOF
	}
	tok, err := mr.dec.Token()
	if err != nil {
		return entry{}, mr.corrupt(fmt.Errorf("manifest: disk %d: %w", mr.disk, err))
	}
	s, ok := tok.(string)
	if !ok {
		return entry{}, mr.corrupt(fmt.Errorf("manifest: disk %d: %d chunk ids short (found %v)", mr.disk, mr.left, tok))
	}
	mr.left--
	if s == zeroMark {
		return entry{}, nil
	}
	e, err := parseEntry(s, mr.keyed)
	if err != nil {
		err = fmt.Errorf("manifest: disk %d: chunk %d: %w", mr.disk, mr.m.Disks[mr.disk].Chunks-mr.left-1, err)
	}
	return e, mr.corrupt(err)
}

// parseEntry parses a stored chunk's entry: "<id>", or "<id>:<sha256>" when keyed.
func parseEntry(s string, keyed bool) (entry, error) {
	idText, sumText, found := strings.Cut(s, ":")
	if found != keyed {
		return entry{}, fmt.Errorf("chunk entry %q: want %s", clip(s), map[bool]string{false: "an id alone (plain repository)", true: "<id>:<sha256> (encrypted repository)"}[keyed])
	}
	id, err := ParseChunkID(idText)
	if err == nil && id == zeroID {
		err = errors.New("chunk id of zeros is reserved")
	}
	if err != nil {
		return entry{}, err
	}
	e := entry{id: id, sum: id}
	if keyed {
		sum, err := ParseChunkID(sumText)
		if err != nil {
			return entry{}, fmt.Errorf("chunk sha256: %w", err)
		}
		e.sum = sum
	}
	return e, nil
}
