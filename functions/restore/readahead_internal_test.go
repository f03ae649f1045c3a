package restore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"testing"
	"testing/iotest"
	"time"
)

func ahead(src io.Reader, sum hash.Hash, stall time.Duration) *hashAhead {
	ctx, cancel := context.WithCancel(context.Background())
	return newHashAhead(ctx, cancel, io.NopCloser(src), sum, stall)
}

func TestHashAheadStreamsAndHashesEverything(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), (5*aheadBlock+777)/16) // several blocks, a short last one
	sum := sha256.New()
	h := ahead(bytes.NewReader(data), sum, 0)
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
	h := ahead(src, nil, 0)
	if _, err := io.ReadAll(h); !errors.Is(err, boom) {
		t.Fatalf("error %v, want the source's", err)
	}
	h.Close()

	// Closing before reading everything stops the goroutine (no leak, no hang).
	h2 := ahead(bytes.NewReader(make([]byte, 20*aheadBlock)), sha256.New(), 0)
	if _, err := h2.Read(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	h2.Close()
}

// hangingReader sends n bytes, then blocks until release is closed,
// ignoring cancellation; closed reports its Close.
type hangingReader struct {
	n       int
	release chan struct{}
	closed  chan struct{}
}

func (r *hangingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		<-r.release
		return 0, io.ErrUnexpectedEOF
	}
	k := min(len(p), r.n)
	r.n -= k
	return k, nil
}

func (r *hangingReader) Close() error { close(r.closed); return nil }

func TestHashAheadFailsASilentSourceAndAbandonsIt(t *testing.T) {
	src := &hangingReader{n: aheadBlock + 10, release: make(chan struct{}), closed: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	h := newHashAhead(ctx, cancel, src, nil, 50*time.Millisecond)
	n, err := io.Copy(io.Discard, h)
	if !errors.Is(err, ErrReadStalled) || n > aheadBlock+10 {
		t.Fatalf("read %d bytes, then %v; want ErrReadStalled", n, err)
	}
	if ctx.Err() == nil {
		t.Fatal("the source's context is not cancelled after the stall")
	}
	h.Close() // does not wait for the hung read
	close(src.release)
	<-src.closed // the abandoned goroutine closes the source when its read returns
}

func TestHashAheadEndsWithItsContext(t *testing.T) {
	src := &hangingReader{n: 10, release: make(chan struct{}), closed: make(chan struct{})}
	defer close(src.release)
	ctx, cancel := context.WithCancel(context.Background())
	h := newHashAhead(ctx, cancel, src, nil, time.Hour)
	defer h.Close()
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := io.Copy(io.Discard, h); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want the context's", err)
	}
}

func TestHashAheadTimesOnlyTheSource(t *testing.T) {
	// A consumer slower than the stall timeout (XAPI taking its time) is no stall.
	h := ahead(bytes.NewReader(make([]byte, (aheadDepth+3)*aheadBlock)), nil, 30*time.Millisecond)
	defer h.Close()
	buf := make([]byte, aheadBlock)
	for {
		_, err := h.Read(buf)
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(40 * time.Millisecond) // the slow consumer, not a wait for an outcome
	}
}

// boundedRead returns a read's result, fails a read silent for the stall
// timeout with ErrReadStalled (ending its context), and returns at once
// when its context ends; a read that ignores that context is abandoned.
func TestBoundedRead(t *testing.T) {
	v, err := boundedRead(context.Background(), time.Minute, "a key", func(context.Context) (int, error) { return 7, nil })
	if v != 7 || err != nil {
		t.Fatalf("a read that answers: %d, %v", v, err)
	}
	release := make(chan struct{})
	defer close(release)
	ctxs := make(chan context.Context, 2)
	deaf := func(ctx context.Context) (int, error) { ctxs <- ctx; <-release; return 1, nil }
	_, err = boundedRead(context.Background(), 50*time.Millisecond, "a key", deaf)
	if readCtx := <-ctxs; !errors.Is(err, ErrReadStalled) || readCtx.Err() == nil {
		t.Fatalf("a read that never answers: %v (its context: %v); want ErrReadStalled, its context ended", err, readCtx.Err())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err = boundedRead(ctx, time.Minute, "a key", deaf); !errors.Is(err, context.Canceled) {
		t.Fatalf("a read under an ended context: %v; want context.Canceled", err)
	}
}
