package gateway_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"xbr/events"
	"xbr/shared/xapi"
)

// damagePoint overwrites the manifest of restore point at of the harness's VM
// on the nfs remote, as a bad disk or a partial copy would.
func (h *harness) damagePoint(t *testing.T, at time.Time) {
	t.Helper()
	p := filepath.Join(h.env.Config.Remotes[0].Path, "xbr-repo", "vms", h.vm.UUID, at.UTC().Format("20060102T150405Z")+".json")
	if err := os.WriteFile(p, []byte("not a manifest"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Step 3 of the Restore view ("choose a backup", newest first) and the chat
// command `backups <vm>` list a VM's backups; a newer restore point whose
// manifest cannot be read is left out of the listing. The listing must say
// that something could not be read (as step 2 and `restore <vm>` do):
// otherwise the older full backup is presented as the VM's newest.
func TestBackupsListingTellsUnreadablePoint(t *testing.T) {
	h := newHarness(t)
	at := time.Date(2024, 5, 2, 2, 0, 0, 0, time.UTC) // newer than the full backup of 2024-05-01
	h.storePoint(t, at)
	h.damagePoint(t, at)

	path := "/restore?remote=nfs&vm=" + h.vm.UUID
	code, page := h.do(t, "GET", path, nil, "")
	if code != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, code, page)
	}
	if !strings.Contains(page, "20240502T020000Z") {
		t.Errorf("GET %s: the page lists the VM's backups as complete; it does not say that the restore point "+
			"20240502T020000Z could not be read", path)
	}
	reply := h.slack(t, "backups "+h.vm.UUID)
	if !strings.Contains(reply.Text, "20240502T020000Z") {
		t.Errorf("backups %s: the reply does not say that the restore point 20240502T020000Z could not be read:\n%s",
			h.vm.UUID, reply.Text)
	}
}

// A restore may name the new VM with up to 256 bytes. When a VM of the pool
// already has that name, Accept renames the new VM "<name> (2)" after the
// request was validated, and the longer name makes the publish fail: the
// caller gets a 502 about a name it never gave, instead of a 202 with a
// warning (or a 400 naming the field).
func TestTakenLongNameIsNotA502(t *testing.T) {
	h := newHarness(t)
	name := strings.Repeat("n", 256)
	h.sim.AddVM(name, false)
	body := `{"backup_id": "` + h.backup.String() + `", "pool": "lab", "name": "` + name + `"}`
	code, out := h.do(t, "POST", "/v1/restores", signed(webhookSecret, time.Now(), body), body)
	if code != http.StatusAccepted && code != http.StatusBadRequest {
		t.Fatalf("restore named like an existing VM, 256 bytes: status %d, want 202 (renamed) or 400: %s", code, out)
	}
}

// A VM is named by a uuid or an exact name, and the name designates one VM
// (vmname.Resolve over every backup). Points record the VM's name at backup
// time, so a VM renamed between two backups has backups under two names.
// Once the name resolved to the VM, the backup is chosen among that VM's
// backups; Pick (Latest, At) matches the name again against each backup, so
// the VM's newest backup is skipped for an older one carrying the old name,
// and a backup taken under the old name is "not found" by its time.
func TestRenamedVMBackupsByName(t *testing.T) {
	h := newHarness(t) // full backup of 2024-05-01 02:00:13, VM named h.vm.NameLabel
	ctx := context.Background()
	c, err := h.env.Pools.Client(ctx, "lab")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetNameLabel(ctx, xapi.VMRef(h.vm.Ref), "web-new"); err != nil {
		t.Fatal(err)
	}
	point := h.storePoint(t, time.Date(2024, 5, 2, 2, 0, 0, 0, time.UTC)) // recorded as "web-new"

	// The old name designates the VM (no other VM had it): its newest backup is the point.
	body := `{"vm": "` + h.vm.NameLabel + `", "pool": "lab"}`
	code, out := h.do(t, "POST", "/v1/restores", signed(webhookSecret, time.Now(), body), body)
	if code != http.StatusAccepted {
		t.Fatalf("latest of %q: status %d: %s", h.vm.NameLabel, code, out)
	}
	if a := decode[accepted](t, out); a.BackupID != point.String() {
		t.Errorf("latest of %q (VM %s) restores %s, want its newest backup %s", h.vm.NameLabel, h.vm.UUID, a.BackupID, point)
	}
	// The new name designates the same VM: its backup of 2024-05-01 exists.
	body = `{"vm": "web-new", "backup": "20240501T020013Z", "pool": "lab"}`
	code, out = h.do(t, "POST", "/v1/restores", signed(webhookSecret, time.Now(), body), body)
	if code != http.StatusAccepted {
		t.Errorf("backup of 20240501T020013Z of \"web-new\" (VM %s, which has it: %s): status %d: %s",
			h.vm.UUID, h.backup, code, out)
	}
}

// `healthcheck <vm> sr=<sr>` publishes the check with the SR as typed, while
// `restore ... sr=<sr>` and the web form refuse an SR the pool does not have.
// An unknown SR then fails the check's restore, and the backup is marked
// "failed: restore-failed" on the backups page although nothing is wrong
// with it.
func TestChatHealthCheckChecksTheSR(t *testing.T) {
	h := newHarness(t)
	if reply := h.slack(t, "restore "+h.vm.UUID+" sr=no-such-sr"); !strings.HasPrefix(reply.Text, "Sorry") {
		t.Fatalf("restore with an unknown SR: %s", reply.Text)
	}
	reply := h.slack(t, "healthcheck "+h.vm.UUID+" sr=no-such-sr")
	if n := h.count(t, events.TypeHealthCheckRequested); n != 0 || !strings.HasPrefix(reply.Text, "Sorry") {
		t.Fatalf("healthcheck with an unknown SR: %d health checks requested, reply: %s", n, reply.Text)
	}
}
