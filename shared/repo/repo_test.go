package repo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"xbr/shared/remote"
	"xbr/shared/repo"
)

func TestDir(t *testing.T) { runSuite(t, newDir) }

func TestS3(t *testing.T) { runSuite(t, s3Remotes(t)) }

// runSuite is what every remote type must give the repository.
func runSuite(t *testing.T, newRemote newRemoteFunc) {
	for _, enc := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "encrypted"}[enc]
		mk := func(t *testing.T) *repo.Repo {
			var k repo.Key
			if enc {
				k = mustKey(t)
			}
			return initRepo(t, newRemote(t), k)
		}
		t.Run(name+"/roundtrip", func(t *testing.T) { testRoundtrip(t, mk(t)) })
		t.Run(name+"/incremental", func(t *testing.T) { testIncremental(t, mk(t)) })
		t.Run(name+"/missing chunk", func(t *testing.T) { testMissingChunk(t, mk(t)) })
		t.Run(name+"/gc", func(t *testing.T) { testGC(t, mk(t)) })
		t.Run(name+"/verify", func(t *testing.T) { testVerify(t, mk(t)) })
		t.Run(name+"/damaged chunk", func(t *testing.T) { testDamagedChunk(t, mk(t)) })
		t.Run(name+"/gc defers to a backup", func(t *testing.T) { testGCDefers(t, mk(t)) })
	}
}

func testRoundtrip(t *testing.T, rp *repo.Repo) {
	image := diskImage(1, 9*cs+1000)
	st := writePoint(t, rp, vmA, t0, image)
	if st.Chunks != 10 || st.ZeroChunks != 3 || st.NewChunks != 7 || st.DedupChunks != 0 {
		t.Fatalf("stats %+v: want 10 chunks, 3 zero, 7 new", st)
	}
	p := repo.Point{VM: vmA, Time: t0}
	m, err := rp.Manifest(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Disks) != 1 || m.Disks[0].SHA256 != sum(image) || string(m.Records) != `{"name_label":"vm"}` {
		t.Fatalf("manifest %+v: want one disk with the image's SHA-256 and the records", m)
	}
	got, err := readDisk(t, rp, p)
	if err != nil || !bytes.Equal(got, image) {
		t.Fatalf("read back %d bytes, err %v: want the %d bytes written", len(got), err, len(image))
	}
	// The same content for another VM stores nothing new.
	if st := writePoint(t, rp, vmB, t0, image); st.NewChunks != 0 || st.DedupChunks != 7 {
		t.Fatalf("second VM with the same disk: %+v, want 7 deduplicated and 0 new", st)
	}
	if n := countChunks(t, rp); n != 7 {
		t.Fatalf("%d chunks stored, want 7 (zero chunks are never stored)", n)
	}
}

func countChunks(t *testing.T, rp *repo.Repo) int {
	t.Helper()
	infos, err := rp.Remote().List(context.Background(), repo.Root+"/chunks/")
	if err != nil {
		t.Fatal(err)
	}
	return len(infos)
}

func testIncremental(t *testing.T, rp *repo.Repo) {
	ctx := context.Background()
	image := diskImage(2, 12*cs)
	writePoint(t, rp, vmA, t0, image)
	base := repo.Point{VM: vmA, Time: t0}
	// The guest rewrites chunk 7 and grows the disk by one chunk.
	next := append(bytes.Clone(image), diskImage(3, cs)...)
	copy(next[7*cs:], diskImage(4, 100))
	b, err := rp.Begin(ctx, vmA, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort(ctx)
	w, err := b.AddDisk(ctx, repo.DiskSpec{Name: "xvda", Size: int64(len(next)), Base: &repo.BaseDisk{Point: base}})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{7, 12} {
		if err := w.Put(ctx, int64(i), next[i*cs:(i+1)*cs]); err != nil {
			t.Fatal(err)
		}
	}
	d, st, err := w.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.NewChunks != 2 || st.ReusedChunks != 8 || st.ZeroChunks != 3 || d.SHA256 != sum(next) {
		t.Fatalf("incremental: %+v sha %s: want 2 new, 8 reused, 3 zero, the new image's SHA-256", st, d.SHA256)
	}
	if _, err := b.Commit(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	got, err := readDisk(t, rp, b.Point())
	if err != nil || !bytes.Equal(got, next) {
		t.Fatalf("incremental point read back: %d bytes, %v", len(got), err)
	}
	// Without a base, a chunk not given is an error, never a hole.
	b2, err := rp.Begin(ctx, vmB, t0)
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Abort(ctx)
	w2, _ := b2.AddDisk(ctx, repo.DiskSpec{Name: "xvda", Size: 2 * cs})
	if err := w2.Put(ctx, 1, next[:cs]); err == nil || !strings.Contains(err.Error(), "no base") {
		t.Fatalf("Put of chunk 1 with no base and no chunk 0 = %v, want an error saying there is no base", err)
	}
}

func testMissingChunk(t *testing.T, rp *repo.Repo) {
	image := diskImage(5, 8*cs)
	writePoint(t, rp, vmA, t0, image)
	id := firstChunk(t, rp)
	if err := rp.Remote().Delete(context.Background(), repo.Root+"/chunks/"+id[:2]+"/"+id); err != nil {
		t.Fatal(err)
	}
	_, err := readDisk(t, rp, repo.Point{VM: vmA, Time: t0})
	if !errors.Is(err, remote.ErrNotFound) || !strings.Contains(err.Error(), id) || !strings.Contains(err.Error(), "offset") {
		t.Fatalf("read with chunk %s deleted = %v, want not found naming the chunk and its offset", id, err)
	}
}

// firstChunk is the id of the first stored chunk, by key.
func firstChunk(t *testing.T, rp *repo.Repo) string {
	t.Helper()
	infos, err := rp.Remote().List(context.Background(), repo.Root+"/chunks/")
	if err != nil || len(infos) == 0 {
		t.Fatalf("list chunks: %d, %v", len(infos), err)
	}
	k := infos[0].Key
	return k[strings.LastIndexByte(k, '/')+1:]
}

// A damaged chunk stops the read before its bytes are returned, naming it and its offset.
func testDamagedChunk(t *testing.T, rp *repo.Repo) {
	image := diskImage(7, 4*cs)
	writePoint(t, rp, vmA, t0, image)
	id := chunkOf(t, rp, image[cs:2*cs])
	flipByte(t, rp, repo.Root+"/chunks/"+id[:2]+"/"+id)
	dr, err := rp.OpenDisk(context.Background(), repo.Point{VM: vmA, Time: t0}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer dr.Close()
	got, err := io.ReadAll(dr)
	if !errors.Is(err, repo.ErrCorrupt) || !strings.Contains(err.Error(), id) || !strings.Contains(err.Error(), fmt.Sprintf("offset %d", cs)) {
		t.Fatalf("read with chunk %s damaged = %v, want ErrCorrupt naming it and offset %d", id, err, cs)
	}
	if len(got) > cs || !bytes.Equal(got, image[:len(got)]) {
		t.Fatalf("read returned %d bytes before the error, want only the good first chunk's", len(got))
	}
}
