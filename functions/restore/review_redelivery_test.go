package restore_test

import (
	"os"
	"path/filepath"
	"testing"

	"xbr/events"
	"xbr/shared/compress"
	"xbr/shared/restoreclient"
	"xbr/shared/xapi/xapisim"
)

// A restore completes, but its completed event is not acked (the bus lost
// the connection), so the request is delivered again; meanwhile the backup
// was removed by its job's retention. The VM of the request is there,
// finished: the redelivery should answer completed with it, as it does
// when the backup is still there. It reads the backup's metadata before it
// looks for its VM, so it fails as "backup does not exist" and publishes
// restore.failed for a restore whose VM exists and is complete: the status
// says failed, and the caller never learns the VM.
func TestRedeliveryOfACompletedRestoreAfterItsBackupWasRemoved(t *testing.T) {
	e := newEnv(t, xapisim.Options{})
	src := e.halted()
	id := e.writeBackup(src, backupOpts{codec: compress.Gzip})
	ev := request(t, restoreclient.Params{BackupID: id.String()}, 1)
	first := e.completed(ev)

	for _, key := range []string{id.DataKey(), id.MetaKey()} { // retention removes the backup
		must(t, os.Remove(filepath.Join(e.root, filepath.FromSlash(key))))
	}
	ev.Delivery.Attempt = 2
	p, err := e.handle(ev)
	if err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if got := e.vmByUUID(first.NewVMUUID); got.UUID == "" {
		t.Fatal("the restored VM is gone")
	}
	switch out := p.(type) {
	case events.RestoreCompleted:
		if out.NewVMUUID != first.NewVMUUID {
			t.Fatalf("redelivery: completed with VM %s, the first delivery restored %s", out.NewVMUUID, first.NewVMUUID)
		}
	default:
		t.Fatalf("redelivery of a completed restore (VM %s exists, finished) after its backup was removed: %+v, want restore.completed",
			first.NewVMUUID, p)
	}
}
