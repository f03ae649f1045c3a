package runs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/runs"
)

// workOf is a VMWork whose attempts fail fails times (then succeed with
// "done"), recording what Work reported.
type workOf struct {
	attempts  int
	run       *runs.Run
	completed string
	failed    error
	failedN   int
}

func (w *workOf) work(job config.Job, run, vm string, fails int, attempt func(ctx context.Context) error) runs.VMWork[string] {
	return runs.VMWork[string]{Job: job, RunID: run, VM: vm,
		Attempt: func(ctx context.Context, r *runs.Run, _ *runs.Hold, n int) (string, error) {
			w.attempts, w.run = n, r
			if attempt != nil {
				if err := attempt(ctx); err != nil {
					return "", err
				}
			}
			if n <= fails {
				return "", errors.New("transient")
			}
			return "done", nil
		},
		Completed: func(done string) ([]bus.Out, error) {
			w.completed = done
			return []bus.Out{{Subject: "completed"}}, nil
		},
		Failed: func(_ time.Time, n int, err error) ([]bus.Out, error) {
			w.failed, w.failedN = err, n
			return []bus.Out{{Subject: "failed"}}, nil
		},
	}
}

func TestWorkRetriesTimesOutAndDropsEndedRuns(t *testing.T) {
	c, clk := setup(t)
	ctx := context.Background()
	env := runs.WorkerEnv{Runs: c, Log: discard(), Now: clk.Now, Work: "export",
		Wait: func(context.Context, time.Duration) error { return nil }}
	r := mustStart(t, c, fire("r1", ""), 2, vms(2))
	vm0, vm1 := r.VMs[0].UUID, r.VMs[1].UUID

	var w workOf // two failures, two retries: completed on attempt 3, with the VM's run
	outs, err := runs.Work(ctx, env, w.work(config.Job{Retries: 2}, "r1", vm0, 2, nil))
	if err != nil || len(outs) != 1 || outs[0].Subject != "completed" || w.completed != "done" || w.attempts != 3 ||
		w.run == nil || w.run.ID != "r1" {
		t.Errorf("retried work: %v %v, %+v", outs, err, w)
	}

	w = workOf{} // one retry is not enough: failed after 2 attempts
	if outs, err = runs.Work(ctx, env, w.work(config.Job{Retries: 1}, "r1", vm1, 5, nil)); err != nil ||
		len(outs) != 1 || outs[0].Subject != "failed" || w.failedN != 2 {
		t.Errorf("failing work: %v %v, %+v", outs, err, w)
	}

	w = workOf{} // vm_timeout ends the attempt and says so
	slow := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	_, err = runs.Work(ctx, env, w.work(config.Job{VMTimeout: 20 * time.Millisecond}, "r1", vm1, 0, slow))
	if err != nil || w.failed == nil || !strings.Contains(w.failed.Error(), "timed out after 20ms (vm_timeout)") {
		t.Errorf("timed-out work: %v, failed with %v", err, w.failed)
	}

	w = workOf{} // shutting down: no event, an error so the bus redelivers
	cctx, cancel := context.WithCancel(ctx)
	stopping := func(actx context.Context) error { cancel(); return slow(actx) }
	outs, err = runs.Work(cctx, env, w.work(config.Job{Retries: 3}, "outside", vm0, 0, stopping))
	if err == nil || len(outs) != 0 || w.failed != nil || !strings.Contains(err.Error(), "export vm "+vm0) {
		t.Errorf("work while shutting down: %v %v, %+v", outs, err, w)
	}

	finish(t, c, "r1", ok(vm0))
	finish(t, c, "r1", ok(vm1))
	w = workOf{} // a request of a run that has ended is dropped without an attempt
	if outs, err = runs.Work(ctx, env, w.work(config.Job{}, "r1", vm0, 0, nil)); err != nil || len(outs) != 0 || w.attempts != 0 {
		t.Errorf("work of an ended run: %v %v, %+v", outs, err, w)
	}
}

// TestWorkRenewsTheLockWhileWaiting: a retry backoff longer than the lock's
// StaleAfter (10 min here; a doubling backoff reaches an hour) must not let
// the next fire take the job over while the run still works: the wait
// between attempts renews the run's lock. A run taken over meanwhile (its
// lock is another's) stops retrying.
func TestWorkRenewsTheLockWhileWaiting(t *testing.T) {
	c, clk := setup(t)
	ctx := context.Background()
	env := runs.WorkerEnv{Runs: c, Log: discard(), Now: clk.Now, Work: "export",
		Wait: func(_ context.Context, d time.Duration) error { clk.Add(d); return nil }}
	r := mustStart(t, c, fire("r1", ""), 1, vms(1))
	var next runs.Admission
	var w workOf
	check := func(context.Context) error {
		if w.attempts == 2 { // after the 40-minute wait
			next = mustAdmit(t, c, fire("r2", ""))
		}
		return nil
	}
	outs, err := runs.Work(ctx, env, w.work(config.Job{Retries: 1, RetryBackoff: 40 * time.Minute}, "r1", r.VMs[0].UUID, 1, check))
	if err != nil || len(outs) != 1 || outs[0].Subject != "completed" {
		t.Fatalf("work: %v %v, %+v", outs, err, w)
	}
	if next.Interrupted != nil || next.Run == nil || next.Run.Status != events.StatusSkipped {
		t.Fatalf("a fire during the retry wait took over the working run: %+v", next)
	}

	// The run is taken over while it waits (its process froze for longer
	// than StaleAfter): no more attempts.
	finish(t, c, "r1", ok(r.VMs[0].UUID))
	r4 := mustStart(t, c, fire("r4", ""), 1, vms(1))
	var took runs.Admission
	frozen := env
	frozen.Wait = func(_ context.Context, d time.Duration) error {
		if took.Interrupted == nil {
			clk.Add(11 * time.Minute)
			took = mustAdmit(t, c, fire("r5", ""))
		}
		clk.Add(d)
		return nil
	}
	w = workOf{}
	outs, err = runs.Work(ctx, frozen, w.work(config.Job{Retries: 3, RetryBackoff: time.Minute}, "r4", r4.VMs[0].UUID, 1, nil))
	if took.Interrupted == nil || took.Interrupted.ID != "r4" {
		t.Fatalf("the frozen run's lock was not taken over: %+v", took)
	}
	if w.attempts != 1 || err != nil || len(outs) != 1 || outs[0].Subject != "failed" || w.failedN != 1 {
		t.Fatalf("a run whose lock was taken over: %d attempts, %d outs, %v, failed after %d; want one attempt, then failed", w.attempts, len(outs), err, w.failedN)
	}
}
