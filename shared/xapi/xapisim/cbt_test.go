package xapisim_test

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"xbr/shared/xapi/xapisim"
)

// write posts a guest write and returns the status and body.
func write(t *testing.T, url, path string) (int, string) {
	t.Helper()
	resp, err := http.Post(url+path, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// mustWrite writes length bytes of seed at offset into the VDI uuid.
func mustWrite(t *testing.T, url, uuid string, offset, length int64, seed int) {
	t.Helper()
	if code, body := write(t, url, fmt.Sprintf("/sim/vdi/%s/write?offset=%d&length=%d&seed=%d", uuid, offset, length, seed)); code != 200 {
		t.Fatalf("guest write: %d %s", code, body)
	}
}

func vdiUUID(t *testing.T, s *xapisim.Server, ref string) string {
	t.Helper()
	rec, err := s.Record("VDI", ref)
	if err != nil {
		t.Fatal(err)
	}
	return rec["uuid"].(string)
}

// TestGuestWriteValidation: each bad parameter is refused with a message
// naming it; unknown VDIs are 404 and snapshots 409.
func TestGuestWriteValidation(t *testing.T) {
	s, url := newSim(t, xapisim.Options{})
	sess := login(t, s, url)
	vm := vmByName(t, s, "vm-02")
	uuid := vdiUUID(t, s, vm.VDIs[0])
	snap := must(t, url, "VM.snapshot", sess, vm.Ref, "s").(string)
	snapInfo, _ := s.VM(snap)
	snapUUID := vdiUUID(t, s, snapInfo.VDIs[0])
	base := "/sim/vdi/" + uuid + "/write?"
	for _, c := range []struct {
		path string
		code int
		want string
	}{
		{base + "offset=x&length=512&seed=1", 400, "offset"},
		{base + "offset=100&length=512&seed=1", 400, "offset"},
		{base + "offset=-512&length=512&seed=1", 400, "offset"},
		{base + "offset=0&length=0&seed=1", 400, "length"},
		{base + "offset=0&seed=1", 400, "length"},
		{base + "offset=0&length=2147483648&seed=1", 400, "length"},
		{base + "offset=4194304&length=512&seed=1", 400, "past the end"},
		{base + "offset=0&length=512&seed=-1", 400, "seed"},
		{base + "offset=0&length=512", 400, "seed"},
		{"/sim/vdi/" + uuid + "/erase?offset=0&length=512&seed=1", 400, "path"},
		{"/sim/vdi/nope/write?offset=0&length=512&seed=1", 404, "nope"},
		{"/sim/vdi/" + snapUUID + "/write?offset=0&length=512&seed=1", 409, "snapshot"},
	} {
		code, body := write(t, url, c.path)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("POST %s: %d %q, want %d naming %q", c.path, code, body, c.code, c.want)
		}
	}
}

// TestGuestWriteContent: a write changes exactly its range with data that
// depends only on the seed and position, leaves an earlier snapshot as it
// was, and is counted in /sim/stats.
func TestGuestWriteContent(t *testing.T) {
	s, url := newSim(t, xapisim.Options{})
	sess := login(t, s, url)
	vm := vmByName(t, s, "vm-02")
	before := vdiBytes(t, s, vm.VDIs[0])
	snap := must(t, url, "VM.snapshot", sess, vm.Ref, "before").(string)
	const off, n = 3*65536 - 1024, 70000 - 70000%512
	mustWrite(t, url, vdiUUID(t, s, vm.VDIs[0]), off, n, 42)
	after := vdiBytes(t, s, vm.VDIs[0])
	if !bytes.Equal(after[:off], before[:off]) || !bytes.Equal(after[off+n:], before[off+n:]) || bytes.Equal(after[off:off+n], before[off:off+n]) {
		t.Fatal("the write changed bytes outside its range, or none inside")
	}
	mustWrite(t, url, vdiUUID(t, s, vm.VDIs[0]), off+512, 512, 42)
	if again := vdiBytes(t, s, vm.VDIs[0]); !bytes.Equal(again, after) {
		t.Fatal("rewriting part of a range with the same seed changed its bytes")
	}
	snapInfo, _ := s.VM(snap)
	if !bytes.Equal(vdiBytes(t, s, snapInfo.VDIs[0]), before) {
		t.Fatal("the earlier snapshot's disk changed")
	}
	if got := s.Stats().Bytes; got["guest_write"] != n+512 || len(got) < len(xapisim.TransferKinds) {
		t.Fatalf("stats bytes %v, want guest_write %d and every kind", got, n+512)
	}
	resp, err := http.Get(url + "/export_raw_vdi?session_id=" + sess + "&vdi=" + vm.VDIs[0])
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if !bytes.Equal(got, after) || s.Stats().Bytes["export_raw_vdi"] != int64(len(after)) {
		t.Fatalf("export_raw_vdi: %d bytes, counted %d", len(got), s.Stats().Bytes["export_raw_vdi"])
	}
}

// changed decodes a list_changed_blocks answer into block numbers.
func changed(t *testing.T, v any) []int {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(v.(string))
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for i := range len(b) * 8 {
		if b[i/8]&(0x80>>(i%8)) != 0 {
			out = append(out, i)
		}
	}
	return out
}

// TestCBTDestroyKeepsChain: destroying a snapshot between two others
// merges its changes into the next log, so list_changed_blocks across it
// still names every change; listing to an attached VDI is VDI_IN_USE.
func TestCBTDestroyKeepsChain(t *testing.T) {
	s, url := newSim(t, xapisim.Options{})
	sess := login(t, s, url)
	vm := vmByName(t, s, "vm-02")
	disk := vm.VDIs[0]
	uuid := vdiUUID(t, s, disk)
	must(t, url, "VDI.enable_cbt", sess, disk)
	snapDisk := func(name string) (string, string) {
		ref := must(t, url, "VM.snapshot", sess, vm.Ref, name).(string)
		info, _ := s.VM(ref)
		return ref, info.VDIs[0]
	}
	_, a := snapDisk("A")
	mustWrite(t, url, uuid, 65536, 512, 1)
	bVM, b := snapDisk("B")
	mustWrite(t, url, uuid, 5*65536, 512, 2)
	_, c := snapDisk("C")
	must(t, url, "VM.destroy", sess, bVM)
	must(t, url, "VDI.destroy", sess, b)
	if got := changed(t, must(t, url, "VDI.list_changed_blocks", sess, a, c)); fmt.Sprint(got) != "[1 5]" {
		t.Fatalf("changed blocks A..C after destroying B: %v, want [1 5]", got)
	}
	running := vmByName(t, s, "vm-01")
	must(t, url, "VDI.enable_cbt", sess, running.VDIs[0])
	mustFail(t, url, "VDI_IN_USE", "VDI.list_changed_blocks", sess, a, running.VDIs[0])
}

// TestMigrationResetsCBT: VDI.pool_migrate refuses a tracked VDI; after
// the disable, migrate, enable sequence Xen Orchestra runs, snapshots from
// before are on no chain with those after.
func TestMigrationResetsCBT(t *testing.T) {
	s, url := newSim(t, xapisim.Options{})
	sess := login(t, s, url)
	vm := vmByName(t, s, "vm-01") // running: its disk is attached
	disk := vm.VDIs[0]
	must(t, url, "VDI.enable_cbt", sess, disk)
	snapA := must(t, url, "VM.snapshot", sess, vm.Ref, "A").(string)
	infoA, _ := s.VM(snapA)
	mustFail(t, url, "VDI_CBT_ENABLED", "VDI.pool_migrate", sess, disk, s.SRRef(), map[string]any{})
	mustFail(t, url, "VDI_NEEDS_VM_FOR_MIGRATE", "VDI.pool_migrate", sess, vmByName(t, s, "vm-02").VDIs[0], s.SRRef(), map[string]any{})
	must(t, url, "VDI.disable_cbt", sess, disk)
	moved := must(t, url, "VDI.pool_migrate", sess, disk, s.SRRef(), map[string]any{}).(string)
	if after := vmByName(t, s, "vm-01"); moved == disk || after.VDIs[0] != moved {
		t.Fatalf("after migration the VM's disk is %v, want the new VDI %s", after.VDIs, moved)
	}
	must(t, url, "VDI.enable_cbt", sess, moved)
	snapB := must(t, url, "VM.snapshot", sess, vm.Ref, "B").(string)
	infoB, _ := s.VM(snapB)
	desc := mustFail(t, url, "SR_BACKEND_FAILURE_460", "VDI.list_changed_blocks", sess, infoA.VDIs[0], infoB.VDIs[0])
	if !strings.Contains(strings.Join(desc, " "), "unrelated") {
		t.Fatalf("error %v does not say the VDIs are unrelated", desc)
	}
}
