package mirror_test

import (
	"context"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/mirror"
	"xbr/shared/cli/serve"
	"xbr/shared/config"
	"xbr/shared/remote"
	"xbr/shared/repo"
	"xbr/shared/repo/repotest"
	"xbr/shared/runs"
	"xbr/shared/testsupport"
)

// clockedWorld is a world on a dir target whose source remote "nfs" is
// wrap's and whose run coordinator and mirror functions keep clk's time (a
// slow link or a suspended host, played fast).
func clockedWorld(t *testing.T, clk *testsupport.StepClock, wrap func(remote.Remote) remote.Remote) (*world, *runs.Coordinator) {
	t.Helper()
	ctx := context.Background()
	w := newWorldOpen(t, "dir", "", func(ctx context.Context, c config.Remote) (remote.Remote, error) {
		r, err := serve.OpenRemote(ctx, c)
		if err != nil || c.Name != "nfs" {
			return r, err
		}
		return wrap(r), nil
	})
	coord, err := runs.New(ctx, testsupport.StartNATS(t), runs.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	d := mirror.Deps{Config: w.cfg, Repos: w.repos, Runs: coord, Now: clk.Now}
	w.planner, w.worker, w.runner = mirror.NewPlanner(d), mirror.NewWorker(d), mirror.NewRunner(d)
	return w, coord
}

// slowLink is a source remote each of whose chunk reads takes 5 minutes
// (the clock's); at the 8th, another fire of the job comes.
type slowLink struct {
	remote.Remote
	clock *testsupport.StepClock
	mu    sync.Mutex
	armed bool
	reads int
	fire  func()
}

func (s *slowLink) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	s.mu.Lock()
	if s.armed && strings.HasPrefix(key, repo.Root+"/chunks/") {
		s.clock.Add(5 * time.Minute)
		if s.reads++; s.reads == 8 {
			s.fire()
		}
	}
	s.mu.Unlock()
	return s.Remote.Open(ctx, key)
}

// TestMirrorKeepsRunLockWhileCopyingAPoint: copying one restore point of 9
// data chunks over a link taking 5 minutes a chunk lasts 45 minutes. The
// run's lock must stay fresh meanwhile (as an export renews it while it
// streams): another fire of the job 40 minutes in must find the job
// running, not take the lock over as a crashed run's and start a second
// mirror of the same VM.
func TestMirrorKeepsRunLockWhileCopyingAPoint(t *testing.T) {
	ctx := context.Background()
	clk := testsupport.NewStepClock(at(11))
	var src *slowLink
	w, coord := clockedWorld(t, clk, func(r remote.Remote) remote.Remote {
		src = &slowLink{Remote: r, clock: clk}
		return src
	})
	repotest.WritePoint(t, w.src, repotest.VMA, at(0), repotest.DiskImage(5, 12*repotest.ChunkSize))

	var adm runs.Admission
	var admErr error
	src.fire = func() {
		adm, admErr = coord.Admit(ctx, runs.Fire{RunID: "second-fire", Job: "copy", Schedule: "nightly",
			Mode: config.ModeMirror, FireTime: clk.Now(), Delivery: 1})
	}
	src.mu.Lock()
	src.armed = true
	src.mu.Unlock()
	all := w.run()
	if done := ofType[events.MirrorCompleted](all); len(done) != 1 || len(done[0].Targets[0].Copied) != 1 {
		t.Fatalf("mirror: %+v", done)
	}
	if admErr != nil {
		t.Fatal(admErr)
	}
	if adm.Interrupted != nil {
		t.Fatalf("a fire 40 minutes into the copy of one point took the job's lock over: run %s interrupted (%s) while it was copying",
			adm.Interrupted.ID, adm.Interrupted.Status)
	}
}

// suspendedLink is a source remote whose host is suspended for 40 minutes
// (the clock's) during the first chunk read once armed; as it resumes,
// another fire of the job comes.
type suspendedLink struct {
	remote.Remote
	clock *testsupport.StepClock
	mu    sync.Mutex
	armed bool
	fire  func()
}

func (s *suspendedLink) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	s.mu.Lock()
	if s.armed && strings.HasPrefix(key, repo.Root+"/chunks/") {
		s.armed = false
		s.clock.Add(40 * time.Minute)
		s.fire()
	}
	s.mu.Unlock()
	return s.Remote.Open(ctx, key)
}

// TestMirrorTakenOverStops: the target holds a VM's two older points and the
// source two newer ones, so the run is to copy the newer ones, then delete
// the older ones on the target. The worker's host is suspended for 40
// minutes while it copies the first; as it resumes, the next fire takes the
// stale lock over and starts its own mirror of the job. The old run must
// stop there: it must not copy the next point nor delete anything on the
// target (the new run does that), and it must say it failed and why.
func TestMirrorTakenOverStops(t *testing.T) {
	ctx := context.Background()
	clk := testsupport.NewStepClock(at(11))
	var src *suspendedLink
	w, coord := clockedWorld(t, clk, func(r remote.Remote) remote.Remote {
		src = &suspendedLink{Remote: r, clock: clk}
		return src
	})
	for i := range 2 {
		repotest.WritePoint(t, w.src, repotest.VMA, at(i), image(repotest.VMA, i))
	}
	if done := ofType[events.MirrorCompleted](w.run()); len(done) != 1 || len(done[0].Targets[0].Copied) != 2 {
		t.Fatalf("first run: %+v", done)
	}
	for i := 2; i < 4; i++ {
		repotest.WritePoint(t, w.src, repotest.VMA, at(i), image(repotest.VMA, i))
	}
	var adm runs.Admission
	var admErr error
	src.fire = func() {
		adm, admErr = coord.Admit(ctx, runs.Fire{RunID: "next-fire", Job: "copy", Schedule: "nightly",
			Mode: config.ModeMirror, FireTime: clk.Now(), Delivery: 1})
	}
	src.mu.Lock()
	src.armed = true
	src.mu.Unlock()
	all := w.run()
	if admErr != nil || adm.Interrupted == nil {
		t.Fatalf("the next fire after a 40-minute suspend: %+v %v; want the stale run taken over", adm, admErr)
	}
	failed := ofType[events.MirrorFailed](all)
	if done := ofType[events.MirrorCompleted](all); len(done) != 0 || len(failed) != 1 ||
		!strings.Contains(failed[0].Error, "taken over") {
		t.Fatalf("the run taken over reported completed %+v, failed %+v; want it failed, saying its lock was taken over", done, failed)
	}
	if tg := failed[0].Targets; len(tg) != 1 || len(tg[0].Deleted) != 0 {
		t.Fatalf("the run taken over on the target: %+v; want nothing deleted", tg)
	}
	dst, err := w.repos.Open(ctx, "offsite")
	if err != nil {
		t.Fatal(err)
	}
	pts, err := dst.List(ctx, repotest.VMA)
	if err != nil {
		t.Fatal(err)
	}
	var times []time.Time
	for _, p := range pts {
		times = append(times, p.Time)
	}
	if len(times) < 2 || !times[0].Equal(at(0)) || !times[1].Equal(at(1)) || slices.ContainsFunc(times, at(3).Equal) {
		t.Fatalf("target points after the takeover: %v; want the older two kept and the newest not copied", times)
	}
}
