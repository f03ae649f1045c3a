package repotest

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

// Run runs the suite: what every remote type must give the repository, plain and encrypted.
// newRemote must return a fresh, empty remote on each call.
func Run(t *testing.T, newRemote NewRemote) {
	t.Helper()
	for _, enc := range []bool{false, true} {
		name := map[bool]string{false: "plain", true: "encrypted"}[enc]
		mk := func(t *testing.T) *repo.Repo {
			var k repo.Key
			if enc {
				k = NewKey(t)
			}
			return Init(t, newRemote(t), k)
		}
		t.Run(name+"/roundtrip", func(t *testing.T) { testRoundtrip(t, mk(t)) })
		t.Run(name+"/incremental", func(t *testing.T) { testIncremental(t, mk(t)) })
		t.Run(name+"/missing chunk", func(t *testing.T) { testMissingChunk(t, mk(t)) })
		t.Run(name+"/gc", func(t *testing.T) { testGC(t, mk(t)) })
		t.Run(name+"/verify", func(t *testing.T) { testVerify(t, mk(t)) })
		t.Run(name+"/damaged chunk", func(t *testing.T) { testDamagedChunk(t, mk(t)) })
		t.Run(name+"/gc defers to a backup", func(t *testing.T) { testGCDefers(t, mk(t)) })
		counted := func(t *testing.T) (*repo.Repo, *CountingRemote) {
			c := &CountingRemote{Remote: newRemote(t)}
			var k repo.Key
			if enc {
				k = NewKey(t)
			}
			return Init(t, c, k), c
		}
		t.Run(name+"/incremental reads no chunk", func(t *testing.T) { rp, c := counted(t); testNoReadBack(t, rp, c) })
		t.Run(name+"/base chunks", func(t *testing.T) { rp, c := counted(t); testBaseChunks(t, rp, c) })
		t.Run(name+"/tampered manifest", func(t *testing.T) { testTamperedManifest(t, mk(t)) })
		t.Run(name+"/mirror", func(t *testing.T) { testMirror(t, newRemote, enc) })
		t.Run(name+"/mirror asks only about changed chunks", func(t *testing.T) { testMirrorAsksChanged(t, newRemote, enc) })
		t.Run(name+"/mirror's base outlives a GC", func(t *testing.T) { testMirrorBaseKept(t, newRemote, enc) })
		t.Run(name+"/concurrent init", func(t *testing.T) { testConcurrentInit(t, newRemote(t), enc) })
	}
}

// testConcurrentInit: processes that find no repository create it at once (the first run of
// scaled-out functions on a new remote). Exactly one creation wins; every process then opens
// that one, so a point one writes the others read (with a key, only the winner's salt works).
func testConcurrentInit(t *testing.T, r remote.Remote, enc bool) {
	ctx := context.Background()
	var k repo.Key
	if enc {
		k = NewKey(t)
	}
	const n = 8
	start := make(chan struct{})
	errs := make(chan error, n)
	for range n {
		go func() {
			<-start
			_, err := repo.Init(ctx, r, repo.InitOptions{ChunkSize: ChunkSize, Key: k})
			errs <- err
		}()
	}
	close(start)
	won := 0
	for range n {
		if err := <-errs; err == nil {
			won++
		} else if !strings.Contains(err.Error(), "exists already") {
			t.Errorf("a losing Init: %v, want an error saying the repository exists already", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d concurrent Inits created the repository, want exactly 1", won, n)
	}
	a, err := repo.Open(ctx, r, k)
	if err != nil {
		t.Fatal(err)
	}
	image := DiskImage(3, 2*ChunkSize)
	WritePoint(t, a, VMA, T0, image)
	b, err := repo.Open(ctx, r, k)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadDisk(t, b, repo.Point{VM: VMA, Time: T0})
	if err != nil || !bytes.Equal(got, image) {
		t.Fatalf("a point written after the race does not read back: %v", err)
	}
}

func testRoundtrip(t *testing.T, rp *repo.Repo) {
	image := DiskImage(1, 9*cs+1000)
	st := WritePoint(t, rp, VMA, T0, image)
	if st.Chunks != 10 || st.ZeroChunks != 3 || st.NewChunks != 7 || st.DedupChunks != 0 {
		t.Fatalf("stats %+v: want 10 chunks, 3 zero, 7 new", st)
	}
	p := repo.Point{VM: VMA, Time: T0}
	m, err := rp.Manifest(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Disks) != 1 || m.Disks[0].SHA256 != "" || m.Disks[0].ImageDigest != ImageDigest(image, cs) ||
		string(m.Records) != `{"name_label":"vm"}` {
		t.Fatalf("manifest %+v: want one disk with the image digest and no flat SHA-256 (a second pass over the bytes), and the records", m)
	}
	got, err := ReadDisk(t, rp, p)
	if err != nil || !bytes.Equal(got, image) {
		t.Fatalf("read back %d bytes, err %v: want the %d bytes written", len(got), err, len(image))
	}
	// The same content for another VM stores nothing new.
	if st := WritePoint(t, rp, VMB, T0, image); st.NewChunks != 0 || st.DedupChunks != 7 {
		t.Fatalf("second VM with the same disk: %+v, want 7 deduplicated and 0 new", st)
	}
	if n := CountChunks(t, rp); n != 7 {
		t.Fatalf("%d chunks stored, want 7 (zero chunks are never stored)", n)
	}
}

// CountChunks is the number of chunks stored.
func CountChunks(t *testing.T, rp *repo.Repo) int {
	t.Helper()
	infos, err := rp.Remote().List(context.Background(), repo.Root+"/chunks/")
	if err != nil {
		t.Fatal(err)
	}
	return len(infos)
}

func testIncremental(t *testing.T, rp *repo.Repo) {
	ctx := context.Background()
	image := DiskImage(2, 12*cs)
	WritePoint(t, rp, VMA, T0, image)
	base := repo.Point{VM: VMA, Time: T0}
	// The guest rewrites chunk 7 and grows the disk by one chunk.
	next := append(bytes.Clone(image), DiskImage(3, cs)...)
	copy(next[7*cs:], DiskImage(4, 100))
	b, err := rp.Begin(ctx, VMA, T0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort(ctx)
	w, err := b.AddDisk(ctx, repo.DiskSpec{Name: "xvda", Size: int64(len(next)), Base: &repo.BaseDisk{Point: base}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Put(ctx, 7, next[7*cs:8*cs]); err != nil {
		t.Fatal(err)
	}
	if err := w.PutAt(ctx, 12*cs+1, next[12*cs:]); err == nil {
		t.Fatal("PutAt an offset inside a chunk succeeded")
	}
	if err := w.PutAt(ctx, 12*cs, next[12*cs:]); err != nil {
		t.Fatal(err)
	}
	d, st, err := w.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.NewChunks != 2 || st.ReusedChunks != 8 || st.ZeroChunks != 3 || d.ImageDigest != ImageDigest(next, cs) || d.SHA256 != "" {
		t.Fatalf("incremental: %+v digest %s sha %q: want 2 new, 8 reused, 3 zero, the new image's digest, no flat SHA-256", st, d.ImageDigest, d.SHA256)
	}
	if _, err := b.Commit(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	got, err := ReadDisk(t, rp, b.Point())
	if err != nil || !bytes.Equal(got, next) {
		t.Fatalf("incremental point read back: %d bytes, %v", len(got), err)
	}
	// Without a base, a chunk not given is an error, never a hole.
	b2, err := rp.Begin(ctx, VMB, T0)
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
	image := DiskImage(5, 8*cs)
	WritePoint(t, rp, VMA, T0, image)
	id := firstChunk(t, rp)
	if err := rp.Remote().Delete(context.Background(), repo.Root+"/chunks/"+id[:2]+"/"+id); err != nil {
		t.Fatal(err)
	}
	_, err := ReadDisk(t, rp, repo.Point{VM: VMA, Time: T0})
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
	image := DiskImage(7, 4*cs)
	WritePoint(t, rp, VMA, T0, image)
	id := ChunkOf(t, rp, image[cs:2*cs])
	FlipByte(t, rp, repo.Root+"/chunks/"+id[:2]+"/"+id)
	dr, err := rp.OpenDisk(context.Background(), repo.Point{VM: VMA, Time: T0}, 0)
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

func testGC(t *testing.T, rp *repo.Repo) {
	ctx := context.Background()
	old, shared, young := DiskImage(10, 6*cs), DiskImage(11, 6*cs), DiskImage(12, 6*cs)
	WritePoint(t, rp, VMA, T0, append(old, shared...))
	WritePoint(t, rp, VMB, T0, append(shared, young...))
	if err := rp.Delete(ctx, repo.Point{VM: VMA, Time: T0}); err != nil {
		t.Fatal(err)
	}
	// A grace period longer than the test keeps every chunk.
	rep, err := rp.GC(ctx, repo.GCOptions{Grace: time.Hour})
	if err != nil || rep.Swept != 0 || rep.Young != 3 {
		t.Fatalf("gc with a 1h grace = %+v, %v: want nothing swept, 3 young", rep, err)
	}
	// With no grace, a chunk is swept once it is older than the sweep marker: S3 keeps
	// whole seconds, so GC runs until the marker's second has passed.
	swept := 0
	for deadline := time.Now().Add(5 * time.Second); swept < 3 && time.Now().Before(deadline); {
		rep, err = rp.GC(ctx, repo.GCOptions{Grace: -1})
		if err != nil || rep.Manifests != 1 || rep.Referenced != 6 {
			t.Fatalf("gc = %+v, %v: want 1 manifest, 6 referenced chunks", rep, err)
		}
		swept += rep.Swept
	}
	if swept != 3 {
		t.Fatalf("gc swept %d chunks, want the 3 only vm A used", swept)
	}
	got, err := ReadDisk(t, rp, repo.Point{VM: VMB, Time: T0})
	if err != nil || len(got) != 12*cs {
		t.Fatalf("vm B after gc: %d bytes, %v", len(got), err)
	}
	// A second GC has nothing left to do.
	if rep, err := rp.GC(ctx, repo.GCOptions{Grace: -1}); err != nil || rep.Swept != 0 || rep.Chunks != 6 {
		t.Fatalf("second gc = %+v, %v: want nothing swept, 6 chunks", rep, err)
	}
}

func testVerify(t *testing.T, rp *repo.Repo) {
	ctx := context.Background()
	image := DiskImage(20, 6*cs)
	WritePoint(t, rp, VMA, T0, image)
	WritePoint(t, rp, VMA, T0.Add(time.Hour), image)
	WritePoint(t, rp, VMB, T0, DiskImage(21, 6*cs))
	rep, err := rp.Verify(ctx, repo.VerifyOptions{Deep: true})
	if err != nil || rep.Err() != nil || rep.Checked != 6 || rep.Manifests != 3 {
		t.Fatalf("verify of a sound repository = %+v, %v, %v", rep, err, rep.Err())
	}
	// Flip one byte of one of vm A's chunks (rewritten through the remote).
	id := ChunkOf(t, rp, image[:cs])
	key := repo.Root + "/chunks/" + id[:2] + "/" + id
	FlipByte(t, rp, key)
	if rep, err := rp.Verify(ctx, repo.VerifyOptions{}); err != nil || rep.Err() != nil {
		t.Fatalf("shallow verify of a damaged chunk = %+v, %v: want no finding (it exists)", rep, err)
	}
	rep, err = rp.Verify(ctx, repo.VerifyOptions{Deep: true})
	if err != nil || len(rep.Problems) != 1 || rep.Problems[0].ID.String() != id || len(rep.Problems[0].Uses) != 2 {
		t.Fatalf("deep verify = %+v, %v: want chunk %s damaged, used by 2 points", rep, err, id)
	}
	msg := rep.Err().Error()
	for _, want := range []string{id, VMA + "/20261206T020000Z", VMA + "/20261206T030000Z", "damaged"} {
		if !strings.Contains(msg, want) {
			t.Errorf("verify error %q does not name %q", msg, want)
		}
	}
	if strings.Contains(msg, VMB) {
		t.Errorf("verify error %q names vm B, which does not use the chunk", msg)
	}
	// Missing is found without Deep.
	if err := rp.Remote().Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	rep, _ = rp.Verify(ctx, repo.VerifyOptions{})
	if len(rep.Problems) != 1 || !rep.Problems[0].Missing {
		t.Fatalf("verify after deleting %s = %+v: want it missing", id, rep)
	}
}

// ChunkOf is the id rp gives a chunk holding data.
func ChunkOf(t *testing.T, rp *repo.Repo, data []byte) string {
	return rp.ChunkID(data).String()
}

// FlipByte rewrites the object at key with one byte in its middle flipped.
func FlipByte(t *testing.T, rp *repo.Repo, key string) {
	t.Helper()
	ctx := context.Background()
	rc, err := rp.Remote().Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x40
	u, err := rp.Remote().Create(ctx, key, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := u.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// A GC that finds a backup running sweeps nothing, even the orphan chunks that backup is
// re-using; once the backup commits they are referenced and stay.
func testGCDefers(t *testing.T, rp *repo.Repo) {
	ctx := context.Background()
	image := DiskImage(30, 6*cs)
	WritePoint(t, rp, VMA, T0, image)
	if err := rp.Delete(ctx, repo.Point{VM: VMA, Time: T0}); err != nil {
		t.Fatal(err)
	}
	b, err := rp.Begin(ctx, VMB, T0)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort(ctx)
	w, _ := b.AddDisk(ctx, repo.DiskSpec{Name: "xvda", Size: int64(len(image))})
	if err := w.Fill(ctx, bytes.NewReader(image)); err != nil {
		t.Fatal(err)
	}
	_, st, err := w.Close(ctx)
	if err != nil || st.DedupChunks != 3 {
		t.Fatalf("backup re-using orphans: %+v, %v: want 3 deduplicated", st, err)
	}
	rep, err := rp.GC(ctx, repo.GCOptions{Grace: -1})
	if err != nil || !rep.Deferred || rep.LiveBackups != 1 || rep.Swept != 0 {
		t.Fatalf("gc beside a running backup = %+v, %v: want deferred, 1 live backup, nothing swept", rep, err)
	}
	if _, err := b.Commit(ctx, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if rep, err := rp.GC(ctx, repo.GCOptions{Grace: -1}); err != nil || rep.Deferred || rep.Swept != 0 || rep.Chunks != 3 {
		t.Fatalf("gc after the commit = %+v, %v: want a sweep that removes nothing of 3 chunks", rep, err)
	}
	if got, err := ReadDisk(t, rp, b.Point()); err != nil || len(got) != len(image) {
		t.Fatalf("read back: %d bytes, %v", len(got), err)
	}
}
