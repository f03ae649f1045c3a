package nbd

import (
	"errors"
	"fmt"
)

// ErrClosed is returned by calls on a client after Close or after a broken
// connection was closed.
var ErrClosed = errors.New("nbd: connection closed")

// Error is an error reply from the server to one command: the connection
// stays usable.
type Error struct {
	Command string // e.g. NBD_CMD_READ
	Offset  int64
	Length  int64
	Errno   uint32
}

func (e *Error) Error() string {
	return fmt.Sprintf("nbd %s offset %d length %d: server error %s (%d)", e.Command, e.Offset, e.Length,
		ErrnoName(e.Errno), e.Errno)
}

// OptionError is a refusal of an option during the handshake.
type OptionError struct {
	Option  uint32
	Reply   uint32
	Message string // the server's text, if any (printable ASCII only, truncated)
}

func (e *OptionError) Error() string {
	s := fmt.Sprintf("nbd %s refused: %s", OptionName(e.Option), ReplyName(e.Reply))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// printable keeps a server's message safe to log: printable ASCII, at most
// 200 bytes.
func printable(b []byte) string {
	out := make([]byte, 0, min(len(b), 200))
	for _, c := range b {
		if len(out) == 200 {
			break
		}
		if c >= 0x20 && c < 0x7f {
			out = append(out, c)
		} else {
			out = append(out, '?')
		}
	}
	return string(out)
}
