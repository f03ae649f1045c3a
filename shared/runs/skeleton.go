package runs

import (
	"context"
	"time"

	"xbr/shared/bus"
	"xbr/shared/config"
)

// Worker wraps do, a flow's worker (one VM's work per request): when the
// work fails on the request's last delivery, where the bus would
// dead-letter it and the run would wait for that VM for ever, the flow's
// Failed reports the VM failed instead (GivesUpRun decides, here only).
func (f Flow) Worker(do bus.Handler) bus.Handler {
	return bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
		outs, err := do.Handle(ctx, ev)
		if !GivesUpRun(ctx, ev.Delivery, err) {
			return outs, err
		}
		f.Log.Error(f.Work+" given up on the last delivery of its request", "error", err)
		return f.Failed(ctx, ev, err)
	})
}

// Workers is how many VMs the flow's worker handles at once in one process
// (WorkerConcurrency of its mode).
func (f Flow) Workers() int { return WorkerConcurrency(f.Config, f.Topics.Mode) }

// Consumers are the flow's consumers on stream with their handlers: the
// planner, the worker (do, wrapped by Worker) and, when the flow has Ends,
// the runner.
func (f Flow) Consumers(stream string, do bus.Handler) []Consumer {
	cfgs := f.Topics.Consumers(f.Subjects, stream, f.Workers())
	cs := []Consumer{{Config: cfgs[0], Handler: NewPlanner(f)}, {Config: cfgs[1], Handler: f.Worker(do)}}
	if len(cfgs) > 2 {
		cs = append(cs, Consumer{Config: cfgs[2], Handler: NewRunner(f)})
	}
	return cs
}

// Sleep waits d or until ctx ends (ctx's error then): a worker's wait
// between attempts at one VM's work.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// MaxRetryBackoff caps the doubling wait between attempts (Retry).
const MaxRetryBackoff = time.Hour

// Retry is a worker's attempts at one VM's work: attempt n runs up to
// 1+job.Retries times, job.RetryBackoff apart and doubling (at most
// MaxRetryBackoff), with wait between them; retrying is told to log before
// each wait. It stops at a success, a permanent error or when ctx ends,
// and returns the last attempt's result, its number and its error.
func Retry[T any](ctx context.Context, job config.Job, wait func(context.Context, time.Duration) error,
	retrying func(n int, in time.Duration, err error), attempt func(n int) (T, error)) (T, int, error) {
	backoff := job.RetryBackoff
	for n := 1; ; n++ {
		res, err := attempt(n)
		if err == nil || ctx.Err() != nil || bus.IsPermanent(err) || n > job.Retries {
			return res, n, err
		}
		retrying(n, backoff, err)
		if werr := wait(ctx, backoff); werr != nil {
			return res, n, err
		}
		backoff = min(2*backoff, MaxRetryBackoff)
	}
}
