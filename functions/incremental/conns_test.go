package incremental_test

import (
	"runtime/debug"
	"testing"

	"xbr/events"
)

// TestNBDConnectionsClosed: every run closes the NBD connections it
// opened. The simulator, as xapi-nbd, takes at most 16 at once: runs that
// left theirs open (2 per disk, 2 disks) would fall back to a full scan
// (no-nbd) from the fifth on. With the garbage collector off, no finalizer
// closes a leaked connection behind the test's back.
func TestNBDConnectionsClosed(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	e := newEnv(t, "nbd", "enable", false)
	e.run()
	for k := range 8 {
		for _, d := range e.liveDisks() {
			e.guestWrite(d, 4096, 512, 30+k)
		}
		if c := e.run(); c.Path != events.PathCBT {
			t.Fatalf("run %d: path %s (%s), want cbt", k+2, c.Path, c.PathReason)
		}
	}
}
