package dir

import (
	"os"

	"golang.org/x/sys/unix"
)

// canSyncFS says syncFS works here, so a Batch defers its puts (see Batch).
const canSyncFS = true

// syncFS writes back every dirty page and inode of the file system that holds f, and
// reports a writeback error met since f was opened (Linux 5.8 and later): any program's.
// A variable so that a test can make it fail.
var syncFS = syncFileSystem

func syncFileSystem(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Syncfs(int(fd)) }); err != nil {
		return err
	}
	if serr != nil {
		return &os.PathError{Op: "syncfs", Path: f.Name(), Err: serr}
	}
	return nil
}
