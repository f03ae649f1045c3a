package dir_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/testsupport"
)

const lockedVM = "xo-vm-backups/6b2c7a3e-0000-4000-8000-000000000001"

// Lock takes a VM folder's lock the way Xen Orchestra does (proper-lockfile): it makes the
// folder, then the folder "<vm>.lock" beside it, and unlock removes it.
func TestLockLikeXO(t *testing.T) {
	root := t.TempDir()
	d, err := dir.New("nfs", root)
	if err != nil {
		t.Fatal(err)
	}
	held, err := remote.LockFolder(context.Background(), d, lockedVM)
	if err != nil {
		t.Fatal(err)
	}
	lockDir := filepath.Join(root, lockedVM+".lock")
	if fi, err := os.Stat(lockDir); err != nil || !fi.IsDir() {
		t.Fatalf("lock folder %s: %v", lockDir, err)
	}
	if fi, err := os.Stat(filepath.Join(root, lockedVM)); err != nil || !fi.IsDir() {
		t.Fatalf("VM folder not made: %v", err)
	}
	// A second holder (another xbr process, or XO) must wait.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := d.Lock(ctx, lockedVM); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Lock while held = %v, want it to wait until ctx ends", err)
	}
	if err := held.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(lockDir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("lock folder after unlock: %v", err)
	}
	held, err = d.Lock(context.Background(), lockedVM)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	_ = held.Unlock()
}

// A lock XO holds (fresh mtime) is waited for; one it left stale (mtime older than
// proper-lockfile's 10 s) is taken over.
func TestLockHonoursXOLock(t *testing.T) {
	root := t.TempDir()
	d, err := dir.New("nfs", root)
	if err != nil {
		t.Fatal(err)
	}
	lockDir := filepath.Join(root, lockedVM+".lock")
	if err := os.MkdirAll(lockDir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := d.Lock(ctx, lockedVM); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock while XO holds it = %v, want a wait", err)
	}
	old := time.Now().Add(-time.Minute)
	if err := os.Chtimes(lockDir, old, old); err != nil {
		t.Fatal(err)
	}
	held, err := d.Lock(context.Background(), lockedVM)
	if err != nil {
		t.Fatalf("Lock of a stale lock: %v", err)
	}
	if fi, err := os.Stat(lockDir); err != nil || time.Since(fi.ModTime()) > time.Minute/2 {
		t.Errorf("stale lock not taken over: %v", err)
	}
	if err := held.Unlock(); err != nil {
		t.Fatal(err)
	}
}

// The holder keeps the lock fresh (XO would otherwise take it over as
// stale), and a lock removed under it is taken back and reported by unlock.
func TestLockKeptFreshAndLossReported(t *testing.T) {
	root := t.TempDir()
	d, err := dir.New("nfs", root, dir.WithLockTiming(time.Hour, 10*time.Millisecond, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	held, err := d.Lock(context.Background(), lockedVM)
	if err != nil {
		t.Fatal(err)
	}
	lockDir := filepath.Join(root, lockedVM+".lock")
	first, err := os.Stat(lockDir)
	if err != nil {
		t.Fatal(err)
	}
	testsupport.Eventually(t, 10*time.Second, "the lock to be refreshed", func() bool {
		fi, err := os.Stat(lockDir)
		return err == nil && fi.ModTime().After(first.ModTime())
	})
	if err := os.Remove(lockDir); err != nil { // another holder judged it stale
		t.Fatal(err)
	}
	testsupport.Eventually(t, 10*time.Second, "the lock to be retaken", func() bool { _, err := os.Stat(lockDir); return err == nil })
	if err := held.Unlock(); err == nil || !strings.Contains(err.Error(), "lost") {
		t.Errorf("unlock after a loss = %v, want an error saying the lock was lost", err)
	}
}

// A lock another holder took over (XO judged it stale, removed it and made
// its own: proper-lockfile's takeover) is that holder's: the former holder
// neither refreshes it, which XO's proper-lockfile would take for its own lock
// being compromised, nor removes it at unlock, and unlock reports the loss.
func TestLockTakenOverIsLeftToItsHolder(t *testing.T) {
	root := t.TempDir()
	d, err := dir.New("nfs", root, dir.WithLockTiming(time.Hour, 5*time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	held, err := d.Lock(context.Background(), lockedVM)
	if err != nil {
		t.Fatal(err)
	}
	lockDir := filepath.Join(root, lockedVM+".lock")
	if err := os.Remove(lockDir); err != nil { // XO takes the lock over: rmdir, then mkdir
		t.Fatal(err)
	}
	if err := os.Mkdir(lockDir, 0o755); err != nil {
		t.Fatal(err)
	}
	xoTime := time.Now().Add(7 * time.Second).Truncate(time.Second) // XO's clock runs ahead
	if err := os.Chtimes(lockDir, xoTime, xoTime); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // twenty refresh periods: none may touch XO's lock
	if fi, err := os.Stat(lockDir); err != nil || !fi.ModTime().Equal(xoTime) {
		t.Errorf("XO's lock after the former holder's refreshes: %v %v, want mtime %v", err, fi, xoTime)
	}
	if err := held.Unlock(); err == nil || !strings.Contains(err.Error(), "lost") {
		t.Errorf("unlock after a takeover = %v, want an error saying the lock was lost", err)
	}
	if fi, err := os.Stat(lockDir); err != nil || !fi.ModTime().Equal(xoTime) {
		t.Errorf("XO's lock after the former holder's unlock: %v", err)
	}
}

// A takeover is found at once by Check, which a holder calls right before
// each change the lock must cover, without waiting for the next refresh;
// Check leaves XO's lock alone and Lost is closed. A held lock passes Check.
func TestLockCheckFindsATakeover(t *testing.T) {
	root := t.TempDir()
	d, err := dir.New("nfs", root, dir.WithLockTiming(time.Hour, time.Hour, 5*time.Millisecond)) // no refresh
	if err != nil {
		t.Fatal(err)
	}
	held, err := d.Lock(context.Background(), lockedVM)
	if err != nil {
		t.Fatal(err)
	}
	if err := held.Check(context.Background()); err != nil {
		t.Fatalf("Check of a held lock: %v", err)
	}
	lockDir := filepath.Join(root, lockedVM+".lock")
	if err := os.Remove(lockDir); err != nil { // XO takes the lock over
		t.Fatal(err)
	}
	if err := os.Mkdir(lockDir, 0o755); err != nil {
		t.Fatal(err)
	}
	xoTime := time.Now().Add(-time.Second).Truncate(time.Second)
	if err := os.Chtimes(lockDir, xoTime, xoTime); err != nil {
		t.Fatal(err)
	}
	if err := held.Check(context.Background()); !errors.Is(err, remote.ErrLockLost) || !strings.Contains(err.Error(), "taken over") {
		t.Errorf("Check after a takeover = %v, want ErrLockLost saying it was taken over", err)
	}
	select {
	case <-held.Lost():
	default:
		t.Error("Lost not closed after Check found the takeover")
	}
	if fi, err := os.Stat(lockDir); err != nil || !fi.ModTime().Equal(xoTime) {
		t.Errorf("XO's lock after Check: %v, want it untouched", err)
	}
	if err := held.Unlock(); !errors.Is(err, remote.ErrLockLost) {
		t.Errorf("Unlock after a takeover = %v, want ErrLockLost", err)
	}
	if _, err := os.Stat(lockDir); err != nil {
		t.Errorf("XO's lock after Unlock: %v", err)
	}
}

// The refresh finds a takeover by itself and closes Lost.
func TestLockRefreshClosesLost(t *testing.T) {
	root := t.TempDir()
	d, err := dir.New("nfs", root, dir.WithLockTiming(time.Hour, 5*time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	held, err := d.Lock(context.Background(), lockedVM)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()
	lockDir := filepath.Join(root, lockedVM+".lock")
	xoTime := time.Now().Add(time.Hour).Truncate(time.Second)
	if err := os.Chtimes(lockDir, xoTime, xoTime); err != nil { // another holder's now, as far as mtimes tell
		t.Fatal(err)
	}
	testsupport.Eventually(t, 10*time.Second, "Lost to be closed", func() bool {
		select {
		case <-held.Lost():
			return true
		default:
			return false
		}
	})
}
