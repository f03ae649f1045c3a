//go:build !linux

package cli

import "io"

// isTerminalIn is false where xbr does not read terminal attributes: a
// failover there needs --yes.
func isTerminalIn(io.Reader) bool { return false }
