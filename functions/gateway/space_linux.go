package gateway

import "syscall"

// freeBytes is the space available to an unprivileged writer on the
// filesystem holding path (-1 when unknown).
func freeBytes(path string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return -1
	}
	return int64(st.Bavail) * st.Bsize
}
