package incremental

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"xbr/events"
	"xbr/shared/runs"
)

// progress counts the bytes read from the host and, every ProgressEvery,
// publishes incremental.progress; every runs.RenewEvery it renews the run's lock.
type progress struct {
	n     atomic.Int64
	total atomic.Int64
	stop  func()
}

func (w *Worker) progress(ctx context.Context, j *job) *progress {
	p := &progress{}
	p.stop = runs.Tick(ctx, w.d.ProgressEvery, w.d.Now, func(seq int, elapsed time.Duration, renew bool) {
		w.tick(ctx, j, seq, p.n.Load(), p.total.Load(), elapsed, renew)
	})
	return p
}

func (w *Worker) tick(ctx context.Context, j *job, seq int, n, total int64, elapsed time.Duration, renew bool) {
	ev := events.IncrementalProgress{RunID: j.req.RunID, Job: j.req.Job, VMUUID: j.req.VMUUID,
		Transfer: events.TransferAt(n, total, elapsed)}
	w.publish(ctx, j.eventID("incremental.progress", fmt.Sprint(seq)), ev)
	if !renew {
		return
	}
	// Once another run holds the lock (this one was taken over), the hold
	// ends the attempt's context: the stream stops and nothing is committed.
	if err := j.hold.Renew(ctx); err != nil && ctx.Err() == nil {
		w.d.Log.Warn("renewing the job's lock failed", "run", j.req.RunID, "error", err)
	}
}

// limiters are the run's shared token buckets (runs.Limiters): rate_limit
// caps the bytes read from the host, whichever path reads them.
type limiters struct{ *runs.Limiters }

func newLimiters() *limiters { return &limiters{runs.NewLimiters()} }

// take returns the run's limiter (nil when unlimited) and its release.
func (l *limiters) take(run string, bytesPerSecond int64) (*rate.Limiter, func()) {
	return l.Take(run, bytesPerSecond)
}

// meter counts and rate-limits the bytes of one attempt.
type meter struct {
	lim  *rate.Limiter
	prog *progress
}

// account counts n bytes read and waits for the rate limit.
func (m meter) account(ctx context.Context, n int) error {
	m.prog.n.Add(int64(n))
	if m.lim == nil || n <= 0 {
		return nil
	}
	for n > 0 {
		k := min(n, m.lim.Burst())
		if err := m.lim.WaitN(ctx, k); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// reader wraps r so that its bytes are counted and limited.
func (m meter) reader(ctx context.Context, r io.Reader) *meteredReader {
	return &meteredReader{ctx: ctx, r: r, m: m}
}

type meteredReader struct {
	ctx context.Context
	r   interface{ Read([]byte) (int, error) }
	m   meter
}

func (mr *meteredReader) Read(b []byte) (int, error) {
	if mr.m.lim != nil && len(b) > mr.m.lim.Burst() {
		b = b[:mr.m.lim.Burst()]
	}
	n, err := mr.r.Read(b)
	if werr := mr.m.account(mr.ctx, n); werr != nil && err == nil {
		err = werr
	}
	return n, err
}
