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
// every 5 s. unlock removes it and reports whether it was lost meanwhile (removed or taken
// over by another holder).
func (d *Dir) Lock(ctx context.Context, folder string) (func() error, error) {
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
	h := &lockHolder{d: d, p: p, stop: make(chan struct{})}
	h.wg.Go(h.refresh)
	return h.release, nil
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
	d    *Dir
	p    *place
	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
	mu   sync.Mutex
	lost error
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
		now := time.Now()
		if err := h.p.folder.Chtimes(h.p.base, now, now); err != nil {
			h.mu.Lock()
			h.lost = errors.Join(h.lost, fmt.Errorf("lock %s lost: %w", h.p.rel(), err))
			h.mu.Unlock()
			if errors.Is(err, fs.ErrNotExist) { // removed as stale by another holder: take it back, as XO does
				_ = h.p.folder.Mkdir(h.p.base, h.d.opts.dirMode)
			}
		}
	}
}

func (h *lockHolder) release() error {
	var err error
	h.once.Do(func() {
		close(h.stop)
		h.wg.Wait()
		defer h.p.close()
		if rerr := h.p.folder.Remove(h.p.base); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = h.d.wrap("unlock", h.p.rel(), rerr)
		}
		h.mu.Lock()
		err = errors.Join(h.lost, err)
		h.mu.Unlock()
	})
	return err
}
