package dir

import "syscall"

// FreeBytes is the space available to an unprivileged writer on the
// filesystem holding path (-1 when unknown).
func FreeBytes(path string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return -1
	}
	return int64(st.Bavail) * st.Bsize
}

// FreeBytes is the space available on the filesystem holding the remote
// (-1 when unknown).
func (d *Dir) FreeBytes() int64 { return FreeBytes(d.root) }
