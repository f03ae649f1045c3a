package export

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"testing"
)

func TestAsyncSinkKeepsOrderAndHash(t *testing.T) {
	data := make([]byte, 5*sinkBlock+12345)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	var out bytes.Buffer
	h, md := sha256.New(), md5.New()
	s := newAsyncSink(&out, newBlockPool(), h, md)
	for rest := data; len(rest) > 0; {
		k := min(len(rest), 1+rng.IntN(3*sinkBlock/2)) // odd sizes, some larger than a block
		if n, err := s.Write(rest[:k]); err != nil || n != k {
			t.Fatalf("Write: %d, %v", n, err)
		}
		rest = rest[k:]
	}
	n, err := s.Close()
	if err != nil || n != int64(len(data)) {
		t.Fatalf("Close: %d, %v", n, err)
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Fatal("the sink reordered or lost bytes")
	}
	if want := sha256.Sum256(data); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatal("the SHA-256 differs from the data's")
	}
	if want := md5.Sum(data); !bytes.Equal(md.Sum(nil), want[:]) {
		t.Fatal("the MD5 differs from the data's")
	}
}

type failAfter struct{ left int }

var errFull = errors.New("no space left")

func (f *failAfter) Write(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, errFull
	}
	f.left--
	return len(p), nil
}

func TestAsyncSinkWriteErrorSticks(t *testing.T) {
	s := newAsyncSink(&failAfter{left: 2}, newBlockPool(), sha256.New())
	block := make([]byte, sinkBlock)
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = s.Write(block)
	}
	if !errors.Is(err, errFull) {
		t.Fatalf("Write error %v, want the writer's", err)
	}
	if _, err := s.Close(); !errors.Is(err, errFull) {
		t.Fatalf("Close error %v, want the writer's", err)
	}
}
