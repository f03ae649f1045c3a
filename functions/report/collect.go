package report

import (
	"context"
	"errors"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/history"
)

// Bounds of the wait for a run's health checks (see Reporter).
const (
	// DefaultHealthGrace is added to the health check's timeout: the time
	// to import the backup as a test VM before the boot, and to destroy it.
	DefaultHealthGrace = 5 * time.Minute
	// DefaultHealthSettle is how long after the run ended a VM that got no
	// health check request is taken for one that is not checked (its tags
	// do not qualify): the trigger asks within moments of the backup.
	DefaultHealthSettle = 15 * time.Second
	// startSlack reads the stream from a little before the run's start.
	startSlack = time.Minute
	// pollEvery is how often the wait looks at the clock with no event.
	pollEvery = time.Second
)

// collection is what collect gathered of one run.
type collection struct {
	proj   *history.Projection
	runID  string
	checks map[string]bool // health check request ids of the run
}

func (c *collection) apply(r events.Received) {
	run := r.Event.Extensions()[events.ExtensionRun]
	switch p := r.Payload.(type) {
	case events.HealthCheckRequested:
		if p.RunID != c.runID {
			return
		}
		c.checks[p.RequestID] = true
	case events.HealthCheckStarted, events.HealthCheckCompleted, events.HealthCheckFailed:
		if id, _ := run.(string); !c.checks[id] {
			return
		}
	default:
		if id, _ := run.(string); id != c.runID {
			return
		}
	}
	c.proj.Apply(r)
}

func (c *collection) run() history.Run {
	r, _ := c.proj.Run(c.runID)
	return r
}

// collect is the run as `xbr history` shows it: its events read back from
// the stream, from the run's start to its run.completed. When the job
// health-checks this schedule's backups, it goes on reading until every
// backed-up VM's check has ended, or the checks stop moving for the
// check's timeout plus HealthGrace: one report per run, with its checks.
// Without a stream (or when reading fails) it is the run.completed alone.
//
// read reports whether the run's events were read up to its end and the
// health checks waited for; when not, their outcome is unknown.
func (rp *Reporter) collect(ctx context.Context, ev bus.Event, p events.RunCompleted, job config.Job) (run history.Run, read bool) {
	c := &collection{proj: history.New(history.Options{Now: rp.now}), runID: p.RunID, checks: map[string]bool{}}
	if rp.Conn == nil {
		c.apply(ev.Received)
		return c.run(), false
	}
	end := ev.Received.Event.Time()
	start := end.Add(-time.Duration(p.DurationMS)*time.Millisecond - startSlack)
	w, err := rp.Conn.Watch(ctx, bus.WatchOptions{Stream: ev.Delivery.Stream, StartTime: start})
	if err != nil {
		rp.log().Warn("run report without the run's events", "run", p.RunID, "err", err)
		c.apply(ev.Received)
		return c.run(), false
	}
	defer w.Close()
	hc := job.HealthCheckFor(p.Schedule)
	caughtUp, moved := false, rp.now()
	for ctx.Err() == nil {
		nctx, cancel := context.WithTimeout(ctx, pollEvery)
		rec, err := w.Next(nctx)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err == nil && rec.Err == nil {
			c.apply(rec.Event)
			caughtUp = caughtUp || rec.Seq >= ev.Delivery.StreamSeq || ev.Delivery.StreamSeq == 0
			if _, isHC := c.checks[runOf(rec.Event)]; isHC {
				moved = rp.now()
			}
		}
		if caughtUp && rp.checksDone(c.run(), p, hc, end, moved) {
			read = true
			break
		}
	}
	if !caughtUp { // the stream could not be read up to the run's end
		c.apply(ev.Received)
	}
	return c.run(), read
}

func runOf(r events.Received) string {
	id, _ := r.Event.Extensions()[events.ExtensionRun].(string)
	return id
}

// checksDone: no health check to wait for, every backed-up VM's check has
// ended, or waiting longer is pointless (the settle time passed with every
// requested check ended, or the checks stopped moving).
func (rp *Reporter) checksDone(run history.Run, p events.RunCompleted, hc *config.HealthCheck, end, moved time.Time) bool {
	if hc == nil {
		return true
	}
	now := rp.now()
	if now.After(moved.Add(hc.Timeout + rp.healthGrace())) {
		return true
	}
	waiting := 0
	for _, vm := range run.Tasks {
		if !backedUp(p, vm.VMUUID) {
			continue
		}
		check := healthTask(vm)
		switch {
		case check == nil:
			waiting++
		case check.End.IsZero():
			return false
		}
	}
	return waiting == 0 || now.After(end.Add(rp.healthSettle()))
}

func backedUp(p events.RunCompleted, vm string) bool {
	for _, r := range p.Results {
		if r.VMUUID == vm && r.Status == events.StatusSuccess {
			return true
		}
	}
	return false
}

// healthTask is the health check under a VM's task, or nil.
func healthTask(vm *history.Task) *history.Task {
	for _, t := range vm.Tasks {
		if t.Message == history.KindHealthCheck {
			return t
		}
	}
	return nil
}

// Health check outcomes in a report.
const (
	healthPassed     = "passed"
	healthFailed     = "failed"
	healthUnfinished = "unfinished" // still running when the wait ended
)

// healthOutcomes counts the run's health checks by outcome.
func healthOutcomes(run history.Run) map[string]int {
	out := map[string]int{}
	for _, vm := range run.Tasks {
		t := healthTask(vm)
		switch {
		case t == nil:
		case t.End.IsZero():
			out[healthUnfinished]++
		case t.Status == history.StatusSuccess:
			out[healthPassed]++
		default:
			out[healthFailed]++
		}
	}
	return out
}

func (rp *Reporter) healthGrace() time.Duration {
	if rp.HealthGrace <= 0 {
		return DefaultHealthGrace
	}
	return rp.HealthGrace
}

func (rp *Reporter) healthSettle() time.Duration {
	if rp.HealthSettle <= 0 {
		return DefaultHealthSettle
	}
	return rp.HealthSettle
}
