package repoimage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"xbr/shared/repo"
	"xbr/shared/xapi/xmlrpc"
)

// ErrExists: a disk image file is already there; WriteImages never overwrites one.
var ErrExists = errors.New("disk image file already exists")

// ImageNames are the file names WriteImages gives the point's disks, in disk order:
// "<vm-uuid>-<YYYYMMDDTHHMMSSZ>-<disk>.raw", where <disk> is the disk's index, then "-" and
// the VDI's name_label reduced to A-Z a-z 0-9 . _ - when that is not empty ("…-0-system.raw",
// "…-1.raw"), cut to its first maxLabel bytes. The index comes first so that no two disks
// share a name, whatever their labels (two disks with one label, a label that is another
// disk's index), and the files list in disk order. The cut keeps every name, and the
// temporary name it is written under, well inside a file name's 255 bytes.
func (p *Point) ImageNames() []string {
	prefix := p.m.VM + "-" + p.point.Time.UTC().Format("20060102T150405Z") + "-"
	names := make([]string, len(p.disks))
	for i, d := range p.disks {
		label, _ := xmlrpc.AsString(d.VDI["name_label"])
		disk := strconv.Itoa(i)
		if l := fileSafe(label, maxLabel); l != "" {
			disk += "-" + l
		}
		names[i] = prefix + disk + ".raw"
	}
	return names
}

// maxLabel bounds the part of an image's name taken from its VDI's label.
const maxLabel = 64

// fileSafe keeps the bytes of s that are safe in a file name everywhere, at
// most limit of them.
func fileSafe(s string, limit int) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if b.Len() == limit {
			break
		}
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-':
			b.WriteByte(c)
		case c == '.' && b.Len() > 0:
			b.WriteByte(c)
		default:
			b.WriteByte('_')
		}
	}
	return strings.Trim(b.String(), "_")
}

// WriteImages writes every disk of the point as a raw image file into dir and returns the
// files' paths. A dir that does not exist is made (mode 0700: the images hold the VM's data)
// when its parent exists, and removed again if the call fails. Each image is written to a
// temporary file, verified to the end (every chunk and the disk's SHA-256), synced, and only
// then linked to its name, which fails if that name exists: nothing is overwritten and no
// unverified image is left under a final name. A file named in ImageNames that exists
// already is refused before anything is written. On any failure the images this call wrote
// are removed again.
func (p *Point) WriteImages(ctx context.Context, dir string) ([]string, error) {
	names := p.ImageNames()
	for _, n := range names {
		switch _, err := os.Lstat(filepath.Join(dir, n)); {
		case err == nil:
			return nil, fmt.Errorf("%w: %s", ErrExists, filepath.Join(dir, n))
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("disk images: %w", err)
		}
	}
	made := false
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(dir, 0o700); err != nil {
			return nil, fmt.Errorf("disk images: %w", err)
		}
		made = true
	}
	var done []string
	for i, n := range names {
		path := filepath.Join(dir, n)
		if err := p.writeImage(ctx, i, dir, path); err != nil {
			for _, d := range done { // all or nothing: a damaged point leaves no image
				err = errors.Join(err, os.Remove(d))
			}
			if made {
				err = errors.Join(err, os.Remove(dir))
			}
			return nil, err
		}
		done = append(done, path)
	}
	return done, nil
}

func (p *Point) writeImage(ctx context.Context, i int, dir, path string) (err error) {
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return err
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	dr, err := p.rp.OpenDisk(ctx, p.point, i)
	if err != nil {
		return err
	}
	defer dr.Close()
	if err := copySparse(f, dr, p.m.Disks[i]); err != nil {
		return fmt.Errorf("disk image %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := os.Link(f.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s", ErrExists, path)
		}
		return err
	}
	return nil
}

// copySparse copies the disk image from dr to f, leaving holes where a chunk is all zero,
// and reads dr to io.EOF so that its digest check answers.
func copySparse(f *os.File, dr *repo.DiskReader, d repo.Disk) error {
	buf := make([]byte, d.ChunkSize)
	var off int64
	for off < d.Size {
		n, err := io.ReadFull(dr, buf[:min(int64(len(buf)), d.Size-off)])
		if err != nil {
			return err
		}
		if !allZero(buf[:n]) {
			if _, err := f.WriteAt(buf[:n], off); err != nil {
				return err
			}
		}
		off += int64(n)
	}
	if err := expectEnd(dr); err != nil {
		return err
	}
	return f.Truncate(d.Size)
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
