package repo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"xbr/shared/remote"
)

// lease is an object a running backup (under sessions/) or a sweeping GC (under
// gc/sweeping/) keeps fresh by rewriting it every staleAfter/5. Others compare its ModTime
// with their own lease's, both set by the remote, so host clocks do not matter.
//
// The holder judges its own lease by wall-clock time (wallNow) and by the remote's
// ModTimes, never by Go's monotonic clock: that one stops while the host is suspended (a
// paused or suspended VM, a closed lid), the remote's clock and the others' do not.
type lease struct {
	rp   *Repo
	key  string
	body []byte
	mod  time.Time // ModTime after the first write, as the remote reports it

	mu      sync.Mutex
	last    time.Time // wall-clock time when the last successful write began
	lastMod time.Time // ModTime of the last successful write, as the remote reports it
	// lapsed is set once two successful writes were further apart than staleAfter/2 (by the
	// wall clock or the remote's), or a failed write left no object: others may have taken
	// the lease for a crashed holder's meanwhile, for good.
	lapsed bool
	stop   chan struct{}
	done   chan struct{}
}

// newLeaseKey returns a unique key under prefix.
func newLeaseKey(prefix string) (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("lease id: %w", err)
	}
	return prefix + hex.EncodeToString(b) + ".json", nil
}

// acquireLease writes a new lease under prefix and keeps it fresh until release.
func (rp *Repo) acquireLease(ctx context.Context, prefix string, body []byte) (*lease, error) {
	key, err := newLeaseKey(prefix)
	if err != nil {
		return nil, err
	}
	l := &lease{rp: rp, key: key, body: body, stop: make(chan struct{}), done: make(chan struct{})}
	start := rp.opts.wallNow()
	if err := remote.Put(ctx, rp.r, key, body); err != nil {
		return nil, fmt.Errorf("repository on remote %s: write lease %s: %w", rp.r.Name(), key, err)
	}
	st, err := rp.r.Stat(ctx, key)
	if err != nil {
		_ = rp.r.Delete(context.WithoutCancel(ctx), key)
		return nil, fmt.Errorf("repository on remote %s: stat lease %s: %w", rp.r.Name(), key, err)
	}
	l.mod, l.lastMod, l.last = st.ModTime, st.ModTime, start
	go l.refresh(context.WithoutCancel(ctx))
	return l, nil
}

func (l *lease) refresh(ctx context.Context) {
	defer close(l.done)
	t := time.NewTicker(l.rp.opts.staleAfter / 5)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		start := l.rp.opts.wallNow()
		wctx, cancel := context.WithTimeout(ctx, l.rp.opts.staleAfter/5)
		err := remote.Put(wctx, l.rp.r, l.key, l.body)
		cancel()
		if err != nil {
			l.rp.opts.log.Warn("repository lease not refreshed", "key", l.key, "err", err)
			// A failed write may have left no object at all (the dir remote removes one whose
			// rename it cannot make durable): others may then act as if the holder were gone.
			if !l.stillThere(ctx) {
				l.mu.Lock()
				l.lapsed = true
				l.mu.Unlock()
			}
			continue
		}
		l.rewritten(ctx, start)
	}
}

// rewritten records a successful write of the lease begun at start (wall-clock time). The
// lease lapses when the write came more than staleAfter/2 after the previous one by the
// wall clock, or by the remote's clock, the one the others judge by: a host resumed with
// its wall clock still behind sees no gap that the remote saw.
func (l *lease) rewritten(ctx context.Context, start time.Time) {
	sctx, cancel := context.WithTimeout(ctx, l.rp.opts.staleAfter/5)
	st, err := l.rp.r.Stat(sctx, l.key)
	cancel()
	if err != nil { // judged against the older ModTime at the next write: sooner lapsed, never later
		l.rp.opts.log.Warn("repository lease refreshed, its time on the remote unknown", "key", l.key, "err", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if start.Sub(l.last) > l.rp.opts.staleAfter/2 {
		l.lapsed = true
	}
	if err == nil {
		if st.ModTime.Sub(l.lastMod) > l.rp.opts.staleAfter/2 {
			l.lapsed = true
		}
		l.lastMod = st.ModTime
	}
	l.last = start
}

// stillThere reports whether the lease's object is on the remote; false too when that cannot
// be known.
func (l *lease) stillThere(ctx context.Context) bool {
	sctx, cancel := context.WithTimeout(ctx, l.rp.opts.staleAfter/5)
	defer cancel()
	_, err := l.rp.r.Stat(sctx, l.key)
	return err == nil
}

// fresh fails when the lease was last written more than half its validity ago, or was at
// some point since it was taken: others may have taken it for a crashed holder's, so its
// holder must not rely on it.
func (l *lease) fresh() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lapsed {
		return fmt.Errorf("repository lease %s lapsed for more than %s: not relying on it", l.key, l.rp.opts.staleAfter/2)
	}
	if age := l.rp.opts.wallNow().Sub(l.last); age > l.rp.opts.staleAfter/2 {
		return fmt.Errorf("repository lease %s last refreshed %s ago (valid %s): not relying on it", l.key, age.Round(time.Second), l.rp.opts.staleAfter)
	}
	return nil
}

// confirm rewrites the lease now and judges it as the refresh does (rewritten: by the wall
// clock and by the remote's ModTimes, the object's time before this write against its time
// after it), then as fresh does. A holder about to rely on its lease for good (a manifest's
// commit) calls it: a host resumed from a pause whose wall clock has not caught up yet sees
// no gap of its own, and the next refresh, which would see the remote's, may come up to
// staleAfter/5 after the commit. A stat, a write and a stat; when the write fails, the lease
// is judged as fresh does (a refresh that fails is no lapse either, see refresh). A lease
// object another process removed (a GC sweeps stale leases) has lapsed.
func (l *lease) confirm(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(ctx, l.rp.opts.staleAfter/5)
	before, err := l.rp.r.Stat(sctx, l.key)
	cancel()
	switch {
	case err == nil:
		l.mu.Lock()
		l.lastMod = before.ModTime // the last write's time, as the others see it
		l.mu.Unlock()
	case errors.Is(err, remote.ErrNotFound): // removed by another process as a crashed holder's
		l.mu.Lock()
		l.lapsed = true
		l.mu.Unlock()
	}
	start := l.rp.opts.wallNow()
	wctx, cancel := context.WithTimeout(ctx, l.rp.opts.staleAfter/5)
	err = remote.Put(wctx, l.rp.r, l.key, l.body)
	cancel()
	if err != nil {
		l.rp.opts.log.Warn("repository lease not rewritten before a commit; judged by its last refresh", "key", l.key, "err", err)
		return l.fresh()
	}
	l.rewritten(ctx, start)
	return l.fresh()
}

// release stops refreshing and removes the lease.
func (l *lease) release(ctx context.Context) error {
	select {
	case <-l.stop:
		return nil
	default:
	}
	close(l.stop)
	<-l.done
	if err := l.rp.r.Delete(context.WithoutCancel(ctx), l.key); err != nil {
		return fmt.Errorf("repository on remote %s: remove lease %s: %w", l.rp.r.Name(), l.key, err)
	}
	return nil
}

// liveUnder lists the leases under prefix still valid compared with ref (a ModTime the
// remote gave), leaving out the key self.
func (rp *Repo) liveUnder(ctx context.Context, prefix string, ref time.Time, self string) ([]remote.Info, error) {
	infos, err := rp.r.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("repository on remote %s: list %s: %w", rp.r.Name(), prefix, err)
	}
	var live []remote.Info
	for _, in := range infos {
		if in.Key != self && !in.ModTime.Before(ref.Add(-rp.opts.staleAfter)) {
			live = append(live, in)
		}
	}
	return live, nil
}

// beginSession takes a backup's lease, its key starting with prefix (sessionsPrefix, or a
// point's: pointSessions), once no GC is sweeping. The lease is written before the sweep
// markers are read, and a GC writes its marker before it reads the leases: on a remote with
// read-after-write consistency (a file system, S3) at least one of the two sees the other,
// so a sweep never runs beside a backup (doc.go, "GC and backups").
func (rp *Repo) beginSession(ctx context.Context, prefix string, body []byte) (*lease, error) {
	for {
		l, err := rp.acquireLease(ctx, prefix, body)
		if err != nil {
			return nil, err
		}
		sweeps, err := rp.liveUnder(ctx, sweepPrefix, l.mod, "")
		if err == nil && len(sweeps) == 0 {
			return l, nil
		}
		err = errors.Join(err, l.release(ctx))
		if err != nil {
			return nil, err
		}
		rp.opts.log.Info("backup waits for a repository sweep", "marker", sweeps[0].Key)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("repository on remote %s: waiting for GC sweep %s: %w", rp.r.Name(), sweeps[0].Key, ctx.Err())
		case <-time.After(rp.opts.poll):
		}
	}
}

// beginSweep takes a GC's sweep marker when no backup holds a valid lease; otherwise it
// removes its marker and returns the live leases.
func (rp *Repo) beginSweep(ctx context.Context, body []byte) (*lease, []remote.Info, error) {
	m, err := rp.acquireLease(ctx, sweepPrefix, body)
	if err != nil {
		return nil, nil, err
	}
	live, err := rp.liveUnder(ctx, sessionsPrefix, m.mod, "")
	if err == nil && len(live) == 0 {
		return m, nil, nil
	}
	return nil, live, errors.Join(err, m.release(ctx))
}
