package restore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/restore"
	"xbr/shared/compress"
	"xbr/shared/fn"
	"xbr/shared/restoreclient"
	"xbr/shared/xapi/xapisim"
)

// TestRestoreThroughTheBus publishes a request as a front end does and
// follows it to completion through its events, progress included.
func TestRestoreThroughTheBus(t *testing.T) {
	e := newEnv(t, xapisim.Options{DiskSize: 4 << 20})
	src := e.halted()
	id := e.writeBackup(src, backupOpts{codec: compress.None})
	e.sim.SetFaults(xapisim.Faults{RateLimit: 8 << 20}) // about half a second: several progress ticks

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		cfg := restore.ConsumerConfig(&fn.Env{Subjects: events.Subjects{}})
		if err := e.conn.Consume(ctx, cfg, e.h); err != nil {
			t.Error(err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })

	req, err := restoreclient.Publish(ctx, e.conn, events.Subjects{}, events.Source("test"),
		restoreclient.Params{BackupID: id.String(), Pool: poolName, RequestedBy: "test"}, time.Now())
	must(t, err)
	var seen []restoreclient.Status
	fctx, fcancel := context.WithTimeout(ctx, 30*time.Second)
	defer fcancel()
	final, err := restoreclient.Follow(fctx, e.conn, events.Subjects{}, events.StreamNames{}, req.RequestID,
		func(s restoreclient.Status) { seen = append(seen, s) })
	must(t, err)
	if final.State != restoreclient.StateCompleted || final.NewVMUUID == "" || final.Percent != 100 {
		t.Fatalf("final status %+v", final)
	}
	progressed := false
	for _, s := range seen {
		progressed = progressed || (s.State == restoreclient.StateRunning && s.Bytes > 0 && s.TotalBytes > 0 && s.BytesPerSecond > 0)
	}
	if !progressed {
		t.Fatalf("statuses %+v: want running ones with progress", seen)
	}
	looked, err := restoreclient.Lookup(ctx, e.conn.JetStream(), events.Subjects{}, events.StreamNames{}, req.RequestID)
	must(t, err)
	if looked.State != restoreclient.StateCompleted || looked.NewVMUUID != final.NewVMUUID || looked.RequestedBy != "test" {
		t.Fatalf("lookup %+v, follow %+v", looked, final)
	}
	if got, want := e.diskDigests(e.vmByUUID(final.NewVMUUID).Ref), e.diskDigests(src.Ref); got[0] != want[0] {
		t.Fatalf("restored disk %v, source %v", got, want)
	}
}
