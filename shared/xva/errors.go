package xva

import (
	"errors"
	"fmt"
)

// Sentinels for errors.Is; every error also names the tar entry, disk or
// ova.xml field at fault.
var (
	// ErrFormat marks an archive that is not a valid XVA: bad tar headers,
	// entries out of order or not belonging to the expected disk, a bad
	// ova.xml.
	ErrFormat = errors.New("xva: invalid archive")
	// ErrChecksum marks a chunk whose data does not match its .xxhash or
	// .checksum entry.
	ErrChecksum = errors.New("xva: checksum mismatch")
)

// archiveError prints its own message and matches its sentinel (and cause,
// if any) with errors.Is.
type archiveError struct {
	msg  string
	errs []error
}

func (e *archiveError) Error() string   { return e.msg }
func (e *archiveError) Unwrap() []error { return e.errs }

// formatErr builds an ErrFormat error whose message is "xva: " + the format.
func formatErr(format string, args ...any) error {
	return &archiveError{msg: "xva: " + fmt.Sprintf(format, args...), errs: []error{ErrFormat}}
}

// wrapErr builds an error matching both kind and cause, with cause's text
// appended to the message.
func wrapErr(kind, cause error, format string, args ...any) error {
	msg := "xva: " + fmt.Sprintf(format, args...) + ": " + cause.Error()
	return &archiveError{msg: msg, errs: []error{kind, cause}}
}
