package repoimage

import (
	"context"
	"errors"
	"fmt"
	"io"

	"xbr/shared/repo"
	"xbr/shared/xva"
)

// WriteXVA writes the point as an XVA to w: ova.xml, then every disk read (and verified)
// from the repository, then the end-of-archive blocks, only after every disk's SHA-256 was
// checked. A missing or damaged chunk, or a disk that does not hash to its manifest's
// SHA-256, is an error wrapping the repository's (repo.ErrCorrupt, repo.ErrDiskDigest,
// remote.ErrNotFound), and nothing more is written.
func (p *Point) WriteXVA(ctx context.Context, w io.Writer, o xva.WriterOptions) error {
	xw := xva.NewWriter(w, o)
	if err := xw.WriteOVA(p.ova); err != nil {
		return err
	}
	for i, d := range p.disks {
		if err := p.writeDisk(ctx, xw, i, d); err != nil {
			return err
		}
	}
	return xw.Close()
}

func (p *Point) writeDisk(ctx context.Context, xw *xva.Writer, i int, d xva.DiskRef) error {
	dr, err := p.rp.OpenDisk(ctx, p.point, i)
	if err != nil {
		return err
	}
	defer dr.Close()
	if err := xw.WriteDisk(d.ID, d.Size, dr); err != nil {
		return err
	}
	return expectEnd(dr)
}

// expectEnd reads past the last byte of a disk: the reader's digest check answers there.
func expectEnd(dr *repo.DiskReader) error {
	var one [1]byte
	n, err := dr.Read(one[:])
	for n == 0 && err == nil {
		n, err = dr.Read(one[:])
	}
	switch {
	case n > 0:
		return fmt.Errorf("restore point disk %q: longer than its %d bytes", dr.Disk().Name, dr.Disk().Size)
	case errors.Is(err, io.EOF):
		return nil
	}
	return err
}
