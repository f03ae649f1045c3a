package tests

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/remote"
	"xbr/shared/repo"
	"xbr/shared/xapi/xapisim"
)

// killCS is the chunk size of the repositories of these tests: the
// smallest, so that many chunks take little space.
const killCS = repo.MinChunkSize

// writeChunks commits a restore point of vm at at whose disk is n distinct,
// nearly empty (so tiny once compressed) chunks numbered from seed.
func writeChunks(t *testing.T, rp *repo.Repo, vm string, at time.Time, seed uint64, n int) {
	t.Helper()
	ctx := context.Background()
	b, err := rp.Begin(ctx, vm, at)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Abort(ctx)
	w, err := b.AddDisk(ctx, repo.DiskSpec{Name: "xvda", Size: int64(n) * killCS})
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, killCS)
	for i := range n {
		binary.LittleEndian.PutUint64(chunk, seed<<32|uint64(i)+1)
		if err := w.Put(ctx, int64(i), chunk); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Commit(ctx, json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
}

// chunkFiles counts the chunk files of the repository under a dir remote.
func chunkFiles(root string) int {
	n := 0
	_ = filepath.WalkDir(filepath.Join(root, "xbr-repo", "chunks"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && len(d.Name()) == 64 {
			n++
		}
		return nil
	})
	return n
}

// age sets the modification time of every chunk file under root to at, so
// that a GC's grace period (an hour in `xbr serve`) has passed for them.
func age(t *testing.T, root string, at time.Time) {
	t.Helper()
	err := filepath.WalkDir(filepath.Join(root, "xbr-repo", "chunks"), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return os.Chtimes(path, at, at)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// verifyClean checks that every chunk a restore point names is there and
// whole.
func verifyClean(t *testing.T, r remote.Remote) *repo.Repo {
	t.Helper()
	rp, err := repo.Open(context.Background(), r, repo.Key{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := rp.Verify(context.Background(), repo.VerifyOptions{Deep: true})
	if err != nil || rep.Err() != nil {
		t.Fatalf("verify %s: %v %v", r.Name(), err, rep.Err())
	}
	return rp
}

// fire runs `xbr run job` against s and returns the run id.
func fire(t *testing.T, ctx context.Context, s *server, job string) string {
	t.Helper()
	out, errOut, code := xbr(t, ctx, nil, "run", job, "--nats", s.natsURL(t))
	if code != 0 {
		t.Fatalf("xbr run %s: exit %d: %s %s", job, code, out, errOut)
	}
	return strings.TrimSuffix(strings.Fields(out)[1], ":")
}

// killWhen SIGKILLs s (by its PID) as soon as cond holds.
func killWhen(t *testing.T, s *server, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) || s.exited() {
			t.Fatalf("%s did not happen:\n%s", what, s.output())
		}
		time.Sleep(2 * time.Millisecond) // a tight poll: the kill must land in the middle
	}
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	s.kill(t)
}

const (
	vmKillA = "0b7c5e2a-4f7e-4d7b-9a51-3f1b2c3d4e5f"
	vmKillB = "5d2e1f00-aaaa-4bbb-8ccc-123456789abc"
)

var killT0 = time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC)

// TestGCSurvivesSIGKILL kills `xbr serve` while a gc job's GC sweeps a
// repository, restarts it: nothing a restore point uses is missing, and the
// next GC completes the sweep.
func TestGCSurvivesSIGKILL(t *testing.T) {
	p := startPool(t, xapisim.Options{VMs: 1, DiskSize: 1 << 20})
	root, nfs := dirRemote(t, "nfs")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	rp, err := repo.Init(ctx, nfs, repo.InitOptions{ChunkSize: killCS})
	if err != nil {
		t.Fatal(err)
	}
	const kept, garbage = 200, 4000
	writeChunks(t, rp, vmKillA, killT0, 1, kept)
	writeChunks(t, rp, vmKillB, killT0, 2, garbage)
	if err := rp.Delete(ctx, repo.Point{VM: vmKillB, Time: killT0}); err != nil {
		t.Fatal(err)
	}
	age(t, root, time.Now().Add(-2*time.Hour))
	cfg := writeFile(t, "xbr.yaml", configYAML(p, fmt.Sprintf(`  - {name: nfs, type: dir, path: %s, chunk_size: 64KiB}`, root),
		`  - name: collect
    mode: gc
    remotes: [nfs]
    schedules:
      - {name: weekly, cron: "0 6 * * 0"}`))
	env := []string{"XBR_TEST_POOL_PASSWORD=" + p.pass}
	args := []string{"--config", cfg, "--data-dir", t.TempDir(), "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0"}
	s := startServe(t, env, args...)
	fire(t, ctx, s, "collect")
	killWhen(t, s, "the sweep to start", func() bool { return chunkFiles(root) < kept+garbage })
	left := chunkFiles(root)
	if left <= kept || left >= kept+garbage {
		t.Fatalf("%d chunks after the kill: want the sweep cut short between %d and %d", left, kept, kept+garbage)
	}
	verifyClean(t, nfs)
	// The killed GC swept nothing to the end: the repository must still owe one, so the
	// next incremental run's GC (which collects only a due repository) resumes it even
	// where no gc job is scheduled.
	if due, err := rp.GCDue(ctx); err != nil || !due {
		t.Fatalf("GCDue after the GC was killed = %v, %v; want true", due, err)
	}

	s2 := startServe(t, env, args...)
	rc := waitRunCompleted(t, ctx, s2.natsURL(t), fire(t, ctx, s2, "collect"))
	if rc.Status != events.StatusSuccess {
		t.Fatalf("gc run after the restart: %+v\n%s", rc, s2.output())
	}
	if n := chunkFiles(root); n != kept {
		t.Fatalf("%d chunks after the next GC, want the %d the restore point uses", n, kept)
	}
	verifyClean(t, nfs)
	if due, err := rp.GCDue(ctx); err != nil || due {
		t.Fatalf("GCDue after the GC that swept = %v, %v; want false", due, err)
	}
}

// TestMirrorSurvivesSIGKILL kills `xbr serve` while a mirror job copies
// chunks, restarts it: the target holds no half-copied restore point and
// nothing any of its points uses is missing; the killed run then completes
// (its work item is redelivered) with every point whole on the target, and
// the next run succeeds too.
func TestMirrorSurvivesSIGKILL(t *testing.T) {
	p := startPool(t, xapisim.Options{VMs: 1, DiskSize: 1 << 20})
	srcRoot, nfs := dirRemote(t, "nfs")
	dstRoot, offsite := dirRemote(t, "offsite")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	src, err := repo.Init(ctx, nfs, repo.InitOptions{ChunkSize: killCS})
	if err != nil {
		t.Fatal(err)
	}
	const perPoint = 2500
	writeChunks(t, src, vmKillA, killT0, 1, perPoint)
	writeChunks(t, src, vmKillA, killT0.Add(24*time.Hour), 2, perPoint)
	cfg := writeFile(t, "xbr.yaml", configYAML(p, fmt.Sprintf(`  - {name: nfs, type: dir, path: %s, chunk_size: 64KiB}
  - {name: offsite, type: dir, path: %s, chunk_size: 64KiB}`, srcRoot, dstRoot),
		`  - name: copy
    mode: mirror
    source: nfs
    remotes: [offsite]
    schedules:
      - {name: nightly, cron: "0 4 * * *", retention: 2}`))
	env := []string{"XBR_TEST_POOL_PASSWORD=" + p.pass}
	args := []string{"--config", cfg, "--data-dir", t.TempDir(), "--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0"}
	s := startServe(t, env, args...)
	runID := fire(t, ctx, s, "copy")
	killWhen(t, s, "the mirror to copy chunks", func() bool { return chunkFiles(dstRoot) > perPoint/5 })
	if n := chunkFiles(dstRoot); n >= 2*perPoint {
		t.Fatalf("%d chunks on the target after the kill: the mirror was not cut short", n)
	}
	dst := verifyClean(t, offsite)
	if pts, err := dst.List(ctx, ""); err != nil || len(pts) > 1 {
		t.Fatalf("target points after the kill: %v, %v (the second point's chunks were not all copied)", pts, err)
	}

	s2 := startServe(t, env, args...)
	if rc := waitRunCompleted(t, ctx, s2.natsURL(t), runID); rc.Status != events.StatusSuccess {
		t.Fatalf("the killed run after the restart: %+v\n%s", rc, s2.output())
	}
	dst = verifyClean(t, offsite)
	if pts, err := dst.List(ctx, vmKillA); err != nil || len(pts) != 2 || chunkFiles(dstRoot) != 2*perPoint {
		t.Fatalf("target after the resumed mirror: %v, %v, %d chunks", pts, err, chunkFiles(dstRoot))
	}
	if rc := waitRunCompleted(t, ctx, s2.natsURL(t), fire(t, ctx, s2, "copy")); rc.Status != events.StatusSuccess {
		t.Fatalf("the next mirror run: %+v", rc)
	}
	if n := chunkFiles(dstRoot); n != 2*perPoint {
		t.Fatalf("%d chunks on the target after a run with nothing new, want %d", n, 2*perPoint)
	}
}
