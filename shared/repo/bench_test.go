package repo

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"xbr/shared/remote/dir"
)

// BenchmarkGC100k: GC over a dir remote holding 100,000 chunks, half of them used by 100
// restore points (20 VMs × 5 points sharing most chunks), half unreferenced. Reports the
// time per GC and the peak heap in use while it ran.
func BenchmarkGC100k(b *testing.B) {
	const total, vms, points, perDisk = 100_000, 20, 5, 2_500
	ctx := context.Background()
	var peak uint64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		rp, root := buildGCRepo(b, total, vms, points, perDisk)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		stop := samplePeak(&peak)
		b.StartTimer()
		rep, err := rp.GC(ctx, GCOptions{Grace: -1})
		b.StopTimer()
		stop()
		if err != nil || rep.Chunks != total || rep.Swept != total-vms*perDisk {
			b.Fatalf("gc = %+v, %v: want %d chunks, %d swept", rep, err, total, total-vms*perDisk)
		}
		os.RemoveAll(root)
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(total), "chunks")
}

// samplePeak records the highest HeapInuse seen until stop is called.
func samplePeak(peak *uint64) (stop func()) {
	done := make(chan struct{})
	var finished atomic.Bool
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for !finished.Load() {
			runtime.ReadMemStats(&ms)
			*peak = max(*peak, ms.HeapInuse)
			time.Sleep(2 * time.Millisecond)
		}
	}()
	return func() { finished.Store(true); <-done }
}

// buildGCRepo writes the chunks as files straight into a dir remote's folder (the setup is
// not what is measured) and the manifests through the package's writer.
func buildGCRepo(b *testing.B, total, vms, points, perDisk int) (*Repo, string) {
	root, err := os.MkdirTemp("", "xbr-gc-bench-")
	if err != nil {
		b.Fatal(err)
	}
	d, err := dir.New("bench", root)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	rp, err := Init(ctx, d, InitOptions{ChunkSize: MinChunkSize})
	if err != nil {
		b.Fatal(err)
	}
	id := func(n int) ChunkID { return sha256.Sum256(binary.BigEndian.AppendUint64(nil, uint64(n))) }
	old := time.Now().Add(-time.Hour)
	for n := 0; n < total; n++ {
		p := filepath.Join(root, filepath.FromSlash(chunkKey(id(n))))
		if n < 256 || n%5000 == 0 {
			os.MkdirAll(filepath.Dir(p), 0o755)
		}
		if err := os.WriteFile(p, []byte("chunk"), 0o644); err != nil {
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte("chunk"), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		os.Chtimes(p, old, old)
	}
	for v := 0; v < vms; v++ {
		for pt := 0; pt < points; pt++ {
			writeBenchManifest(b, rp, v, pt, perDisk, id)
		}
	}
	return rp, root
}

// writeBenchManifest writes VM v's point pt: chunks v×perDisk onwards, all but a few the
// same in every point of the VM (point pt differs in its first pt chunks, which come from
// the last VM's range so that every point references only the first vms×perDisk ids).
func writeBenchManifest(b *testing.B, rp *Repo, v, pt, perDisk int, id func(int) ChunkID) {
	vm := fmt.Sprintf("%08x-0000-4000-8000-000000000000", v)
	vm = strings.ToLower(vm)
	m := &Manifest{Format: ManifestFormat, Version: ManifestVersion, VM: vm,
		Time: time.Date(2026, 12, 1+pt, 2, 0, 0, 0, time.UTC), Records: []byte(`{}`),
		Disks: []Disk{{Name: "xvda", Size: int64(perDisk) * MinChunkSize, ChunkSize: MinChunkSize,
			Chunks: int64(perDisk), ImageDigest: strings.Repeat("0", 64)}}}
	ids := func(_ int, emit func(entry) error) error {
		for k := 0; k < perDisk; k++ {
			if err := emit(entry{id: id(v*perDisk + k), sum: id(v*perDisk + k)}); err != nil {
				return err
			}
		}
		return nil
	}
	if err := rp.commitManifest(context.Background(), m, ids, func() error { return nil }); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWriteRead64MiB: a full scan of a 64 MiB disk (1 MiB chunks, half random-like
// and half text), streamed into a dir remote, then read back verified. Reports the peak
// heap, which depends on the concurrency, not on the disk's size.
func BenchmarkWriteRead64MiB(b *testing.B) {
	const size = 64 << 20
	ctx := context.Background()
	b.SetBytes(size)
	var peak uint64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d, err := dir.New("bench", b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		rp, err := Init(ctx, d, InitOptions{})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		stop := samplePeak(&peak)
		b.StartTimer()
		writeAndRead(b, rp, size, time.Unix(int64(i), 0))
		b.StopTimer()
		stop()
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// patternReader streams a disk image without holding it: odd MiBs text, even ones noise.
type patternReader struct{ off, size int }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.size {
		return 0, io.EOF
	}
	n := min(len(b), p.size-p.off)
	for k := 0; k < n; k++ {
		i := p.off + k
		if (i/(1<<20))%2 == 0 {
			b[k] = byte(i*2654435761>>13) ^ byte(i>>7)
		} else {
			b[k] = "the quick brown fox jumps over the lazy dog "[i%44]
		}
	}
	p.off += n
	return n, nil
}

func writeAndRead(b *testing.B, rp *Repo, size int, at time.Time) {
	ctx := context.Background()
	bk, err := rp.Begin(ctx, "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f", at)
	if err != nil {
		b.Fatal(err)
	}
	w, _ := bk.AddDisk(ctx, DiskSpec{Name: "xvda", Size: int64(size)})
	if err := w.Fill(ctx, &patternReader{size: size}); err != nil {
		b.Fatal(err)
	}
	if _, _, err := w.Close(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := bk.Commit(ctx, []byte(`{}`)); err != nil {
		b.Fatal(err)
	}
	dr, err := rp.OpenDisk(ctx, bk.Point(), 0)
	if err != nil {
		b.Fatal(err)
	}
	defer dr.Close()
	if n, err := io.Copy(io.Discard, dr); err != nil || n != int64(size) {
		b.Fatalf("read back %d bytes, %v", n, err)
	}
}

// BenchmarkIncremental1Pct: a 256 MiB disk stored by full scan (the first run), then a point
// against it with 1% of its chunks Put (an incremental run). Reports both times; the second
// reads no chunk of the base, so it is a small fraction of the first.
func BenchmarkIncremental1Pct(b *testing.B) {
	const size = 256 << 20
	ctx := context.Background()
	var first, incr time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d, err := dir.New("bench", b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		rp, err := Init(ctx, d, InitOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		base := benchFullPoint(b, rp, size)
		mid := time.Now()
		benchIncrementalPoint(b, rp, base, size)
		first, incr = first+mid.Sub(start), incr+time.Since(mid)
	}
	b.ReportMetric(float64(first.Milliseconds())/float64(b.N), "first-ms")
	b.ReportMetric(float64(incr.Milliseconds())/float64(b.N), "incremental-ms")
	b.ReportMetric(100*incr.Seconds()/first.Seconds(), "incremental/first-%")
}

func benchFullPoint(b *testing.B, rp *Repo, size int) Point {
	ctx := context.Background()
	bk, err := rp.Begin(ctx, "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f", time.Unix(0, 0))
	if err != nil {
		b.Fatal(err)
	}
	w, _ := bk.AddDisk(ctx, DiskSpec{Name: "xvda", Size: int64(size)})
	if err := w.Fill(ctx, &patternReader{size: size}); err != nil {
		b.Fatal(err)
	}
	if _, _, err := w.Close(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := bk.Commit(ctx, []byte(`{}`)); err != nil {
		b.Fatal(err)
	}
	return bk.Point()
}

// benchIncrementalPoint Puts 1% of the chunks (rounded up), spread over the disk, with new
// content.
func benchIncrementalPoint(b *testing.B, rp *Repo, base Point, size int) {
	ctx := context.Background()
	bk, err := rp.Begin(ctx, base.VM, base.Time.Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	w, _ := bk.AddDisk(ctx, DiskSpec{Name: "xvda", Size: int64(size), Base: &BaseDisk{Point: base}})
	n := int64(size / rp.cfg.ChunkSize)
	changed := (n + 99) / 100
	chunk := make([]byte, rp.cfg.ChunkSize)
	for k := int64(0); k < changed; k++ {
		(&patternReader{off: int(k+1) * 7, size: len(chunk) + int(k+1)*7}).Read(chunk)
		if err := w.Put(ctx, k*n/changed+n/(2*changed), chunk); err != nil {
			b.Fatal(err)
		}
	}
	_, st, err := w.Close(ctx)
	if err != nil || st.NewChunks != changed {
		b.Fatalf("incremental point: %+v, %v: want %d new chunks", st, err, changed)
	}
	if _, err := bk.Commit(ctx, []byte(`{}`)); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFill1GiB: a first run's full scan of a 1 GiB disk of distinct chunks that
// compress about 3× (uniqueReader) into a dir remote, up to the committed manifest. Besides the
// wall time, which follows the machine's load, it reports the process's CPU time per run
// (user+system), the cost the first-run throughput issue is about, and the stored bytes.
func BenchmarkFill1GiB(b *testing.B) {
	const size = 1 << 30
	ctx := context.Background()
	b.SetBytes(size)
	var cpu time.Duration
	var stored int64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		d, err := dir.New("bench", b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		rp, err := Init(ctx, d, InitOptions{})
		if err != nil {
			b.Fatal(err)
		}
		c0 := cpuTime()
		b.StartTimer()
		bk, err := rp.Begin(ctx, "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f", time.Unix(0, 0))
		if err != nil {
			b.Fatal(err)
		}
		w, _ := bk.AddDisk(ctx, DiskSpec{Name: "xvda", Size: size})
		if err := w.Fill(ctx, &uniqueReader{size: size}); err != nil {
			b.Fatal(err)
		}
		_, st, err := w.Close(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bk.Commit(ctx, []byte(`{}`)); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += cpuTime() - c0
		stored += st.BytesStored
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(stored)/float64(b.N)/(1<<20), "stored-MiB/op")
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// uniqueReader streams a disk image whose chunks all differ, as a first run meets them: in
// every 4 KiB block, a quarter of pseudo-random bytes, then text numbered by its offset.
type uniqueReader struct {
	off, size int
	rnd       *rand.ChaCha8
}

func (u *uniqueReader) Read(b []byte) (int, error) {
	if u.off >= u.size {
		return 0, io.EOF
	}
	if u.rnd == nil {
		u.rnd = rand.NewChaCha8([32]byte{1})
	}
	n := min(len(b), u.size-u.off, 4096-u.off%4096)
	blk := make([]byte, 4096)
	u.rnd.Read(blk[:1024])
	text := []byte(fmt.Sprintf("block at offset %d of the quick brown fox. ", u.off-u.off%4096))
	for k := 1024; k < len(blk); k++ {
		blk[k] = text[k%len(text)]
	}
	copy(b, blk[u.off%4096:u.off%4096+n])
	u.off += n
	return n, nil
}
