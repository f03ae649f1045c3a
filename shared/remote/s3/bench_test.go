package s3_test

import (
	"testing"

	"xbr/shared/remote/remotetest"
	"xbr/shared/remote/s3"
	"xbr/shared/remote/s3/s3test"
)

// BenchmarkStream: go test -run '^$' -bench . ./shared/remote/s3 (against versitygw on the
// same machine, so both share the CPU).
func BenchmarkStream(b *testing.B) {
	g := s3test.Start(b)
	g.NewBucket(b, "bench")
	for _, bc := range []struct {
		name string
		hint int64
	}{{"KnownSize", 256 << 20}, {"UnknownSize", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			r, err := s3.New(b.Context(), s3.Config{Name: "bench", Endpoint: g.Endpoint, Bucket: "bench",
				AccessKey: g.AccessKey, SecretKey: g.SecretKey})
			if err != nil {
				b.Fatal(err)
			}
			remotetest.BenchmarkStream(b, r, 256<<20, bc.hint)
		})
	}
}
