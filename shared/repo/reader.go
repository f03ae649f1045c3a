package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
)

// ErrDiskDigest: a disk image read back does not match the image digest or the SHA-256
// its manifest records.
var ErrDiskDigest = errors.New("disk image does not match its digest")

// DiskReader streams a disk image of a restore point. Every chunk is checked against its id
// (and, in an encrypted repository, against the SHA-256 the manifest records beside it)
// before its bytes are returned; at the end, the whole image against the manifest's image
// digest, and against its flat SHA-256 when it has one (a mismatch is returned instead of
// io.EOF, so a consumer that stops only at io.EOF never takes a wrong image for a good
// one). Errors name the chunk id and its offset.
type DiskReader struct {
	disk   Disk
	cancel context.CancelFunc
	pr     *io.PipeReader
	done   chan struct{}
}

// OpenDisk starts streaming disk i of restore point p. Close it when done.
func (rp *Repo) OpenDisk(ctx context.Context, p Point, i int) (*DiskReader, error) {
	mr, closer, err := rp.openManifest(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := mr.seekDisk(i); err != nil {
		closer.Close()
		return nil, fmt.Errorf("restore point %s: %w", p, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	dr := &DiskReader{disk: mr.m.Disks[i], cancel: cancel, pr: pr, done: make(chan struct{})}
	go func() {
		defer close(dr.done)
		defer closer.Close()
		err := rp.streamDisk(ctx, mr, dr.disk, pw)
		if err != nil {
			err = fmt.Errorf("restore point %s disk %q: %w", p, dr.disk.Name, err)
		}
		pw.CloseWithError(err)
	}()
	return dr, nil
}

// Disk describes the disk being read.
func (dr *DiskReader) Disk() Disk { return dr.disk }

// Read reads the image.
func (dr *DiskReader) Read(p []byte) (int, error) { return dr.pr.Read(p) }

// Close stops reading and waits for the readers to finish.
func (dr *DiskReader) Close() error {
	dr.cancel()
	dr.pr.Close()
	<-dr.done
	return nil
}

// streamDisk writes disk d's image, whose entries mr returns, to w.
func (rp *Repo) streamDisk(ctx context.Context, mr *manifestReader, d Disk, w io.Writer) error {
	var i int64
	refs := func() (ref, bool, error) {
		if i == d.Chunks {
			return ref{}, false, nil
		}
		e, err := mr.next()
		if err != nil {
			return ref{}, false, fmt.Errorf("chunk %d: %w", i, err)
		}
		r := ref{index: i, id: e.id, sum: e.sum}
		i++
		return r, true, nil
	}
	ih := newImageHash()
	var flat hash.Hash
	if d.SHA256 != "" {
		flat = sha256.New()
	}
	zero := make([]byte, d.ChunkSize)
	each := func(f fetched) error {
		data, sum := f.data, f.sum
		if data == nil {
			data = zero[:chunkLen(d.Size, d.ChunkSize, f.index)]
			sum = rp.zeroSum(len(data))
		}
		ih.add(sum)
		if flat != nil {
			flat.Write(data)
		}
		_, err := w.Write(data)
		return err
	}
	lenOf := func(k int64) int { return chunkLen(d.Size, d.ChunkSize, k) }
	if err := rp.fetchOrdered(ctx, refs, lenOf, each); err != nil {
		return err
	}
	if got := ih.String(); got != d.ImageDigest {
		return fmt.Errorf("%w: image digest %s, manifest says %s", ErrDiskDigest, got, d.ImageDigest)
	}
	if flat == nil {
		return nil
	}
	if got := hex.EncodeToString(flat.Sum(nil)); got != d.SHA256 {
		return fmt.Errorf("%w: read SHA-256 %s, manifest says %s", ErrDiskDigest, got, d.SHA256)
	}
	return nil
}
