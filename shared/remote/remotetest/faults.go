package remotetest

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"xbr/shared/remote"
)

// failingReader returns err once n bytes have been read from r.
type failingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, f.err
	}
	if int64(len(p)) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= int64(n)
	return n, err
}

// testWriterFails: the source of a stream fails midway; the writer aborts, nothing appears and
// the object committed earlier under the same key is kept.
func testWriterFails(t *testing.T, r remote.Remote) {
	ctx := context.Background()
	key := "vm/20231012T101112Z.xva"
	PutBytes(t, r, key, []byte("older backup"))
	u, err := r.Create(ctx, key, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("xapi connection dropped")
	src := &failingReader{r: Data(4, 64<<20), n: 7 << 20, err: boom}
	if _, err := io.Copy(u, src); !errors.Is(err, boom) {
		t.Fatalf("copy error = %v, want %v", err, boom)
	}
	if err := u.Abort(ctx); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	AssertContent(t, r, key, []byte("older backup"))
	AssertKeys(t, r, "", key)
	AssertNoTemp(t, r)
}

// testCancelled: the context is cancelled midway; Commit fails and leaves nothing.
func testCancelled(t *testing.T, r remote.Remote) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	key := "vm/cancelled.xva"
	u, err := r.Create(ctx, key, -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(u, Data(5, 6<<20)); err != nil {
		t.Fatal(err)
	}
	cancel()
	// Writes may fail now; Commit must.
	_, _ = u.Write(make([]byte, 1<<20))
	if err := u.Commit(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit after cancel = %v, want context.Canceled", err)
	}
	if err := u.Abort(context.Background()); err != nil {
		t.Errorf("Abort after failed Commit = %v, want nil", err)
	}
	AssertAbsent(t, r, key)
	AssertKeys(t, r, "")
	AssertNoTemp(t, r)
}

// testSweep: an upload left open (a crashed writer) is listed by ListTemp, kept by a sweep
// with an older threshold and removed by a sweep with a newer one.
func testSweep(t *testing.T, r remote.Remote) {
	s, ok := r.(remote.Sweeper)
	if !ok {
		t.Skip("remote does not list incomplete uploads (not a remote.Sweeper)")
	}
	ctx := context.Background()
	key := "xo-vm-backups/vm/20231012T101112Z.xva"
	u, err := r.Create(ctx, key, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Abort(ctx)
	if _, err := io.Copy(u, Data(6, 6<<20)); err != nil {
		t.Fatal(err)
	}
	var temps []remote.Temp
	Eventually(t, 10*time.Second, func() (bool, string) {
		temps, err = s.ListTemp(ctx, "xo-vm-backups/")
		return err == nil && len(temps) == 1 && temps[0].Key == key, "ListTemp: " + describe(temps)
	})
	if other, err := s.ListTemp(ctx, "other/"); err != nil || len(other) != 0 {
		t.Errorf("ListTemp(other/) = %v, %v; want none", other, err)
	}
	removed, err := remote.Sweep(ctx, s, "", temps[0].Time.Add(-time.Hour))
	if err != nil || len(removed) != 0 {
		t.Fatalf("Sweep older than the upload removed %v, %v; want nothing", removed, err)
	}
	removed, err = remote.Sweep(ctx, s, "", temps[0].Time.Add(time.Hour))
	if err != nil || len(removed) != 1 || removed[0].Key != key {
		t.Fatalf("Sweep = %v, %v; want the upload of %q", removed, err, key)
	}
	AssertNoTemp(t, r)
	// The swept writer can no longer publish.
	_, _ = u.Write([]byte("late"))
	if err := u.Commit(ctx); err == nil {
		t.Error("Commit of a swept upload succeeded, want an error")
	}
	AssertKeys(t, r, "")
}
