package export_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"xbr/events"
	"xbr/functions/export"
	"xbr/shared/runs"
	"xbr/shared/testsupport"
)

func overlapJob(policy string) string {
	return fmt.Sprintf(`  - name: nightly
    pools: [lab]
    remotes: [local]
    on_overlap: %s
    schedules: [{name: daily, cron: "0 2 * * *", retention: 3}]
`, policy)
}

// holdLock starts a run r0 of one VM that no worker will ever finish.
func holdLock(t *testing.T, e *env) events.ExportRequested {
	t.Helper()
	return startRun(t, e, "nightly", "r0")
}

func TestOverlapSkipped(t *testing.T) {
	e := newEnv(t, 1, overlapJob("skip"), false)
	holdLock(t, e)
	e.start()
	run := e.fire("nightly", "daily", fireAt)
	done := e.runCompleted(run)
	if done.Status != events.StatusSkipped || done.Reason != "already running (run r0)" {
		t.Fatalf("run.completed: %+v", done)
	}
	if n := e.sim.Requests()["/export"]; n != 0 {
		t.Errorf("%d exports during a skipped run", n)
	}
}

func TestOverlapQueued(t *testing.T) {
	e := newEnv(t, 1, overlapJob("queue"), false)
	r0 := holdLock(t, e)
	e.start()
	run := e.fire("nightly", "daily", fireAt)
	ctx := context.Background()
	// Wait until the planner has turned the fire down at least once.
	testsupport.Eventually(t, 30*e2eScale, "the queued fire to be redelivered", func() bool {
		c, err := e.conn.JetStream().Consumer(ctx, events.DefaultEventsStream, export.PlannerDurable)
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		return err == nil && info.NumRedelivered > 0
	})
	if _, err := e.coord.Get(ctx, run); !errors.Is(err, runs.ErrNotFound) {
		t.Fatalf("the queued run was recorded while r0 runs: %v", err)
	}
	if _, err := e.coord.Finish(ctx, "r0", events.VMResult{VMUUID: r0.VMUUID, Status: events.StatusSuccess}); err != nil {
		t.Fatal(err)
	}
	if done := e.runCompleted(run); done.Status != events.StatusSuccess {
		t.Fatalf("queued run: %+v", done)
	}
	if bs := list(t, e.remotes["local"]); len(bs) != 1 {
		t.Fatalf("%d backups after the queued run, want 1", len(bs))
	}
}

// TestFireOfADisabledScheduleIsSkipped: a fire still waiting in the stream
// (queued behind a run, or stored while the functions were down) when its
// schedule is disabled does not run: "a disabled schedule never fires".
func TestFireOfADisabledScheduleIsSkipped(t *testing.T) {
	e := newEnv(t, 1, `  - name: nightly
    pools: [lab]
    remotes: [local]
    schedules: [{name: daily, cron: "0 2 * * *", retention: 3, enabled: false}]
`, false)
	e.start()
	run := e.fire("nightly", "daily", fireAt)
	done := e.runCompleted(run)
	if done.Status != events.StatusSkipped || !strings.Contains(done.Reason, "disabled") {
		t.Fatalf("run.completed of a disabled schedule's fire: %+v, want skipped, saying it is disabled", done)
	}
	if n := e.sim.Requests()["/export"]; n != 0 {
		t.Errorf("%d exports for a disabled schedule's fire", n)
	}
}
