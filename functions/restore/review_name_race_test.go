package restore_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/restore"
	"xbr/shared/compress"
	"xbr/shared/restoreclient"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

// beforeFirst runs fn once, just before the first request that names
// method is sent.
type beforeFirst struct {
	method string
	fn     func()
	done   atomic.Bool
}

func (b *beforeFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if bytes.Contains(body, []byte(b.method)) && b.done.CompareAndSwap(false, true) {
			b.fn()
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// Two restores of one backup run at once (the function runs two at a time;
// the web form was sent twice, or two people asked). The package promises
// "Two VMs of one name are never made ... the name is checked again when
// the VM is named, for requests published without asking and for races".
// Restore A picks the free name, then restore B, done entirely in between,
// picks the same one (A's VM does not carry it yet), and A renames its VM
// to it: two VMs of one name.
func TestConcurrentRestoresOfOneBackupGetDistinctNames(t *testing.T) {
	e := newEnv(t, xapisim.Options{})
	src := e.halted()
	id := e.writeBackup(src, backupOpts{codec: compress.Gzip})
	evB := request(t, restoreclient.Params{BackupID: id.String(), Key: "b"}, 1)
	var doneB events.RestoreCompleted
	hook := &beforeFirst{method: "VM.set_name_label", fn: func() { doneB = e.completed(evB) }}
	c, err := xapi.New(e.url, xapi.WithHTTPClient(&http.Client{Transport: hook}))
	must(t, err)
	user, pass := e.sim.Credentials()
	must(t, c.Login(context.Background(), user, pass))
	a := restore.New(onePool{c}, e.remotes, e.conn, events.Subjects{}, restore.Options{ProgressEvery: 50 * time.Millisecond})
	outs, err := a.Handle(context.Background(), request(t, restoreclient.Params{BackupID: id.String(), Key: "a"}, 1))
	if err != nil || len(outs) != 1 {
		t.Fatalf("restore A: %v, %v", outs, err)
	}
	rec, err := events.Decode(outs[0].Subject, mustHeaders(t, outs[0]), outs[0].Event.Data())
	must(t, err)
	doneA, ok := rec.Payload.(events.RestoreCompleted)
	if !ok || !hook.done.Load() || doneB.NewVMUUID == "" {
		t.Fatalf("restore A: %+v; restore B ran: %v", rec.Payload, hook.done.Load())
	}
	nameA, nameB := e.vmByUUID(doneA.NewVMUUID).NameLabel, e.vmByUUID(doneB.NewVMUUID).NameLabel
	if nameA == nameB {
		t.Fatalf("two concurrent restores of %s made two VMs named %q (%s and %s)", id, nameA, doneA.NewVMUUID, doneB.NewVMUUID)
	}
}
