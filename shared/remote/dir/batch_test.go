package dir_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"xbr/shared/remote"
	"xbr/shared/remote/dir"
)

// newBatch is a batch on a new directory remote under root, closed when the test ends.
func newBatch(t *testing.T, root string, opts ...dir.Option) (*dir.Dir, remote.Batch) {
	t.Helper()
	d, err := dir.New("nfs", root, opts...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.NewBatch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return d, b
}

// A batch's objects are whole and found by its Stat at once; where puts are deferred
// (Linux) they are named only at a flush, which Barrier makes; they leave no temp file;
// Barrier fsyncs each touched folder once; a failed fsync fails Barrier, and the next
// Barrier syncs that folder again (nothing is forgotten after a failure).
func TestBatch(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	var syncs int
	fail := false
	d, b := newBatch(t, root, dir.WithSyncHook(func() error {
		syncs++
		if fail {
			return errors.New("injected fsync failure")
		}
		return nil
	}))
	data := bytes.Repeat([]byte("chunk"), 100_000)
	keys := []string{"xbr-repo/chunks/ab/1", "xbr-repo/chunks/ab/2", "xbr-repo/chunks/cd/3"}
	for _, key := range keys {
		if err := b.Put(ctx, key, data); err != nil {
			t.Fatal(err)
		}
		if in, err := b.Stat(ctx, key); err != nil || in.Size != int64(len(data)) {
			t.Fatalf("Stat of %s after Put = %+v, %v; want %d bytes", key, in, err, len(data))
		}
		if _, err := d.Open(ctx, key); dir.DefersPuts && !errors.Is(err, remote.ErrNotFound) {
			t.Fatalf("open %s before its flush = %v, want ErrNotFound: named before its content is synced", key, err)
		}
	}
	if _, err := b.Stat(ctx, "xbr-repo/chunks/ef/4"); !errors.Is(err, remote.ErrNotFound) {
		t.Fatalf("stat of a missing key = %v, want ErrNotFound", err)
	}
	fail = true
	if err := b.Barrier(ctx); err == nil {
		t.Fatal("Barrier with a failing fsync succeeded")
	}
	for _, key := range keys { // the flush came before the failed folder fsync
		rc, err := d.Open(ctx, key)
		if err != nil {
			t.Fatalf("open %s after Barrier: %v", key, err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !bytes.Equal(got, data) {
			t.Fatalf("%s: read %d bytes, want the %d put", key, len(got), len(data))
		}
	}
	if temps, err := d.ListTemp(ctx, ""); err != nil || len(temps) != 0 {
		t.Fatalf("temp files after Barrier: %v, %v: want none", temps, err)
	}
	fail, syncs = false, 0
	if err := b.Barrier(ctx); err != nil || syncs != 2 {
		t.Fatalf("Barrier = %v after %d folder syncs, want the 2 touched folders synced", err, syncs)
	}
	if _, err := b.Stat(ctx, "xbr-repo/chunks/ab/1"); err != nil {
		t.Fatal(err)
	}
	syncs = 0
	if err := b.Barrier(ctx); err != nil || syncs != 1 {
		t.Fatalf("Barrier = %v after %d syncs, want the folder of the object Stat found", err, syncs)
	}
}

// A batch follows no symbolic link in a key's folders, as Create does.
func TestBatchRefusesLinks(t *testing.T) {
	ctx := context.Background()
	root, outside := t.TempDir(), t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	d, _ := dir.New("nfs", root)
	b, err := d.NewBatch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Put(ctx, "link/x", []byte("x")); !errors.Is(err, remote.ErrNotFound) {
		t.Fatalf("Put through a link = %v, want ErrNotFound", err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("Put wrote %d entries outside the remote", len(entries))
	}
}

// A name put into a folder while a Barrier is syncing that folder is made durable by the
// next Barrier: the one running cannot know whether its fsync came after the rename.
func TestBarrierKeepsPutsDuringItsSync(t *testing.T) {
	ctx := context.Background()
	var b remote.Batch
	var syncs, putDuring int
	d, err := dir.New("nfs", t.TempDir(), dir.WithSyncHook(func() error {
		syncs++
		if putDuring == 1 { // another writer's Put lands in the folder being synced
			putDuring++
			return b.Put(ctx, "xbr-repo/chunks/ab/2", []byte("two"))
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if b, err = d.NewBatch(ctx); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.Put(ctx, "xbr-repo/chunks/ab/1", []byte("one")); err != nil {
		t.Fatal(err)
	}
	putDuring = 1
	if err := b.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	before := syncs
	if err := b.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	if syncs == before {
		t.Fatal("the folder a Put renamed into during the last Barrier's fsync was not synced again")
	}
}

// Deferred puts are flushed, named, once MaxPending wait, without a Barrier: the open temp
// files and what one sync writes back are bounded.
func TestBatchFlushesEveryMaxPendingPuts(t *testing.T) {
	if !dir.DefersPuts {
		t.Skip("puts are not deferred on this system")
	}
	ctx := context.Background()
	d, b := newBatch(t, t.TempDir())
	key := func(i int) string { return fmt.Sprintf("xbr-repo/chunks/%02x/%d", i%256, i) }
	for i := range dir.MaxPending + 1 {
		if err := b.Put(ctx, key(i), []byte(key(i))); err != nil {
			t.Fatal(err)
		}
	}
	for i := range dir.MaxPending {
		if _, err := d.Stat(ctx, key(i)); err != nil {
			t.Fatalf("object %d of the %d that make a flush: %v", i, dir.MaxPending, err)
		}
	}
	if _, err := d.Stat(ctx, key(dir.MaxPending)); !errors.Is(err, remote.ErrNotFound) {
		t.Fatalf("the put after a flush = %v, want ErrNotFound until the next flush", err)
	}
	if temps, _ := d.ListTemp(ctx, ""); len(temps) != 1 {
		t.Fatalf("%d temp files, want the 1 put waiting", len(temps))
	}
}

// A failed sync of deferred puts names none of them, leaves no temp file, and fails every
// later Barrier: a Stat of this batch may have counted on one of them, so nothing written
// through it may be committed.
func TestBatchFailedFlushFailsEveryBarrier(t *testing.T) {
	if !dir.DefersPuts {
		t.Skip("puts are not deferred on this system")
	}
	ctx := context.Background()
	fail := true
	d, b := newBatch(t, t.TempDir(), dir.WithFSSyncHook(func() error {
		if fail {
			return errors.New("injected writeback failure")
		}
		return nil
	}))
	if err := b.Put(ctx, "xbr-repo/chunks/ab/1", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := b.Barrier(ctx); err == nil || !strings.Contains(err.Error(), "injected writeback failure") {
		t.Fatalf("Barrier after a failed sync = %v, want the sync's error", err)
	}
	if _, err := d.Stat(ctx, "xbr-repo/chunks/ab/1"); !errors.Is(err, remote.ErrNotFound) {
		t.Fatalf("object of a failed sync: %v, want ErrNotFound", err)
	}
	if temps, _ := d.ListTemp(ctx, ""); len(temps) != 0 {
		t.Fatalf("%d temp files after a failed sync, want none", len(temps))
	}
	fail = false
	if err := b.Put(ctx, "xbr-repo/chunks/ab/2", []byte("two")); err != nil {
		t.Fatal(err)
	}
	if err := b.Barrier(ctx); err == nil {
		t.Fatal("Barrier after an earlier failed sync succeeded")
	}
}

// Close of a batch with puts waiting leaves neither their names nor their temp files.
func TestBatchCloseDropsWaitingPuts(t *testing.T) {
	ctx := context.Background()
	d, err := dir.New("nfs", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b, err := d.NewBatch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, "xbr-repo/chunks/ab/1", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if temps, _ := d.ListTemp(ctx, ""); len(temps) != 0 {
		t.Fatalf("%d temp files after Close, want none", len(temps))
	}
	if _, err := d.Stat(ctx, "xbr-repo/chunks/ab/1"); dir.DefersPuts && !errors.Is(err, remote.ErrNotFound) {
		t.Fatalf("a put waiting at Close: %v, want ErrNotFound", err)
	}
}

// A second Put of a key still waiting replaces the first: the later content is named, and
// the first one's temp file does not stay behind.
func TestBatchPutReplacesAWaitingPut(t *testing.T) {
	ctx := context.Background()
	d, b := newBatch(t, t.TempDir())
	for _, data := range []string{"first", "second"} {
		if err := b.Put(ctx, "xbr-repo/chunks/ab/1", []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Barrier(ctx); err != nil {
		t.Fatal(err)
	}
	rc, err := d.Open(ctx, "xbr-repo/chunks/ab/1")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != "second" {
		t.Fatalf("read %q, want the later put", got)
	}
	if temps, _ := d.ListTemp(ctx, ""); len(temps) != 0 {
		t.Fatalf("%d temp files after Barrier, want none", len(temps))
	}
}

// A Close that comes while a Put is writing waits for it, and still leaves no temp file:
// the Put's file is neither added to a list Close has already emptied nor left open.
func TestBatchCloseDuringAPut(t *testing.T) {
	ctx := context.Background()
	writing, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	d, b := newBatch(t, t.TempDir(), dir.WithWriteHook(func(w io.Writer) io.Writer {
		return writerFunc(func(p []byte) (int, error) {
			once.Do(func() { close(writing); <-release })
			return w.Write(p)
		})
	}))
	put := make(chan error, 1)
	go func() { put <- b.Put(ctx, "xbr-repo/chunks/ab/1", []byte("one")) }()
	<-writing
	closed := make(chan error, 1)
	go func() { closed <- b.Close() }()
	time.Sleep(50 * time.Millisecond) // Close, unguarded, would run now, mid-write
	close(release)
	if err := <-put; err != nil {
		t.Fatal(err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if temps, _ := d.ListTemp(ctx, ""); len(temps) != 0 {
		t.Fatalf("%d temp files after a Close during a Put, want none", len(temps))
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// A failed sync of the whole file system does not fail the batch: since Linux 5.8 it reports
// any program's writeback error there, and each file's own fsync decides for our objects.
func TestBatchSurvivesAnotherProgramsWritebackError(t *testing.T) {
	if !dir.DefersPuts {
		t.Skip("puts are not deferred on this system")
	}
	ctx := context.Background()
	dir.FailSyncFS(t, errors.New("injected writeback error of another file"))
	d, b := newBatch(t, t.TempDir())
	if err := b.Put(ctx, "xbr-repo/chunks/ab/1", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := b.Barrier(ctx); err != nil {
		t.Fatalf("Barrier after another program's writeback error: %v", err)
	}
	if _, err := d.Stat(ctx, "xbr-repo/chunks/ab/1"); err != nil {
		t.Fatalf("the put is not named: %v", err)
	}
}
