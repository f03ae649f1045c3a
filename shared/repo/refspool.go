package repo

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// refSpool gathers the chunk ids a mark finds on local disk, so that marking holds a few
// buffers rather than every id: its memory does not grow with the chunks of a VM or of the
// repository. The ids are kept by shard (the id's first byte, as chunks/<2 hex>/ on the
// remote): each shard fills a buffer of its own, written to one unlinked temp file as a
// segment when full. A shard's ids are read back, sorted and deduplicated only when that
// shard is swept or verified: 1/256 of the ids at a time.
//
// Consecutive restore points of a VM name mostly the same ids at the same places, so the
// spool would hold each unchanged chunk once per point; a mark feeds each manifest's
// references through a run (see newRun), which leaves out an id the VM's previous point,
// marked just before, had at the same disk and chunk index. The spool then holds about
// the distinct chunks plus each point's changes.
type refSpool struct {
	dir   string
	f     *os.File // created at the first full segment
	end   int64
	buf   [256][]byte  // each shard's ids not yet written
	segs  [256][]int64 // the file offsets of each shard's segments, spoolSegment bytes each
	n     [256]int64   // ids per shard
	spare *refTrail    // a trail to reuse: two alternate through a mark
}

// spoolSegment is the size of a shard's buffer and of its segments in the file (128 ids):
// the buffers of all 256 shards make 1 MiB.
const spoolSegment = 4 << 10

func newRefSpool(dir string) *refSpool { return &refSpool{dir: dir} }

// add adds id to its shard.
func (s *refSpool) add(id ChunkID) error {
	b := id[0]
	if s.buf[b] == nil {
		s.buf[b] = make([]byte, 0, spoolSegment)
	}
	s.buf[b] = append(s.buf[b], id[:]...)
	s.n[b]++
	if len(s.buf[b]) < spoolSegment {
		return nil
	}
	if s.f == nil {
		f, err := openSpool(s.dir)
		if err != nil {
			return fmt.Errorf("chunk id spool: %w", err)
		}
		s.f = f
	}
	if _, err := s.f.WriteAt(s.buf[b], s.end); err != nil {
		return fmt.Errorf("chunk id spool: %w", err)
	}
	s.segs[b] = append(s.segs[b], s.end)
	s.end += spoolSegment
	s.buf[b] = s.buf[b][:0]
	return nil
}

// shard returns the distinct ids of shard b, sorted, in buf's storage when it is large
// enough. Later adds to the shard are not seen by this result but by the next call.
func (s *refSpool) shard(b byte, buf []ChunkID) ([]ChunkID, error) {
	n := s.n[b]
	if int64(cap(buf)) < n {
		buf = make([]ChunkID, n)
	}
	ids := buf[:n]
	const per = spoolSegment / len(ChunkID{})
	seg := make([]byte, spoolSegment)
	for i, off := range s.segs[b] {
		if _, err := s.f.ReadAt(seg, off); err != nil {
			return nil, fmt.Errorf("chunk id spool: shard %02x: %w", b, err)
		}
		for k := range per {
			copy(ids[i*per+k][:], seg[k*len(ChunkID{}):])
		}
	}
	tail := ids[len(s.segs[b])*per:]
	for k := range tail {
		copy(tail[k][:], s.buf[b][k*len(ChunkID{}):])
	}
	slices.SortFunc(ids, compareIDs)
	return slices.Compact(ids), nil
}

// close removes the spool's file (unlinked already: closing it frees the space).
func (s *refSpool) close() error {
	var err error
	if s.f != nil {
		err = s.f.Close()
		s.f = nil
	}
	return errors.Join(err, s.spare.close())
}

// refRun feeds one manifest's references into a spool, leaving out those the previous
// manifest of the same VM had at the same disk and chunk index (and so were spooled, or
// left out for the same reason, by that manifest's run). It records this manifest's
// references, in order, in a local file for the next manifest's run.
type refRun struct {
	s    *refSpool
	prev *refTrail // nil: nothing to compare with
	cur  *refTrail
}

// newRun starts the run of a manifest; prev is the trail of the previous manifest of the
// same VM, marked completely into this spool just before, or nil.
func (s *refSpool) newRun(prev *refTrail) (*refRun, error) {
	cur, err := s.trail()
	if err != nil {
		return nil, err
	}
	if prev != nil {
		if err := prev.rewind(); err != nil {
			return nil, errors.Join(err, cur.close())
		}
	}
	return &refRun{s: s, prev: prev, cur: cur}, nil
}

// add takes the reference to id at chunk k of disk (in increasing disk, then k, order).
func (r *refRun) add(disk int, k int64, id ChunkID) error {
	if err := r.cur.write(disk, k, id); err != nil {
		return err
	}
	if r.prev != nil {
		same, err := r.prev.has(disk, k, id)
		if err != nil {
			return err
		}
		if same {
			return nil
		}
	}
	return r.s.add(id)
}

// trail is an empty trail: the spare one, or a new one.
func (s *refSpool) trail() (*refTrail, error) {
	t := s.spare
	if t == nil {
		return newRefTrail(s.dir)
	}
	s.spare = nil
	if err := t.f.Truncate(0); err != nil {
		return nil, errors.Join(fmt.Errorf("chunk id spool: %w", err), t.close())
	}
	if _, err := t.f.Seek(0, io.SeekStart); err != nil {
		return nil, errors.Join(fmt.Errorf("chunk id spool: %w", err), t.close())
	}
	t.w.Reset(t.f)
	return t, nil
}

// drop is done with t: it becomes the spare, or is closed.
func (s *refSpool) drop(t *refTrail) {
	if t == nil {
		return
	}
	if s.spare == nil {
		s.spare = t
		return
	}
	_ = t.close()
}

// refTrail is a manifest's references, (disk, chunk index, id) in order, in an unlinked
// temp file: written once, then read forward by the next manifest's run.
type refTrail struct {
	f   *os.File
	w   *bufio.Writer
	r   *bufio.Reader
	rec [refRecord]byte
	// the next record ahead of the reader, when peeked
	disk   int
	k      int64
	id     ChunkID
	peeked bool
	eof    bool
}

const refRecord = 4 + 8 + 32

func newRefTrail(dir string) (*refTrail, error) {
	f, err := openSpool(dir)
	if err != nil {
		return nil, fmt.Errorf("chunk id spool: %w", err)
	}
	return &refTrail{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

func (t *refTrail) write(disk int, k int64, id ChunkID) error {
	binary.BigEndian.PutUint32(t.rec[:4], uint32(disk))
	binary.BigEndian.PutUint64(t.rec[4:12], uint64(k))
	copy(t.rec[12:], id[:])
	if _, err := t.w.Write(t.rec[:]); err != nil {
		return fmt.Errorf("chunk id spool: %w", err)
	}
	return nil
}

// rewind ends the writing and starts reading from the first record.
func (t *refTrail) rewind() error {
	if err := t.w.Flush(); err != nil {
		return fmt.Errorf("chunk id spool: %w", err)
	}
	if _, err := t.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("chunk id spool: %w", err)
	}
	t.r, t.peeked, t.eof = bufio.NewReaderSize(t.f, 64<<10), false, false
	return nil
}

// has reports whether the trail holds id at (disk, k), reading forward past the records
// before it; the calls must come in increasing (disk, k) order.
func (t *refTrail) has(disk int, k int64, id ChunkID) (bool, error) {
	for !t.eof {
		if !t.peeked {
			if _, err := io.ReadFull(t.r, t.rec[:]); err == io.EOF {
				t.eof = true
				break
			} else if err != nil {
				return false, fmt.Errorf("chunk id spool: %w", err)
			}
			t.disk = int(binary.BigEndian.Uint32(t.rec[:4]))
			t.k = int64(binary.BigEndian.Uint64(t.rec[4:12]))
			copy(t.id[:], t.rec[12:])
			t.peeked = true
		}
		switch {
		case t.disk < disk || t.disk == disk && t.k < k:
			t.peeked = false // behind: read on
		case t.disk == disk && t.k == k:
			t.peeked = false
			return t.id == id, nil
		default:
			return false, nil // ahead: keep it for a later call
		}
	}
	return false, nil
}

func (t *refTrail) close() error {
	if t == nil {
		return nil
	}
	return t.f.Close()
}

// refMarker spools the references of manifests one after the other, each compared with
// the previous one's trail when both are of the same VM.
type refMarker struct {
	spool   *refSpool
	digests bool      // check each disk's image digest against its chunk list (verify)
	prev    *refTrail // the trail of the manifest marked just before, complete
	vm      string
}

// point spools the references of p's manifest. On an error nothing is compared with p.
func (m *refMarker) point(ctx context.Context, rp *Repo, p Point) error {
	var base *refTrail
	if m.prev != nil && m.vm == p.VM {
		base = m.prev
	}
	run, err := m.spool.newRun(base)
	if err == nil {
		err = rp.walkRefs(ctx, p, m.digests, run.add)
	}
	m.skip()
	if err != nil {
		if run != nil {
			m.spool.drop(run.cur)
		}
		return err
	}
	m.prev, m.vm = run.cur, p.VM
	return nil
}

// skip forgets the previous manifest: the next one is not compared with it.
func (m *refMarker) skip() {
	m.spool.drop(m.prev)
	m.prev = nil
}
