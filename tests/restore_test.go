package tests

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/testsupport"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// TestRestoreThroughTheCLI is issue 6's CLI case end to end: xbr serve as a
// real process backs a VM up (xbr run --wait), xbr backups ls --json lists
// it, xbr restore --wait restores it as a new VM whose disks are the
// source's; a backup with one flipped byte fails with exit 1 and leaves no VM.
func TestRestoreThroughTheCLI(t *testing.T) {
	rp := startRestorePool(t)
	src := rp.halted(t)
	remoteDir := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "xbr.yaml")
	yaml := fmt.Sprintf(`pools:
  - {name: lab, url: %s, username: %s, password: "${XBR_TEST_POOL_PASSWORD}"}
remotes:
  - {name: nfs, type: dir, path: %s}
jobs:
  - name: nightly
    mode: full
    pools: [lab]
    vms: {uuids: [%s]}
    remotes: [nfs]
    compression: gzip
    schedules:
      - {name: daily, cron: "0 2 * * *", timezone: UTC, retention: 3}
`, rp.url, rp.user, remoteDir, src.UUID)
	rsMust(t, os.WriteFile(cfg, []byte(yaml), 0o600))
	s := startServe(t, []string{"XBR_TEST_POOL_PASSWORD=" + rp.pass}, "--config", cfg, "--data-dir", t.TempDir(),
		"--nats-listen", "127.0.0.1:0", "--http", "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	nats := s.natsURL(t)
	run := func(args ...string) (string, string, int) { return xbr(t, ctx, nil, append(args, "--nats", nats)...) }

	if out, errOut, code := run("run", "nightly", "--wait"); code != 0 {
		t.Fatalf("xbr run --wait: exit %d\n%s\n%s\nserver:\n%s", code, out, errOut, s.output())
	}
	b := listedBackup(t, run, src.UUID)
	historyByVM(t, run, src)

	before := len(rp.sim.VMs())
	out, errOut, code := run("restore", b["id"].(string), "--wait", "--start")
	if code != 0 || !strings.Contains(out, "completed: VM") {
		t.Fatalf("xbr restore --wait: exit %d\n%s\n%s\nserver:\n%s", code, out, errOut, s.output())
	}
	restored := rp.restoredVM(t, src.NameLabel+" ("+strings.Split(b["id"].(string), "/")[1]+")")
	if got, want := rp.rawDigests(t, restored.Ref), rp.rawDigests(t, src.Ref); !slices.Equal(got, want) || len(got) != 2 {
		t.Fatalf("restored disks %v, source disks %v", got, want)
	}
	rp.checkRestored(t, restored.Ref, b["id"].(string))
	if len(rp.sim.VMs()) != before+1 {
		t.Fatalf("%d VMs after one restore, %d before", len(rp.sim.VMs()), before)
	}

	restoreAgainAndRefuseUnknownTargets(t, run, rp, b["id"].(string), src)
	before++ // the second restore's VM

	corruptData(t, remoteDir, b["id"].(string))
	vdis := len(rp.sim.Refs("VDI"))
	out, _, code = run("restore", b["id"].(string), "--wait", "--name", "should not exist")
	if code != 1 || !strings.Contains(out, "FAILED") || !strings.Contains(out, "checksum mismatch") {
		t.Fatalf("restore of a corrupt backup: exit %d\n%s", code, out)
	}
	if len(rp.sim.VMs()) != before+1 || len(rp.sim.Refs("VDI")) != vdis {
		t.Fatalf("the failed restore left objects: %d VMs, %d VDIs (want %d, %d)", len(rp.sim.VMs()), len(rp.sim.Refs("VDI")), before+1, vdis)
	}

	_, errOut, code = run("restore", "nfs:../../etc/passwd", "--pool", "lab")
	if code == 0 || !strings.Contains(errOut, "invalid backup id") {
		t.Fatalf("a backup id leaving its remote: exit %d, %s", code, errOut)
	}
	if strings.Contains(s.output(), rp.pass) {
		t.Error("the pool password reached the server's logs")
	}
}

// restoreAgainAndRefuseUnknownTargets: a second restore of id (asked by
// the VM's name) warns and names its VM distinctly; a restore to a remote, backup, pool or SR that
// does not exist fails at once, naming it, and restores nothing.
func restoreAgainAndRefuseUnknownTargets(t *testing.T, run func(...string) (string, string, int), rp *restorePool,
	id string, src xapisim.VMInfo) {
	t.Helper()
	name := src.NameLabel + " (" + strings.Split(id, "/")[1] + ")"
	out, errOut, code := run("restore", "--vm", src.NameLabel, "--wait") // by name: the same, newest backup
	if code != 0 || !strings.Contains(errOut, "xbr: warning: VM ") || !strings.Contains(errOut, `the new VM is named "`+name+` (2)"`) {
		t.Fatalf("a second restore: exit %d\n%s\n%s", code, out, errOut)
	}
	rp.restoredVM(t, name+" (2)")
	vms := len(rp.sim.VMs())
	vm := strings.TrimPrefix(strings.Split(id, "/")[0], "nfs:")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"restore", "tape:" + strings.TrimPrefix(id, "nfs:"), "--pool", "lab"}, `remote "tape" is not configured`},
		{[]string{"restore", "nfs:" + vm + "/20200101T000000Z", "--pool", "lab"}, "no such backup"},
		{[]string{"restore", id, "--pool", "prod"}, `pool "prod": is not configured`},
		{[]string{"restore", id, "--sr", "no such SR"}, `sr "no such SR": is not an SR of pool lab`},
		{[]string{"restore", "--vm", "no such vm"}, `vm: no VM named "no such vm" has a backup`},
		{[]string{"restore", "--vm", src.NameLabel, "--at", "20200101T000000Z"}, `backup "20200101T000000Z": no backup of ` + src.NameLabel},
		{[]string{"restore", "--vm", src.NameLabel, id}, "give BACKUP-ID or --vm, not both"},
		{[]string{"healthcheck", "--vm", "no such vm", "--sr", "x"}, `vm: no VM named "no such vm" has a backup`},
	} {
		out, errOut, code := run(tc.args...)
		if code == 0 || !strings.Contains(errOut, tc.want) || strings.Contains(out, "requested") {
			t.Errorf("xbr %v: exit %d, want an error containing %s\n%s\n%s", tc.args, code, tc.want, out, errOut)
		}
	}
	if n := len(rp.sim.VMs()); n != vms {
		t.Errorf("%d VMs after the refused restores, %d before", n, vms)
	}
}

// historyByVM: history --vm takes the VM's name and shows its runs; a name
// the history does not know exits non-zero saying so.
func historyByVM(t *testing.T, run func(...string) (string, string, int), src xapisim.VMInfo) {
	t.Helper()
	out, errOut, code := run("history", "--vm", src.NameLabel, "--json")
	var runs []struct {
		Job string `json:"job"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &runs) != nil || len(runs) != 1 || runs[0].Job != "nightly" {
		t.Fatalf("history --vm <name>: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, errOut, code := run("history", "--vm", "no such vm"); code == 0 || !strings.Contains(errOut, `vm: no VM named "no such vm" is in the history`) {
		t.Fatalf("history --vm <unknown name>: exit %d\n%s", code, errOut)
	}
}

// listedBackup runs `xbr backups ls --json` and returns the one backup of vm.
func listedBackup(t *testing.T, run func(...string) (string, string, int), vm string) map[string]any {
	t.Helper()
	out, errOut, code := run("backups", "ls", "--json", "--vm", vm)
	if code != 0 {
		t.Fatalf("xbr backups ls --json: exit %d\n%s\n%s", code, out, errOut)
	}
	var list []map[string]any
	rsMust(t, json.Unmarshal([]byte(out), &list))
	if len(list) != 1 {
		t.Fatalf("backups ls --json listed %d backups, want 1:\n%s", len(list), out)
	}
	for _, k := range []string{"id", "remote", "vm_uuid", "vm_name", "timestamp", "size", "codec", "job", "schedule"} {
		if _, ok := list[0][k]; !ok {
			t.Errorf("backups ls --json lacks %q:\n%s", k, out)
		}
	}
	if list[0]["codec"] != "gzip" || list[0]["job"] != "nightly" || list[0]["vm_uuid"] != vm {
		t.Errorf("listed backup %v", list[0])
	}
	out, errOut, code = run("backups", "ls", "--json", "--vm", list[0]["vm_name"].(string))
	var byName []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &byName) != nil || len(byName) != 1 || byName[0]["id"] != list[0]["id"] {
		t.Errorf("backups ls --vm <name>: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, errOut, code = run("backups", "ls", "--vm", "no such vm"); code == 0 || !strings.Contains(errOut, `no VM named "no such vm"`) {
		t.Errorf("backups ls --vm <unknown name>: exit %d\n%s", code, errOut)
	}
	table, _, _ := run("backups", "ls")
	ts, err := time.Parse(time.RFC3339, list[0]["timestamp"].(string))
	rsMust(t, err)
	if at := ts.UTC().Format("2006-01-02 15:04:05 UTC"); !strings.Contains(table, at) { // the schedule's zone, named
		t.Errorf("backups ls table does not show the time as %q:\n%s", at, table)
	}
	if !strings.Contains(table, list[0]["id"].(string)) || !strings.Contains(table, "nightly") {
		t.Errorf("backups ls table does not show the backup:\n%s", table)
	}
	return list[0]
}

// corruptData flips one byte in the middle of a backup's .xva on a directory remote.
func corruptData(t *testing.T, root, backupID string) {
	t.Helper()
	id, err := catalog.ParseID(backupID)
	rsMust(t, err)
	path := filepath.Join(root, filepath.FromSlash(id.DataKey()))
	data, err := os.ReadFile(path)
	rsMust(t, err)
	data[len(data)/2] ^= 1
	rsMust(t, os.WriteFile(path, data, 0o644))
}

// restorePool is a simulated pool and a client of it for assertions.
type restorePool struct {
	sim             *xapisim.Server
	url, user, pass string
	c               *xapi.Client
}

func startRestorePool(t *testing.T) *restorePool {
	t.Helper()
	return restorePoolWith(t, xapisim.Options{VMs: 2, DiskSize: 4<<20 + 512, DisksPerVM: 2})
}

// restorePoolWith starts a simulated pool with o (in a fresh data folder).
func restorePoolWith(t *testing.T, o xapisim.Options) *restorePool {
	t.Helper()
	o.DataDir = t.TempDir()
	rp := &restorePool{}
	rp.sim, rp.url, rp.c = testsupport.StartSim(t, o)
	rp.user, rp.pass = rp.sim.Credentials()
	return rp
}

func (rp *restorePool) halted(t *testing.T) xapisim.VMInfo {
	t.Helper()
	for _, vm := range rp.sim.VMs() {
		if vm.PowerState == "Halted" && !vm.IsSnapshot && !vm.IsTemplate {
			return vm
		}
	}
	t.Fatal("no halted VM")
	return xapisim.VMInfo{}
}

func (rp *restorePool) restoredVM(t *testing.T, name string) xapisim.VMInfo {
	t.Helper()
	for _, vm := range rp.sim.VMs() {
		if vm.NameLabel == name {
			return vm
		}
	}
	t.Fatalf("no VM named %q on the pool", name)
	return xapisim.VMInfo{}
}

// rawDigests digests each disk of a VM through /export_raw_vdi.
func (rp *restorePool) rawDigests(t *testing.T, vmRef string) []string {
	t.Helper()
	vm, err := rp.sim.VM(vmRef)
	rsMust(t, err)
	var out []string
	for _, vdi := range vm.VDIs {
		tr, err := rp.c.ExportRawVDI(context.Background(), xapi.VDIRef(vdi))
		rsMust(t, err)
		h := sha256.New()
		_, err = io.Copy(h, tr)
		rsMust(t, err)
		rsMust(t, tr.Close())
		out = append(out, hex.EncodeToString(h.Sum(nil)))
	}
	return out
}

func (rp *restorePool) checkRestored(t *testing.T, vmRef, backupID string) {
	t.Helper()
	rec, err := rp.c.VMRecord(context.Background(), xapi.VMRef(vmRef))
	rsMust(t, err)
	if !slices.Contains(rec.Tags, "restored from backup") || !strings.HasSuffix(rec.NameDescription, "from nfs backup "+backupID) ||
		rec.PowerState != xapi.Running {
		t.Errorf("restored VM: tags %v, description %q, power %s", rec.Tags, rec.NameDescription, rec.PowerState)
	}
	for k := range rec.OtherConfig {
		if strings.HasPrefix(k, "xo:backup:") {
			t.Errorf("restored VM keeps %s", k)
		}
	}
}

func rsMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
