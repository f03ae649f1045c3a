package restore_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"xbr/shared/catalog"
	"xbr/shared/compress"
	"xbr/shared/restoreclient"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

func TestRestoreIsByteIdentical(t *testing.T) {
	tests := []struct {
		name  string
		opts  backupOpts
		sr    func(e *env) string
		start bool
		named string
	}{
		{name: "gzip, default SR", opts: backupOpts{codec: compress.Gzip}},
		{name: "zstd, SR by uuid, started", opts: backupOpts{codec: compress.Zstd}, start: true,
			sr: func(e *env) string { return srField(e, "uuid") }},
		{name: "plain, SR by name, new name", opts: backupOpts{codec: compress.None}, named: "rescue copy",
			sr: func(e *env) string { return srField(e, "name_label") }},
		{name: "Xen Orchestra layout, XO checksum", opts: backupOpts{codec: compress.Gzip, xo: true, xoChecksum: true}},
		{name: "Xen Orchestra layout, no checksum file", opts: backupOpts{codec: compress.None, xo: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, xapisim.Options{DisksPerVM: 2})
			src := e.halted()
			must(t, e.client.AddToOtherConfig(context.Background(), xapi.VMRef(src.Ref), "xo:backup:job", "j1"))
			id := e.writeBackup(src, tc.opts)
			p := restoreclient.Params{BackupID: id.String(), Name: tc.named, Start: tc.start}
			if tc.sr != nil {
				p.SR = tc.sr(e)
			}
			done := e.completed((request(t, p, 1)))
			got := e.vmByUUID(done.NewVMUUID)
			if a, b := e.diskDigests(got.Ref), e.diskDigests(src.Ref); !slices.Equal(a, b) || len(a) != 2 {
				t.Fatalf("restored disks %v, source disks %v", a, b)
			}
			e.checkVM(got.Ref, id, tc.named, src.NameLabel, tc.start)
			if done.NewVMName != got.NameLabel || done.Bytes <= 0 || done.Started != tc.start || done.SR != srField(e, "uuid") {
				t.Fatalf("completed event %+v does not describe VM %+v", done, got)
			}
		})
	}
}

func srField(e *env, field string) string {
	rec, err := e.sim.Record("SR", e.sim.SRRef())
	must(e.t, err)
	return rec[field].(string)
}

// checkVM asserts the name, tag, description, other_config and power state of a restored VM.
func (e *env) checkVM(ref string, id catalog.ID, named, srcName string, started bool) {
	e.t.Helper()
	vm, err := e.client.VMRecord(context.Background(), xapi.VMRef(ref))
	must(e.t, err)
	want := named
	if want == "" {
		want = srcName + " (" + id.Timestamp() + ")"
	}
	if vm.NameLabel != want {
		e.t.Errorf("name %q, want %q", vm.NameLabel, want)
	}
	if !slices.Contains(vm.Tags, "restored from backup") {
		e.t.Errorf("tags %v lack %q", vm.Tags, "restored from backup")
	}
	if !strings.HasPrefix(vm.NameDescription, "Restored on ") || !strings.HasSuffix(vm.NameDescription, " from nfs backup "+id.String()) {
		e.t.Errorf("description %q", vm.NameDescription)
	}
	for k := range vm.OtherConfig {
		if strings.HasPrefix(k, "xo:backup:") {
			e.t.Errorf("other_config still has %s", k)
		}
	}
	if vm.IsATemplate {
		e.t.Error("the restored VM is a template")
	}
	if running := vm.PowerState == xapi.Running; running != started {
		e.t.Errorf("power state %s, start asked %v", vm.PowerState, started)
	}
}

func TestCorruptBackupLeavesNoVM(t *testing.T) {
	tests := []struct {
		name  string
		opts  backupOpts
		where func(size int) int // offset of the flipped byte
		want  string
		hold  int // bytes the verifier withholds (small: XAPI sees the bad bytes before the digest is known)
		disk  int64
	}{
		// XAPI checks nothing in the tar trailer: only the SHA-256 held back catches it.
		{"byte in the trailer, plain", backupOpts{codec: compress.None}, func(n int) int { return n - 100 }, restoreChecksum, 0, 0},
		{"byte in the trailer, plain, streamed", backupOpts{codec: compress.None}, func(n int) int { return n - 100 }, restoreChecksum, 4096, 0},
		{"byte in the middle, gzip", backupOpts{codec: compress.Gzip}, func(n int) int { return n / 2 }, restoreChecksum, 0, 0},
		{"byte in the middle, gzip, streamed", backupOpts{codec: compress.Gzip}, func(n int) int { return n / 3 }, restoreChecksum, 4096, 0},
		{"byte in the middle, plain, streamed", backupOpts{codec: compress.None}, func(n int) int { return n / 3 }, restoreChecksum, 4096, 0},
		// XAPI rejects the chunk long before the end: the rest is read to tell a corrupt backup.
		{"byte in the middle, plain, large", backupOpts{codec: compress.None}, func(n int) int { return n / 8 }, restoreChecksum, 4096, 48 << 20},
		{"byte in the middle, XO md5", backupOpts{codec: compress.None, xo: true, xoChecksum: true}, func(n int) int { return n / 2 }, restoreChecksum, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, xapisim.Options{DiskSize: tc.disk})
			e.setHold(tc.hold)
			id := e.writeBackup(e.halted(), tc.opts)
			path := filepath.Join(e.root, id.DataKey())
			data, err := os.ReadFile(path)
			must(t, err)
			data[tc.where(len(data))] ^= 0x40
			must(t, os.WriteFile(path, data, 0o644))
			before := e.objects()
			f := e.failed((request(t, restoreclient.Params{BackupID: id.String()}, 1)))
			t.Logf("failure: %s", f.Error)
			if !strings.Contains(f.Error, tc.want) {
				t.Fatalf("failure %q does not name the checksum", f.Error)
			}
			e.eventuallyObjects(before)
		})
	}
}

const restoreChecksum = "checksum mismatch"

// eventuallyObjects waits until the simulator holds what it held before.
func (e *env) eventuallyObjects(want string) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.objects() != want {
		if time.Now().After(deadline) {
			e.t.Fatalf("simulator holds %s, want %s (a VM or disk was left behind)", e.objects(), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTruncatedBackupFailsCleanly(t *testing.T) {
	for _, codec := range []compress.Codec{compress.None, compress.Zstd} {
		t.Run(string(codec), func(t *testing.T) {
			e := newEnv(t, xapisim.Options{})
			id := e.writeBackup(e.halted(), backupOpts{codec: codec})
			path := filepath.Join(e.root, id.DataKey())
			info, err := os.Stat(path)
			must(t, err)
			must(t, os.Truncate(path, info.Size()*2/3))
			before := e.objects()
			f := e.failed((request(t, restoreclient.Params{BackupID: id.String()}, 1)))
			t.Logf("failure: %s", f.Error)
			if !strings.Contains(f.Error, "truncated") {
				t.Fatalf("failure %q does not say truncated", f.Error)
			}
			e.eventuallyObjects(before)
		})
	}
}
