package mirror_test

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/mirror"
	"xbr/shared/bus"
	"xbr/shared/cli/serve"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/remote"
	"xbr/shared/remote/s3/s3test"
	"xbr/shared/repo"
	"xbr/shared/repo/repotest"
	"xbr/shared/runs"
	"xbr/shared/testsupport"
)

// world is a source repository (dir), a target (dir or S3), a mirror job
// keeping 2 points per VM, and the function's handlers.
type world struct {
	t                       *testing.T
	cfg                     *config.Config
	repos                   *fn.Repos
	src                     *repo.Repo
	planner, worker, runner bus.Handler
	fires                   int
}

func newWorld(t *testing.T, target string) *world { return newWorldKey(t, target, "") }

// newWorldKey is newWorld with both repositories encrypted by the key in
// keyFile ("" for plain ones).
func newWorldKey(t *testing.T, target, keyFile string) *world {
	t.Helper()
	return newWorldOpen(t, target, keyFile, serve.OpenRemote)
}

// newWorldOpen is newWorldKey with the remotes opened by open.
func newWorldOpen(t *testing.T, target, keyFile string, open fn.Opener) *world {
	t.Helper()
	ctx := context.Background()
	targetYAML := fmt.Sprintf("  - {name: offsite, type: dir, path: %q}\n", t.TempDir())
	if target == "s3" {
		gw := s3test.Start(t)
		gw.NewBucket(t, "backups")
		targetYAML = fmt.Sprintf("  - {name: offsite, type: s3, endpoint: %q, bucket: backups, access_key: %s, secret_key: %s, chunk_size: 64KiB}\n",
			gw.Endpoint, gw.AccessKey, gw.SecretKey)
	} else {
		targetYAML = strings.Replace(targetYAML, "}", ", chunk_size: 64KiB}", 1)
	}
	doc := fmt.Sprintf(`remotes:
  - {name: nfs, type: dir, path: %q, chunk_size: 64KiB}
%sjobs:
  - name: copy
    mode: mirror
    source: nfs
    remotes: [offsite]
    schedules:
      - {name: nightly, cron: "0 4 * * *", retention: 2}
`, t.TempDir(), targetYAML)
	if keyFile != "" {
		doc = strings.ReplaceAll(doc, "chunk_size: 64KiB", fmt.Sprintf("chunk_size: 64KiB, encryption_key_file: %q", keyFile))
	}
	cfg, err := config.Parse("test.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, cfg: cfg, repos: fn.NewRepos(cfg.Remotes, fn.NewRemotes(cfg.Remotes, open))}
	if w.src, err = w.repos.Ensure(ctx, "nfs"); err != nil {
		t.Fatal(err)
	}
	coord, err := runs.New(ctx, testsupport.StartNATS(t), runs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := mirror.Deps{Config: cfg, Repos: w.repos, Runs: coord}
	w.planner, w.worker, w.runner = mirror.NewPlanner(d), mirror.NewWorker(d), mirror.NewRunner(d)
	return w
}

// image is the disk of point i of a VM: 3 chunks of its own, 3 zero chunks.
func image(vm string, i int) []byte {
	return repotest.DiskImage(uint64(len(vm)*100+i+int(vm[0])), 6*repotest.ChunkSize)
}

func at(i int) time.Time { return repotest.T0.Add(time.Duration(i) * 24 * time.Hour) }

// run fires the job and drives the run to its end, returning every event.
func (w *world) run() []events.Received {
	t := w.t
	ctx := context.Background()
	w.fires++
	fire := at(10 + w.fires)
	id := events.DeriveID("copy", "nightly", fire.Format(time.RFC3339))
	due, err := events.Subjects{}.Message(events.Meta{ID: id, Source: "/test", Time: fire},
		events.ScheduleDue{RunID: id, Job: "copy", Schedule: "nightly", Mode: config.ModeMirror, FireTime: fire})
	if err != nil {
		t.Fatal(err)
	}
	queue := []bus.Out{due}
	var all []events.Received
	for len(queue) > 0 {
		ev := testsupport.Deliver(t, queue[0], 1, 5)
		queue = queue[1:]
		all = append(all, ev.Received)
		var h bus.Handler
		switch ev.Type() {
		case events.TypeScheduleDue:
			h = w.planner
		case events.TypeMirrorRequested:
			h = w.worker
		case events.TypeMirrorCompleted, events.TypeMirrorFailed:
			h = w.runner
		default:
			continue
		}
		outs, err := h.Handle(ctx, ev)
		if err != nil {
			t.Fatalf("%s: %v", ev.Type(), err)
		}
		queue = append(queue, outs...)
	}
	return all
}

func ofType[T events.Payload](all []events.Received) []T {
	var out []T
	for _, r := range all {
		if p, ok := r.Payload.(T); ok {
			out = append(out, p)
		}
	}
	return out
}

// TestMirror: the first run copies the points the target's retention keeps
// (not the older ones), the next copies only the new point and its new
// chunks, deletes the target's point beyond its retention and collects the
// target; the target's points read back whole, its repository verifies, and
// a run with nothing new copies nothing.
func TestMirror(t *testing.T) {
	for _, target := range []string{"dir", "s3"} {
		t.Run(target, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t, target)
			for i := range 3 {
				repotest.WritePoint(t, w.src, repotest.VMA, at(i), image(repotest.VMA, i))
			}
			repotest.WritePoint(t, w.src, repotest.VMB, at(0), image(repotest.VMB, 0))
			all := w.run()
			done := ofType[events.MirrorCompleted](all)
			if len(done) != 2 || len(ofType[events.MirrorFailed](all)) != 0 {
				t.Fatalf("first run: %d completed, failed %+v", len(done), ofType[events.MirrorFailed](all))
			}
			byVM := map[string]events.MirrorTarget{}
			for _, c := range done {
				byVM[c.VMUUID] = c.Targets[0]
			}
			id := func(vm string, i int) string {
				return "offsite:xbr-repo/" + repo.Point{VM: vm, Time: at(i)}.String()
			}
			if a := byVM[repotest.VMA]; !slices.Equal(a.Copied, []string{id(repotest.VMA, 1), id(repotest.VMA, 2)}) ||
				a.ChunksCopied != 6 || len(a.Deleted) != 0 || a.GC != nil {
				t.Fatalf("vm A, first run: %+v", a)
			}
			if rc := ofType[events.RunCompleted](all); len(rc) != 1 || rc[0].Status != events.StatusSuccess {
				t.Fatalf("run.completed: %+v", rc)
			}
			repotest.WritePoint(t, w.src, repotest.VMA, at(3), image(repotest.VMA, 3))
			time.Sleep(1100 * time.Millisecond) // S3 keeps whole seconds; the sweep removes chunks older than its marker
			all = w.run()
			done = ofType[events.MirrorCompleted](all)
			if len(done) != 2 {
				t.Fatalf("second run: %d completed, %+v", len(done), ofType[events.MirrorFailed](all))
			}
			for _, c := range done {
				byVM[c.VMUUID] = c.Targets[0]
			}
			a := byVM[repotest.VMA]
			if !slices.Equal(a.Copied, []string{id(repotest.VMA, 3)}) || a.ChunksCopied != 3 || len(a.Deleted) != 1 ||
				a.Deleted[0].ID != id(repotest.VMA, 1) || a.GC != nil {
				t.Fatalf("vm A, second run: %+v (gc %+v)", a, a.GC)
			}
			if b := byVM[repotest.VMB]; len(b.Copied) != 0 || b.ChunksCopied != 0 || b.BytesCopied != 0 {
				t.Fatalf("vm B, nothing new: %+v", b)
			}
			dst, err := w.repos.Open(ctx, "offsite")
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range []struct {
				vm string
				i  int
			}{{repotest.VMA, 2}, {repotest.VMA, 3}, {repotest.VMB, 0}} {
				got, err := repotest.ReadDisk(t, dst, repo.Point{VM: p.vm, Time: at(p.i)})
				if err != nil || repotest.Sum(got) != repotest.Sum(image(p.vm, p.i)) {
					t.Fatalf("%s point %d on the target: %v", p.vm, p.i, err)
				}
			}
			if pts, _ := dst.List(ctx, ""); len(pts) != 3 {
				t.Fatalf("target points: %v", pts)
			}
			// The deletion left the target due for the GC that the prune
			// function runs at the run's end (functions/prune, AfterRun): it
			// sweeps the 3 chunks only the deleted point used.
			if due, err := dst.GCDue(ctx); err != nil || !due {
				t.Fatalf("target due for GC = %v, %v; want true", due, err)
			}
			if rep, err := dst.GC(ctx, repo.GCOptions{Grace: -1}); err != nil || rep.Swept != 3 {
				t.Fatalf("target GC: %+v, %v; want 3 chunks swept", rep, err)
			}
			if rep, err := dst.Verify(ctx, repo.VerifyOptions{Deep: true}); err != nil || rep.Err() != nil {
				t.Fatalf("verify the target: %v %v", err, rep.Err())
			}
		})
	}
}

// TestMirrorRefusesAnIncompatibleTarget: a target whose repository was
// created on its own with another chunk size (as an incremental job writing
// there directly would) cannot take the source's chunks as stored: the VM's
// mirror fails saying what differs, the run fails, and the target gets no
// point.
func TestMirrorRefusesAnIncompatibleTarget(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, "dir")
	rem, err := fn.NewRemotes(w.cfg.Remotes, serve.OpenRemote).Get(ctx, "offsite")
	if err != nil {
		t.Fatal(err)
	}
	dst, err := repo.Init(ctx, rem, repo.InitOptions{ChunkSize: 2 * repotest.ChunkSize})
	if err != nil {
		t.Fatal(err)
	}
	repotest.WritePoint(t, w.src, repotest.VMA, at(0), image(repotest.VMA, 0))
	all := w.run()
	failed := ofType[events.MirrorFailed](all)
	if len(failed) != 1 || !strings.Contains(failed[0].Error, "chunk_size 131072 on the target, 65536 on the source") {
		t.Fatalf("failed: %+v", failed)
	}
	if rc := ofType[events.RunCompleted](all); len(rc) != 1 || rc[0].Status != events.StatusFailure {
		t.Fatalf("run.completed: %+v", rc)
	}
	if pts, err := dst.List(ctx, ""); err != nil || len(pts) != 0 {
		t.Fatalf("target points: %v, %v", pts, err)
	}
}

// prunedMidCopy is the source's remote of a mirror run during which the
// source's retention and GC remove a point: once armed, the first chunk
// read finds the chunk gone and the point's manifest deleted.
type prunedMidCopy struct {
	remote.Remote
	mu       sync.Mutex
	armed    bool
	manifest string // the key of the point that goes
}

func (p *prunedMidCopy) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	p.mu.Lock()
	fire := p.armed && strings.HasPrefix(key, repo.Root+"/chunks/")
	p.armed = p.armed && !fire
	p.mu.Unlock()
	if fire {
		if err := p.Remote.Delete(ctx, p.manifest); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("injected: chunk swept by the source's GC: %w", remote.ErrNotFound)
	}
	return p.Remote.Open(ctx, key)
}

// TestMirrorKeepsTargetWhenAKeptPointVanishes: the retention keeps the
// source's two newest points, so the target's older one is to go; but the
// older of the two is deleted on the source while it is being copied. The
// target would be left with one point: nothing is deleted on it unless
// every kept point is there, so its older point stays, and the next run
// decides again.
func TestMirrorKeepsTargetWhenAKeptPointVanishes(t *testing.T) {
	ctx := context.Background()
	var src *prunedMidCopy
	w := newWorldOpen(t, "dir", "", func(ctx context.Context, c config.Remote) (remote.Remote, error) {
		r, err := serve.OpenRemote(ctx, c)
		if err != nil || c.Name != "nfs" {
			return r, err
		}
		src = &prunedMidCopy{Remote: r}
		return src, nil
	})
	repotest.WritePoint(t, w.src, repotest.VMA, at(0), image(repotest.VMA, 0))
	if done := ofType[events.MirrorCompleted](w.run()); len(done) != 1 || len(done[0].Targets[0].Copied) != 1 {
		t.Fatalf("first run: %+v", done)
	}
	repotest.WritePoint(t, w.src, repotest.VMA, at(1), image(repotest.VMA, 1))
	repotest.WritePoint(t, w.src, repotest.VMA, at(2), image(repotest.VMA, 2))
	src.mu.Lock()
	src.armed, src.manifest = true, repo.Root+"/vms/"+repo.Point{VM: repotest.VMA, Time: at(1)}.String()+".json"
	src.mu.Unlock()
	all := w.run()
	done := ofType[events.MirrorCompleted](all)
	if len(done) != 1 {
		t.Fatalf("second run: %d completed, failed %+v", len(done), ofType[events.MirrorFailed](all))
	}
	if tg := done[0].Targets[0]; len(tg.Copied) != 1 || len(tg.Deleted) != 0 {
		t.Fatalf("second run on the target: copied %v, deleted %v; want the newest point copied and nothing deleted", tg.Copied, tg.Deleted)
	}
	dst, err := w.repos.Open(ctx, "offsite")
	if err != nil {
		t.Fatal(err)
	}
	if pts, err := dst.List(ctx, repotest.VMA); err != nil || len(pts) != 2 || !pts[0].Time.Equal(at(0)) {
		t.Fatalf("target points: %v, %v; want the first and the newest", pts, err)
	}
}
