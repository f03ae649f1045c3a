package remotetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"xbr/shared/remote"
)

// Run runs the conformance suite. newRemote must return a fresh, empty remote each time it is
// called (a new folder, a new bucket or prefix); it may register cleanups on t.
func Run(t *testing.T, newRemote func(t *testing.T) remote.Remote) {
	t.Helper()
	cases := []struct {
		name string
		fn   func(t *testing.T, r remote.Remote)
	}{
		{"RoundTripStreamed", testRoundTrip},
		{"NothingVisibleBeforeCommit", testNotVisibleBeforeCommit},
		{"AbortLeavesNothing", testAbort},
		{"Overwrite", testOverwrite},
		{"EmptyObject", testEmpty},
		{"ListOrderAndPrefix", testList},
		{"Delete", testDelete},
		{"NotFound", testNotFound},
		{"InvalidKeysRejected", testInvalidKeys},
		{"EscapingKeysRefused", testEscapingKeys},
		{"ConcurrentUploads", testConcurrent},
		{"WriterFailsMidway", testWriterFails},
		{"ContextCancelledMidway", testCancelled},
		{"SweepLeftovers", testSweep},
		{"PutNewOnlyOnce", testPutNew},
		{"ListFolderOneLevel", testListFolder},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.fn(t, newRemote(t))
		})
	}
}

// Data returns n bytes of deterministic pseudo-random content for seed, as a stream.
func Data(seed uint64, n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8(seedBytes(seed)), n)
}

func seedBytes(seed uint64) [32]byte {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return s
}

// Put streams n bytes of Data(seed) to key in odd-sized writes, commits, and returns the
// SHA-256 of what it wrote.
func Put(t testing.TB, r remote.Remote, key string, seed uint64, n int64) [32]byte {
	t.Helper()
	sum, err := PutStream(context.Background(), r, key, Data(seed, n), n)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// PutStream streams src to key in odd-sized writes, commits, and returns the SHA-256 of what
// it wrote. It is safe to call from any goroutine.
func PutStream(ctx context.Context, r remote.Remote, key string, src io.Reader, sizeHint int64) ([32]byte, error) {
	u, err := r.Create(ctx, key, sizeHint)
	if err != nil {
		return [32]byte{}, fmt.Errorf("Create(%q): %w", key, err)
	}
	defer u.Abort(ctx)
	h := sha256.New()
	buf := make([]byte, 100_003)
	if _, err := io.CopyBuffer(io.MultiWriter(u, h), src, buf); err != nil {
		return [32]byte{}, fmt.Errorf("write %q: %w", key, err)
	}
	if err := u.Commit(ctx); err != nil {
		return [32]byte{}, fmt.Errorf("Commit(%q): %w", key, err)
	}
	return [32]byte(h.Sum(nil)), nil
}

// PutBytes stores b under key.
func PutBytes(t testing.TB, r remote.Remote, key string, b []byte) {
	t.Helper()
	ctx := context.Background()
	u, err := r.Create(ctx, key, int64(len(b)))
	if err != nil {
		t.Fatalf("Create(%q): %v", key, err)
	}
	if _, err := u.Write(b); err != nil {
		t.Fatalf("write %q: %v", key, err)
	}
	if err := u.Commit(ctx); err != nil {
		t.Fatalf("Commit(%q): %v", key, err)
	}
}

// Hash reads key back and returns its size and SHA-256.
func Hash(t testing.TB, r remote.Remote, key string) (int64, [32]byte) {
	t.Helper()
	rc, err := r.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return n, [32]byte(h.Sum(nil))
}

// ReadAll returns the content of key.
func ReadAll(t testing.TB, r remote.Remote, key string) []byte {
	t.Helper()
	rc, err := r.Open(context.Background(), key)
	if err != nil {
		t.Fatalf("Open(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return b
}

// AssertAbsent fails unless key is invisible to Stat, Open and List.
func AssertAbsent(t testing.TB, r remote.Remote, key string) {
	t.Helper()
	ctx := context.Background()
	if info, err := r.Stat(ctx, key); !errors.Is(err, remote.ErrNotFound) {
		t.Errorf("Stat(%q) = %+v, %v; want ErrNotFound", key, info, err)
	}
	if rc, err := r.Open(ctx, key); !errors.Is(err, remote.ErrNotFound) {
		if rc != nil {
			rc.Close()
		}
		t.Errorf("Open(%q) error = %v; want ErrNotFound", key, err)
	}
	infos, err := r.List(ctx, "")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	for _, i := range infos {
		if i.Key == key {
			t.Errorf("List shows %q (%d bytes), want it absent", key, i.Size)
		}
	}
}

// AssertKeys fails unless List(prefix) returns exactly want, in that order.
func AssertKeys(t testing.TB, r remote.Remote, prefix string, want ...string) {
	t.Helper()
	infos, err := r.List(context.Background(), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	got := make([]string, 0, len(infos))
	for _, i := range infos {
		got = append(got, i.Key)
	}
	if !slices.Equal(got, want) {
		t.Errorf("List(%q) = %q, want %q", prefix, got, want)
	}
}

// AssertContent fails unless key holds exactly want.
func AssertContent(t testing.TB, r remote.Remote, key string, want []byte) {
	t.Helper()
	if got := ReadAll(t, r, key); !bytes.Equal(got, want) {
		t.Errorf("content of %q = %q, want %q", key, trim(got), trim(want))
	}
}

// AssertNoTemp fails if the remote is a remote.Sweeper and still lists incomplete uploads.
func AssertNoTemp(t testing.TB, r remote.Remote) {
	t.Helper()
	s, ok := r.(remote.Sweeper)
	if !ok {
		return
	}
	Eventually(t, 10*time.Second, func() (bool, string) {
		temps, err := s.ListTemp(context.Background(), "")
		if err != nil {
			return false, err.Error()
		}
		return len(temps) == 0, "leftover incomplete uploads: " + describe(temps)
	})
}

// Eventually polls cond every 20 ms until it holds or the timeout passes, then fails with the
// last reason cond gave.
func Eventually(t testing.TB, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not true after %v: %s", timeout, why)
		}
		<-tick.C
	}
}

func describe(temps []remote.Temp) string {
	var b bytes.Buffer
	for _, tmp := range temps {
		b.WriteString(tmp.Key + " (" + tmp.ID + ") ")
	}
	return b.String()
}

func trim(b []byte) []byte {
	if len(b) > 64 {
		return append(b[:64:64], "..."...)
	}
	return b
}
