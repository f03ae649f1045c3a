package incremental_test

import (
	"os"
	"path/filepath"
	"testing"

	"xbr/events"
)

// TestDamagedBaseIsNotFirstRun: when the VM's newest restore point's
// manifest is damaged, the run reads the disks whole — rightly — but names
// the reason first-run, as for a VM never backed up; history and metrics
// then say so of a VM with points in the repository. The base is gone.
func TestDamagedBaseIsNotFirstRun(t *testing.T) {
	e := newEnv(t, "nbd", "enable", false)
	first := e.run()
	m := filepath.Join(e.cfg.Remotes[0].Path, "xbr-repo", "vms", first.VMUUID, first.Timestamp+".json")
	if err := os.WriteFile(m, []byte(`{"format":"garbage"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	e.guestWrite(e.liveDisks()[0], 0, 4096, 3)
	next := e.run()
	if next.Path != events.PathFullScan || next.PathReason == events.PathReasonFirstRun {
		t.Fatalf("run after the newest point's manifest was damaged: path %s (%s), want a full scan not named first-run",
			next.Path, next.PathReason)
	}
}
