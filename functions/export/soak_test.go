package export_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/bus/natsserver"
	"xbr/shared/testsupport"
)

// footprint is what a run must not leave behind.
type footprint struct {
	goroutines int
	natsserver.ServerStats
}

func (e *env) footprint() footprint {
	e.t.Helper()
	st, err := e.srv.Stats()
	if err != nil {
		e.t.Fatal(err)
	}
	return footprint{goroutines: runtime.NumGoroutine(), ServerStats: st}
}

// follow fires a run of job and waits for its run.completed the way
// `xbr run --wait` does: a Watch of new events opened before the fire.
func (e *env) follow(job string, at time.Time) events.RunCompleted {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w, err := e.conn.Watch(ctx, bus.WatchOptions{DeliverNew: true})
	if err != nil {
		e.t.Fatal(err)
	}
	defer w.Close()
	run := e.fire(job, "daily", at)
	for {
		rec, err := w.Next(ctx)
		if err != nil {
			e.t.Fatalf("run %s: %v", run, err)
		}
		if p, ok := rec.Event.Payload.(events.RunCompleted); ok && p.RunID == run {
			return p
		}
	}
}

// TestRunsLeaveNothingBehind runs a job many times in one process and checks
// that after each run the goroutines, the NATS server's clients and the
// JetStream consumers come back to what they were after the first runs.
// XBR_SOAK_RUNS sets the number of runs (default 12); with -v it logs the
// heap in use after a forced GC after each run.
func TestRunsLeaveNothingBehind(t *testing.T) {
	e := newEnv(t, 3, `  - name: nightly
    pools: [lab]
    remotes: [local]
    compression: gzip
    concurrency: 2
    schedules: [{name: daily, cron: "0 2 * * *", retention: 2}]
`, false)
	e.start()
	const warmUp = 2
	runs := 12
	if n, err := strconv.Atoi(os.Getenv("XBR_SOAK_RUNS")); err == nil && n > warmUp {
		runs = n
	}
	var base footprint
	for i := range runs {
		if rc := e.follow("nightly", fireAt.Add(time.Duration(i)*time.Hour)); rc.Status != events.StatusSuccess {
			t.Fatalf("run %d: %s", i, rc.Status)
		}
		if i == warmUp-1 {
			base = e.footprint()
			continue
		}
		if i < warmUp {
			continue
		}
		var now footprint
		testsupport.Eventually(t, 30*time.Second, fmt.Sprintf("footprint back to %+v after run %d (now %+v)", base, i, &now), func() bool {
			now = e.footprint()
			// A few goroutines of idle keep-alive connections come and go.
			return now.Clients <= base.Clients && now.Consumers <= base.Consumers && now.goroutines <= base.goroutines+6
		})
		if testing.Verbose() {
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			t.Logf("after run %d: %+v, heap in use %.1f MiB", i, now, float64(ms.HeapInuse)/(1<<20))
		}
	}
}
