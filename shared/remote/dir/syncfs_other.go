//go:build !linux

package dir

import (
	"errors"
	"os"
)

// canSyncFS says syncFS works here: it does not, so a Batch fsyncs each put.
const canSyncFS = false

var syncFS = func(*os.File) error { return errors.ErrUnsupported }
