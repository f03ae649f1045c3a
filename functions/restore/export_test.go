package restore

import (
	"crypto/sha256"
	"io"
	"sync/atomic"
)

// NewVerifierForTest exposes the verifier to the benchmarks of package
// restore_test: SHA-256 against want, the default withheld tail.
func NewVerifierForTest(src io.Reader, size int64, want []byte) io.Reader {
	chk := &check{name: "sha256", sum: sha256.New(), want: want}
	return newVerifier(src, chk, size, 0, new(atomic.Int64))
}
