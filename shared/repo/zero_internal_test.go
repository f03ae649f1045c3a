package repo

import "testing"

// TestIsZero: a single non-zero byte anywhere, including past the first
// 64 KiB comparison and in a short tail, makes a chunk non-zero.
func TestIsZero(t *testing.T) {
	if !isZero(nil) || !isZero(make([]byte, 1<<20+5)) {
		t.Fatal("zero buffers reported non-zero")
	}
	for _, size := range []int{1, 7, 64 << 10, 1<<20 + 5} {
		for _, at := range []int{0, size / 2, size - 1} {
			b := make([]byte, size)
			b[at] = 1
			if isZero(b) {
				t.Fatalf("%d bytes with byte %d set reported zero", size, at)
			}
		}
	}
}

func BenchmarkIsZero(b *testing.B) {
	buf := make([]byte, 1<<20)
	b.SetBytes(1 << 20)
	for i := 0; i < b.N; i++ {
		if !isZero(buf) {
			b.Fatal("not zero")
		}
	}
}
