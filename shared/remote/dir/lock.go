package dir

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"xbr/shared/remote"
)

// Xen Orchestra locks a VM folder with proper-lockfile 4 and its defaults (@xen-orchestra/fs
// local.js _lock; proper-lockfile lib/lockfile.js): the lock is the folder "<path>.lock",
// made with mkdir; its holder refreshes its mtime every stale/2; a lock whose mtime is older
// than stale is abandoned and may be taken over.
const (
	lockStale  = 10 * time.Second
	lockUpdate = lockStale / 2
	// lockPoll is how often a waiting Lock tries again. XO gives up at once (retries 0);
	// xbr waits for XO's job on that VM to end.
	lockPoll = time.Second
)

var _ remote.Locker = (*Dir)(nil)

// Lock takes folder's lock as Xen Orchestra takes it: it makes folder (XO's mktree), then
// the folder "<folder>.lock" beside it. A lock held by someone else is waited for; one left
// stale (mtime older than 10 s) is removed and taken. While held, its mtime is refreshed
// every 5 s, as long as it is this holder's: a lock another holder took over (its mtime is
// not the one this holder set) is neither refreshed nor removed. A loss (the lock removed,
// or taken over by another holder) is found by the refresh or by Held.Check, closes
// Held.Lost and is reported by Check and Unlock.
func (d *Dir) Lock(ctx context.Context, folder string) (remote.Held, error) {
	if err := d.check(ctx, "lock", folder); err != nil {
		return nil, err
	}
	fp, err := d.openFolder(folder, "", true)
	if err != nil {
		return nil, d.wrap("lock", folder, err)
	}
	fp.close()
	p, err := d.locate(folder+".lock", false)
	if err != nil {
		return nil, d.wrap("lock", folder, err)
	}
	if err := d.acquire(ctx, p); err != nil {
		p.close()
		return nil, d.wrap("lock", folder, err)
	}
	h := &lockHolder{d: d, p: p, stop: make(chan struct{}), lostCh: make(chan struct{})}
	h.mu.Lock()
	h.mark()
	h.mu.Unlock()
	h.wg.Go(h.refresh)
	return h, nil
}

// acquire makes the lock folder, waiting while another holder keeps it fresh.
func (d *Dir) acquire(ctx context.Context, p *place) error {
	for {
		err := p.folder.Mkdir(p.base, d.opts.dirMode)
		if err == nil {
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
		fi, serr := p.folder.Lstat(p.base)
		if serr == nil && time.Since(fi.ModTime()) > d.opts.lockStale {
			if rerr := p.folder.Remove(p.base); rerr == nil || errors.Is(rerr, fs.ErrNotExist) {
				continue // stale: taken over, as proper-lockfile does
			}
		}
		if serr != nil && errors.Is(serr, fs.ErrNotExist) {
			continue // released meanwhile
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w while %s is held by another process", ctx.Err(), p.rel())
		case <-time.After(d.opts.lockPoll):
		}
	}
}

type lockHolder struct {
	d        *Dir
	p        *place
	stop     chan struct{}
	wg       sync.WaitGroup
	once     sync.Once
	lostCh   chan struct{} // closed by the first loss
	lostOnce sync.Once
	// mu serialises the refresh, Check and release: everything below.
	mu   sync.Mutex
	lost error
	// mtime is the lock's modification time as this holder last set it, read back in the
	// file system's precision. Another mtime means another holder took the lock over (XO
	// judged it stale, removed it and made its own): proper-lockfile's test of a
	// compromised lock.
	mtime time.Time
	// gone: the lock is another holder's now; it is neither refreshed nor removed.
	gone bool
	// released: Unlock was called; the place is closed.
	released bool
}

func (h *lockHolder) refresh() {
	t := time.NewTicker(h.d.opts.lockUpdate)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		h.mu.Lock()
		if !h.gone {
			h.touch()
		}
		h.mu.Unlock()
	}
}

// Check refreshes the lock now if it is still this holder's and returns the loss if it
// is not (remote.Held).
func (h *lockHolder) Check(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return h.d.wrap("check lock", h.p.rel(), err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released {
		return h.d.wrap("check lock", h.p.rel(), errors.New("released"))
	}
	if h.lost == nil {
		h.touch()
	}
	if h.lost != nil {
		return fmt.Errorf("remote %s: %w", h.d.name, h.lost) // not wrap: it would hide ErrLockLost
	}
	return nil
}

// Lost is closed once the lock is found lost (remote.Held).
func (h *lockHolder) Lost() <-chan struct{} { return h.lostCh }

// touch refreshes the lock's mtime while the lock is this holder's. A lock removed
// meanwhile is taken back, as XO does; one another holder took over is left to it, since
// refreshing it would make that holder's proper-lockfile see its own lock compromised.
// The caller holds mu.
func (h *lockHolder) touch() {
	fi, err := h.p.folder.Lstat(h.p.base)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		h.lose(errors.New("removed by another process"))
		if err := h.p.folder.Mkdir(h.p.base, h.d.opts.dirMode); err != nil {
			h.gone = errors.Is(err, fs.ErrExist) // another holder made it first
			return
		}
		h.mark()
		return
	case err != nil:
		h.lose(err)
		return
	case !fi.ModTime().Equal(h.mtime):
		h.lose(errors.New("taken over by another process"))
		h.gone = true
		return
	}
	now := time.Now()
	if err := h.p.folder.Chtimes(h.p.base, now, now); err != nil {
		h.lose(err)
		return
	}
	h.mark()
}

// mark records the lock's mtime as this holder set it. The caller holds mu.
func (h *lockHolder) mark() {
	fi, err := h.p.folder.Lstat(h.p.base)
	if err != nil {
		h.lose(err) // the mtime kept no longer matches: the lock is given up, never another's touched
		return
	}
	h.mtime = fi.ModTime()
}

// lose records a loss and closes lostCh. The caller holds mu.
func (h *lockHolder) lose(err error) {
	h.lost = errors.Join(h.lost, fmt.Errorf("lock %s: %w: %w", h.p.rel(), remote.ErrLockLost, err))
	h.lostOnce.Do(func() { close(h.lostCh) })
}

// Unlock stops the refresh and removes the lock if it is still this holder's
// (remote.Held).
func (h *lockHolder) Unlock() error {
	var err error
	h.once.Do(func() {
		close(h.stop)
		h.wg.Wait()
		h.mu.Lock()
		defer h.mu.Unlock()
		h.released = true
		defer h.p.close()
		rerr := h.remove() // may record a loss
		err = errors.Join(h.lost, rerr)
	})
	return err
}

// remove removes the lock if it is still this holder's: never another holder's. The
// caller holds mu.
func (h *lockHolder) remove() error {
	if h.gone {
		return nil
	}
	fi, err := h.p.folder.Lstat(h.p.base)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return h.d.wrap("unlock", h.p.rel(), err) // left to go stale rather than removed unchecked
	case !fi.ModTime().Equal(h.mtime):
		h.lose(errors.New("taken over by another process"))
		return nil
	}
	if err := h.p.folder.Remove(h.p.base); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return h.d.wrap("unlock", h.p.rel(), err)
	}
	return nil
}
