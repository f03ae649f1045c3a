package restore

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestHashAheadStreamsAndHashesEverything(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), (5*aheadBlock+777)/16) // several blocks, a short last one
	sum := sha256.New()
	h := newHashAhead(bytes.NewReader(data), sum)
	defer h.Close()
	got, err := io.ReadAll(iotest.OneByteReader(io.LimitReader(h, 1<<10))) // small reads first
	if err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(h)
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, rest...)
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, want the source's %d in order", len(got), len(data))
	}
	if want := sha256.Sum256(data); !bytes.Equal(sum.Sum(nil), want[:]) {
		t.Fatal("the digest at EOF does not cover the whole stream")
	}
}

func TestHashAheadPassesSourceErrorsAndStops(t *testing.T) {
	boom := errors.New("remote went away")
	src := io.MultiReader(bytes.NewReader(make([]byte, aheadBlock+5)), iotest.ErrReader(boom))
	h := newHashAhead(src, nil)
	if _, err := io.ReadAll(h); !errors.Is(err, boom) {
		t.Fatalf("error %v, want the source's", err)
	}
	h.Close()

	// Closing before reading everything stops the goroutine (no leak, no hang).
	h2 := newHashAhead(bytes.NewReader(make([]byte, 20*aheadBlock)), sha256.New())
	if _, err := h2.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	h2.Close()
}
