//go:build linux

package cli

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// isTerminalIn reports whether r is a terminal: a file whose terminal
// attributes can be read (/dev/null is a character device, not a terminal).
func isTerminalIn(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
