package xapi_test

import (
	"context"
	"testing"
	"time"

	"xbr/shared/xapi"
)

// TestSnapshotFallbackWithoutIgnoreVDIs plays a host older than XAPI 21.4,
// which the simulator is not: VM.snapshot with ignore_vdis fails with
// MESSAGE_PARAMETER_COUNT_MISMATCH, so the client snapshots everything and
// destroys the snapshots of the ignored disks.
func TestSnapshotFallbackWithoutIgnoreVDIs(t *testing.T) {
	var destroyed []string
	done := func(result string) fakeReply {
		return fakeReply{value: map[string]any{"status": "success", "result": result}}
	}
	srv := fakeXAPI(t, map[string]func([]any) fakeReply{
		"session.login_with_password": loginOK,
		"Async.VM.snapshot": func(p []any) fakeReply {
			if len(p) != 3 {
				return fakeReply{failure: []string{"MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.snapshot", "2", "3"}}
			}
			return fakeReply{value: "OpaqueRef:task-snap"}
		},
		"task.get_record": func(p []any) fakeReply {
			if p[1] == "OpaqueRef:task-snap" {
				return done("<value>OpaqueRef:snap</value>")
			}
			return done("<value></value>")
		},
		"task.destroy": func([]any) fakeReply { return fakeReply{value: ""} },
		"VM.get_record": func([]any) fakeReply {
			return fakeReply{value: map[string]any{"VBDs": []any{"OpaqueRef:vbd-a", "OpaqueRef:vbd-b"}}}
		},
		"VBD.get_record": vbdOf,
		"VDI.get_record": func(p []any) fakeReply {
			orig := map[any]string{"OpaqueRef:snap-a": "OpaqueRef:a", "OpaqueRef:snap-b": "OpaqueRef:b"}[p[1]]
			return fakeReply{value: map[string]any{"snapshot_of": orig}}
		},
		"Async.VDI.destroy": func(p []any) fakeReply {
			destroyed = append(destroyed, p[1].(string))
			return fakeReply{value: "OpaqueRef:task-destroy"}
		},
	})
	c, _ := xapi.New(srv.URL, xapi.WithTaskPoll(time.Millisecond, time.Millisecond))
	ctx := context.Background()
	if err := c.Login(ctx, "root", "pw"); err != nil {
		t.Fatal(err)
	}
	snap, err := c.Snapshot(ctx, "OpaqueRef:vm", "s", []xapi.VDIRef{"OpaqueRef:b"})
	if err != nil {
		t.Fatal(err)
	}
	if snap != "OpaqueRef:snap" || len(destroyed) != 1 || destroyed[0] != "OpaqueRef:snap-b" {
		t.Fatalf("snapshot %s, destroyed %v; want OpaqueRef:snap and only the snapshot of the ignored disk", snap, destroyed)
	}
}

func vbdOf(p []any) fakeReply {
	vdi := map[any]string{"OpaqueRef:vbd-a": "OpaqueRef:snap-a", "OpaqueRef:vbd-b": "OpaqueRef:snap-b"}[p[1]]
	return fakeReply{value: map[string]any{"type": "Disk", "VDI": vdi, "VM": "OpaqueRef:snap"}}
}
