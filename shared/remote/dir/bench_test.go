package dir_test

import (
	"testing"

	"xbr/shared/remote/dir"
	"xbr/shared/remote/remotetest"
)

// BenchmarkStream: go test -run '^$' -bench . ./shared/remote/dir
func BenchmarkStream(b *testing.B) {
	d, err := dir.New("bench", b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	remotetest.BenchmarkStream(b, d, 256<<20, 256<<20)
}
