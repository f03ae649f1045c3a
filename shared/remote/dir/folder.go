package dir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// place is where a key lives: the remote's root and the key's folder, each an os.Root, and
// the key's last segment. Every file access of a Dir goes through it, so nothing outside
// the remote's directory is ever named, read, written or removed.
type place struct {
	top    *os.Root // the remote's directory
	folder *os.Root // the key's folder (top itself for a key without one)
	dir    string   // the folder relative to top, "" for top
	base   string
}

// locate opens the folders of key one segment at a time. Each must be a plain folder: a
// symbolic link fails with a *linkError even when it stays inside the remote, so what List
// shows (it never follows links) is all that can be read. With create, missing folders are
// made, and each parent that got a new entry is fsynced so the folders survive a crash.
//
// The remote's directory is opened for each operation rather than once in New, so a mount
// made or remade after New is used, as with plain paths.
func (d *Dir) locate(key string, create bool) (*place, error) {
	dir, base := "", key
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		dir, base = key[:i], key[i+1:]
	}
	return d.openFolder(dir, base, create)
}

// openFolder opens dir ("" for the remote's directory) as locate does; base is recorded.
func (d *Dir) openFolder(dir, base string, create bool) (*place, error) {
	top, err := os.OpenRoot(d.root)
	if err != nil {
		return nil, err
	}
	p := &place{top: top, folder: top, dir: dir, base: base}
	if dir == "" {
		return p, nil
	}
	segs := strings.Split(dir, "/")
	for i, seg := range segs {
		next, err := d.enter(p.folder, seg, create)
		if errors.Is(err, errIsLink) {
			err = newLinkError(top, strings.Join(segs[:i+1], "/"))
		}
		if err != nil {
			p.close()
			return nil, err
		}
		if p.folder != top {
			p.folder.Close()
		}
		p.folder = next
	}
	return p, nil
}

// errIsLink stands for a symbolic link until newLinkError describes it.
var errIsLink = errors.New("symbolic link")

// enter opens the folder seg of parent, making it first with create.
func (d *Dir) enter(parent *os.Root, seg string, create bool) (*os.Root, error) {
	fi, err := parent.Lstat(seg)
	if create && errors.Is(err, fs.ErrNotExist) {
		err = parent.Mkdir(seg, d.opts.dirMode)
		if err == nil {
			err = syncFolder(parent)
		} else if errors.Is(err, fs.ErrExist) { // made by a concurrent upload
			err = nil
		}
		if err == nil {
			fi, err = parent.Lstat(seg)
		}
	}
	switch {
	case err != nil:
		return nil, err
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, errIsLink
	case !fi.IsDir():
		return nil, syscall.ENOTDIR
	}
	return parent.OpenRoot(seg)
}

// file returns what the key's last segment is, refusing a symbolic link.
func (p *place) file() (fs.FileInfo, error) {
	fi, err := p.folder.Lstat(p.base)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, newLinkError(p.top, p.rel())
	}
	return fi, nil
}

// rel is the key: the path of the last segment relative to the remote.
func (p *place) rel() string {
	if p.dir == "" {
		return p.base
	}
	return p.dir + "/" + p.base
}

func (p *place) close() {
	if p.folder != p.top {
		p.folder.Close()
	}
	p.top.Close()
}

// linkError is a symbolic link met on the way to a key. It names the link relative to the
// remote and says whether it leads out of the remote (as os.Root judges it).
type linkError struct {
	rel     string
	escapes bool
}

func newLinkError(top *os.Root, rel string) *linkError {
	_, err := top.Stat(rel) // resolves the link inside top only: nothing outside is touched
	escapes := err != nil && !errors.Is(err, fs.ErrNotExist) &&
		!errors.Is(err, syscall.ELOOP) && !errors.Is(err, syscall.ENOTDIR)
	return &linkError{rel: rel, escapes: escapes}
}

func (e *linkError) Error() string {
	if e.escapes {
		return fmt.Sprintf("%s is a symbolic link that escapes the remote", e.rel)
	}
	return fmt.Sprintf("%s is a symbolic link; a remote holds plain folders and files and follows no link", e.rel)
}

// syncFolder fsyncs a folder so that renames and new entries in it survive a crash.
func syncFolder(r *os.Root) error {
	f, err := r.Open(".")
	if err != nil {
		return err
	}
	err = f.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		err = nil // some file systems cannot sync a folder; the rename is all they offer
	}
	return errors.Join(err, f.Close())
}
