package restore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/restore"
	"xbr/shared/bus"
	"xbr/shared/compress"
	"xbr/shared/restoreclient"
	"xbr/shared/xapi"
	"xbr/shared/xapi/xapisim"
)

func TestRedeliveryMakesOneVM(t *testing.T) {
	e := newEnv(t, xapisim.Options{})
	src := e.halted()
	id := e.writeBackup(src, backupOpts{codec: compress.Gzip})
	ev := request(t, restoreclient.Params{BackupID: id.String(), Start: true}, 1)
	first := e.completed(ev)
	after := e.objects()

	// A crash after the import and the mark, before the finishing steps.
	ref := xapi.VMRef(e.vmByUUID(first.NewVMUUID).Ref)
	ctx := context.Background()
	must(t, e.client.SetNameLabel(ctx, ref, "half restored"))
	must(t, e.client.RemoveTag(ctx, ref, "restored from backup"))

	ev.Delivery.Attempt = 2
	second := e.completed(ev)
	if second.NewVMUUID != first.NewVMUUID {
		t.Fatalf("redelivery restored VM %s, the first delivery %s", second.NewVMUUID, first.NewVMUUID)
	}
	if got := e.objects(); got != after {
		t.Fatalf("after the redelivery the simulator holds %s, before %s", got, after)
	}
	e.checkVM(string(ref), id, "", src.NameLabel, true)
}

// failFirst fails the first XAPI call of one method with a connection
// reset: the simulator cannot fail a chosen call once, as a flaky pool does.
type failFirst struct {
	method string
	done   atomic.Bool
}

func (f *failFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		if bytes.Contains(b, []byte(`"`+f.method+`"`)) || bytes.Contains(b, []byte(">"+f.method+"<")) {
			if f.done.CompareAndSwap(false, true) {
				return nil, errors.New("connection reset by peer (injected)")
			}
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// onePool hands out one client, the flaky one.
type onePool struct{ c *xapi.Client }

func (p onePool) Names() []string                                      { return []string{poolName} }
func (p onePool) Client(context.Context, string) (*xapi.Client, error) { return p.c, nil }

// Every pool call after the import can fail once: the redelivery finishes
// the VM the first delivery imported, or imports again when that one could
// not be marked and was removed. One request never leaves two VMs, and a
// failed one leaves none.
func TestPoolErrorAfterImportLeavesOneVM(t *testing.T) {
	tests := []struct {
		method  string
		attempt uint64 // of the delivery that meets the error
		step    string // the error names it
		left    int    // new VMs after that delivery
	}{
		{"VM.add_to_other_config", 1, "mark the restored VM", 0},
		{"VM.add_to_other_config", 3, "mark the restored VM", 0},
		{"VM.get_all_records", 1, "name the restored VM", 1},
		{"VM.set_name_label", 1, "rename the restored VM", 1},
		{"VM.add_tags", 1, "tag the restored VM", 1},
		{"VM.get_record", 1, "read the restored VM", 1},
		// The last attempt: the request fails for good, and a VM it could
		// not finish is removed with its disks (a failed restore leaves no VM).
		{"VM.get_all_records", 3, "name the restored VM", 0},
		{"VM.set_name_label", 3, "rename the restored VM", 0},
		{"VM.add_tags", 3, "tag the restored VM", 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s on attempt %d", tc.method, tc.attempt), func(t *testing.T) {
			e := newEnv(t, xapisim.Options{})
			src := e.halted()
			id := e.writeBackup(src, backupOpts{codec: compress.Gzip})
			c, err := xapi.New(e.url, xapi.WithTransport(xapi.Auto),
				xapi.WithHTTPClient(&http.Client{Transport: &failFirst{method: tc.method}}))
			must(t, err)
			user, pass := e.sim.Credentials()
			must(t, c.Login(context.Background(), user, pass))
			e.h = restore.New(onePool{c}, e.remotes, e.conn, events.Subjects{}, restore.Options{ProgressEvery: 50 * time.Millisecond})
			before, objects := len(e.sim.Refs("VM")), e.objects()
			ev := request(t, restoreclient.Params{BackupID: id.String()}, tc.attempt)

			var reason string
			if tc.attempt < 3 {
				outs, err := e.h.Handle(context.Background(), ev)
				if err == nil || bus.IsPermanent(err) || len(outs) != 0 {
					t.Fatalf("got %d follow-ups and %v, want a retryable error", len(outs), err)
				}
				reason = err.Error()
			} else {
				reason = e.failed(ev).Error
			}
			if !strings.Contains(reason, tc.step) || !strings.Contains(reason, "injected") {
				t.Fatalf("error %q: want the injected fault at %q", reason, tc.step)
			}
			if tc.attempt == 3 && tc.method != "VM.add_to_other_config" && !strings.Contains(reason, "partly restored VM was removed") {
				t.Fatalf("error %q does not say the partly restored VM was removed", reason)
			}
			if got := len(e.sim.Refs("VM")) - before; got != tc.left {
				t.Fatalf("after the error the pool holds %d new VMs, want %d", got, tc.left)
			}
			if tc.left == 0 && e.objects() != objects {
				t.Fatalf("after the error the simulator holds %s, before %s", e.objects(), objects)
			}
			if tc.attempt == 3 {
				return // the request has failed
			}
			ev.Delivery.Attempt++
			done := e.completed(ev)
			if got := len(e.sim.Refs("VM")) - before; got != 1 {
				t.Fatalf("one restore request left %d new VMs on the pool, want 1", got)
			}
			e.checkVM(e.vmByUUID(done.NewVMUUID).Ref, id, "", src.NameLabel, false)
		})
	}
}

func TestRejectsIDsThatLeaveTheRemote(t *testing.T) {
	e := newEnv(t, xapisim.Options{})
	for _, bad := range []string{
		"nfs:a..b/20240301T020000Z",
		"nfs:%2e%2e/etc/passwd",
		"nfs:C34D3B28-42DA-4516-A537-DEB84E84EFD6/20240301T020000Z",
		"nfs:c34d3b28-42da-4516-a537-deb84e84efd6//20240301T020000Z",
	} {
		t.Run(bad, func(t *testing.T) {
			req := events.RestoreRequested{RequestID: events.DeriveID(bad), BackupID: bad, Pool: poolName}
			_, err := e.h.Handle(context.Background(), rawRequest(t, req, 1))
			if !bus.IsPermanent(err) || !strings.Contains(err.Error(), "invalid backup id") {
				t.Fatalf("got %v, want a permanent invalid backup id error", err)
			}
			st, err := restoreclient.Lookup(context.Background(), e.conn.JetStream(), events.Subjects{}, events.StreamNames{}, req.RequestID)
			must(t, err)
			if st.State != restoreclient.StateFailed || !strings.Contains(st.Error, "invalid backup id") {
				t.Fatalf("status %+v, want failed with the reason", st)
			}
		})
	}
}

func TestFailuresNameTheCause(t *testing.T) {
	e := newEnv(t, xapisim.Options{})
	id := e.writeBackup(e.halted(), backupOpts{codec: compress.Zstd})
	missing := strings.Replace(id.String(), "20240301T020000Z", "20240302T020000Z", 1)
	tests := []struct {
		name string
		p    restoreclient.Params
		want string
	}{
		{"unknown SR", restoreclient.Params{BackupID: id.String(), SR: "no such SR"}, `sr "no such SR": no SR that can hold disks has this uuid or name`},
		{"unknown pool", restoreclient.Params{BackupID: id.String(), Pool: "elsewhere"}, `pool "elsewhere" is not configured`},
		{"unknown remote", restoreclient.Params{BackupID: strings.Replace(id.String(), "nfs:", "s3:", 1)}, `remote "s3" is not configured`},
		{"missing backup", restoreclient.Params{BackupID: missing}, "does not exist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := e.objects()
			f := e.failed(request(t, tc.p, 1))
			if !strings.Contains(f.Error, tc.want) {
				t.Fatalf("failure %q does not contain %q", f.Error, tc.want)
			}
			if e.objects() != before {
				t.Fatalf("simulator holds %s, before %s", e.objects(), before)
			}
		})
	}
}

func TestUnreachablePoolIsRetriedThenFails(t *testing.T) {
	e := newEnv(t, xapisim.Options{})
	id := e.writeBackup(e.halted(), backupOpts{codec: compress.None})
	e.sim.SetFaults(xapisim.Faults{RefuseLogins: true})
	ev := request(t, restoreclient.Params{BackupID: id.String()}, 1)
	for attempt := uint64(1); attempt < 3; attempt++ {
		ev.Delivery.Attempt = attempt
		outs, err := e.h.Handle(context.Background(), ev)
		if err == nil || bus.IsPermanent(err) || len(outs) != 0 {
			t.Fatalf("attempt %d: got %d follow-ups and %v, want a retryable error", attempt, len(outs), err)
		}
	}
	ev.Delivery.Attempt = 3
	f := e.failed(ev)
	if !strings.Contains(f.Error, "SESSION_AUTHENTICATION_FAILED") {
		t.Fatalf("failure %q", f.Error)
	}
	_, pass := e.sim.Credentials()
	if strings.Contains(f.Error, pass) {
		t.Fatal("the failure reveals the password")
	}
}

// TestStartFailureOnTheLastAttemptKeepsTheVM: a restored VM that was
// finished (named, tagged, cleaned) and only failed to start is whole; the
// request fails, but the VM is kept and the reason says so.
func TestStartFailureOnTheLastAttemptKeepsTheVM(t *testing.T) {
	e := newEnv(t, xapisim.Options{})
	src := e.halted()
	id := e.writeBackup(src, backupOpts{codec: compress.Gzip})
	c, err := xapi.New(e.url, xapi.WithTransport(xapi.Auto),
		xapi.WithHTTPClient(&http.Client{Transport: &failFirst{method: "Async.VM.start"}}))
	must(t, err)
	user, pass := e.sim.Credentials()
	must(t, c.Login(context.Background(), user, pass))
	e.h = restore.New(onePool{c}, e.remotes, e.conn, events.Subjects{}, restore.Options{ProgressEvery: 50 * time.Millisecond})
	before := len(e.sim.Refs("VM"))
	f := e.failed(request(t, restoreclient.Params{BackupID: id.String(), Start: true}, 3))
	if !strings.Contains(f.Error, "start the restored VM") || !strings.Contains(f.Error, "is kept") {
		t.Fatalf("reason %q: want the start failure and that the VM is kept", f.Error)
	}
	if got := len(e.sim.Refs("VM")) - before; got != 1 {
		t.Fatalf("the pool holds %d new VMs, want the restored one kept", got)
	}
}
