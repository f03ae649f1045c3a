package export

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

// progress counts the bytes read from XAPI and, every ProgressEvery,
// publishes export.progress; every runs.RenewEvery it renews the run's lock.
type progress struct {
	n    atomic.Int64
	stop func()
}

func (w *Worker) progress(ctx context.Context, j *job, total int64) *progress {
	p := &progress{}
	p.stop = runs.Tick(ctx, w.d.ProgressEvery, w.d.Now, func(seq int, elapsed time.Duration, renew bool) {
		w.tick(ctx, j, seq, p.n.Load(), total, elapsed, renew)
	})
	return p
}

func (w *Worker) tick(ctx context.Context, j *job, seq int, n, total int64, elapsed time.Duration, renew bool) {
	ev := events.ExportProgress{RunID: j.req.RunID, Job: j.req.Job, VMUUID: j.req.VMUUID,
		Transfer: events.TransferAt(n, total, elapsed)}
	// The attempt too: the bus drops an id it has seen, and a later attempt's
	// ticks count from 1 again.
	w.publish(ctx, events.DeriveID("export.progress", j.req.RunID, j.req.VMUUID, fmt.Sprint(j.delivery), fmt.Sprint(j.n), fmt.Sprint(seq)), ev)
	if !renew {
		return
	}
	// Once another run holds the lock (this one was taken over), the hold
	// ends the attempt's context: the stream stops and nothing is committed.
	if err := j.hold.Renew(ctx); err != nil && ctx.Err() == nil {
		w.d.Log.Warn("renewing the job's lock failed", "run", j.req.RunID, "error", err)
	}
}

func (p *progress) bytes() int64 { return p.n.Load() }

func (p *progress) reader(r io.Reader) io.Reader { return &countingReader{r: r, n: &p.n} }

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}

// limiters are the run's shared token buckets (runs.Limiters).
type limiters struct{ *runs.Limiters }

func newLimiters() *limiters { return &limiters{runs.NewLimiters()} }

// reader limits r to bytesPerSecond together with the run's other streams;
// 0 means unlimited. Call release when the stream is done.
func (l *limiters) reader(ctx context.Context, run string, bytesPerSecond int64, r io.Reader) (_ io.Reader, release func()) {
	lim, release := l.Take(run, bytesPerSecond)
	if lim == nil {
		return r, release
	}
	return &limitedReader{ctx: ctx, r: r, lim: lim}, release
}

// limitedReader waits for tokens after each read. It holds the stream's
// context because io.Reader has no place for one.
type limitedReader struct {
	ctx context.Context
	r   io.Reader
	lim *rate.Limiter
}

func (l *limitedReader) Read(b []byte) (int, error) {
	if burst := l.lim.Burst(); len(b) > burst {
		b = b[:burst]
	}
	n, err := l.r.Read(b)
	if n > 0 {
		if werr := l.lim.WaitN(l.ctx, n); werr != nil && err == nil {
			err = werr
		}
	}
	return n, err
}
