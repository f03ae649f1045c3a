package replicate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/xapi"
)

// FailoverDurable is the durable consumer of xbr.failover.requested.
const FailoverDurable = "replicate-failover"

// FailoverConsumer is the failover handler's consumer configuration. A
// failover is carried out once per delivery and never retried by the
// consumer: every error becomes xbr.failover.failed, and the operator asks
// again.
func FailoverConsumer(s events.Subjects, stream string) bus.ConsumerConfig {
	return bus.ConsumerConfig{Function: Name, Durable: FailoverDurable, Stream: stream,
		Subjects: []string{s.Filter(events.TypeFailoverRequested)}, DLQ: s, AckWait: time.Minute, MaxDeliver: 3}
}

// NewFailoverHandler handles xbr.failover.requested: it picks the copy,
// checks the source VM (see checkSource) and the other copies of it (see
// splitBrain), unblocks start on the copy and,
// when asked, boots it; it returns xbr.failover.completed or
// xbr.failover.failed. Both outcomes of a request share one derived event
// id, so a redelivered request never records a second, different outcome.
func NewFailoverHandler(d Deps) bus.Handler {
	d = d.withDefaults()
	return bus.HandlerFunc(func(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
		req, ok := ev.Payload.(events.FailoverRequested)
		if !ok {
			return nil, bus.Permanent(fmt.Errorf("failover: unexpected %s", ev.Type()))
		}
		out, err := d.failover(ctx, req)
		if err != nil {
			return nil, err
		}
		return []bus.Out{out}, nil
	})
}

func (d Deps) failover(ctx context.Context, req events.FailoverRequested) (bus.Out, error) {
	failed := events.FailoverFailed{RequestID: req.RequestID, VM: req.VM, RequestedBy: req.RequestedBy}
	cp, copies, err := d.chooseFor(ctx, req)
	if err != nil {
		failed.Error = events.Reason(err)
		return d.outcome(req, failed)
	}
	failed.CopyUUID, failed.Pool = cp.UUID, cp.Pool
	src := d.checkSource(ctx, cp)
	running := splitBrain(src, cp, copies)
	if len(running) > 0 && !req.Force {
		failed.Refused, failed.Source, failed.SourcePool = true, src.State, src.Pool
		failed.Error = running[0] + "; stop it or use --force"
		d.Log.Warn("failover refused", "request_id", req.RequestID, "vm", req.VM, "source_pool", src.Pool, "reason", running[0], "requested_by", req.RequestedBy)
		return d.outcome(req, failed)
	}
	res, err := d.failoverCopy(ctx, cp, req.Start)
	if err != nil {
		failed.Error = events.Reason(err)
		return d.outcome(req, failed)
	}
	done := completedOf(req, res, src, running)
	d.Log.Info("failover", "request_id", req.RequestID, "vm", req.VM, "copy_uuid", res.Copy.UUID, "pool", res.Copy.Pool,
		"started", res.Started, "source", src.State, "forced", done.Forced, "requested_by", req.RequestedBy)
	return d.outcome(req, done)
}

// splitBrain says what already runs of cp's VM, each as "<what> is ...
// running on pool <pool>": the source VM (src), then any other copy of it
// among copies, such as one an earlier failover started. Failing cp over
// beside one of them would run the VM twice.
func splitBrain(src sourceState, cp Copy, copies []Copy) []string {
	var out []string
	if src.State == events.SourceRunning {
		out = append(out, fmt.Sprintf("source VM %s is still running on pool %s", src.Name, src.Pool))
	}
	for _, c := range copies {
		live := c.PowerState == string(xapi.Running) || c.PowerState == string(xapi.Paused)
		if live && c.VMUUID == cp.VMUUID && c.UUID != cp.UUID {
			out = append(out, fmt.Sprintf("copy %s (%s) of VM %s is already running on pool %s", c.Name, c.UUID, src.Name, c.Pool))
		}
	}
	return out
}

// chooseFor is the copy req names among the copies on its standby pools,
// and all those copies. A pool that does not answer (within
// poolListTimeout) is left out (a lost site may be the target of the other
// site's job); chooseFor fails when no
// pool answers, and a copy not found names the pools not read.
func (d Deps) chooseFor(ctx context.Context, req events.FailoverRequested) (Copy, []Copy, error) {
	sel, err := ParseSelector(req.Copy)
	if err != nil {
		return Copy{}, nil, err
	}
	names, err := TargetPools(d.Config, req.Pool)
	if err != nil {
		return Copy{}, nil, err
	}
	var all []Copy
	var down []error
	for i, r := range readPools(ctx, d.Pools, names) {
		if r.err != nil { // a lost site may be another job's target: the copy is on the pools that answer
			d.Log.Warn("failover: a target pool's copies cannot be read", "request_id", req.RequestID, "pool", names[i], "err", r.err)
			down = append(down, r.err)
			continue
		}
		all = append(all, r.copies...)
	}
	if len(down) == len(names) {
		return Copy{}, nil, errors.Join(down...)
	}
	cp, err := Choose(all, req.VM, sel)
	if err != nil && len(down) > 0 {
		err = fmt.Errorf("%w (not read, since it does not answer: %w)", err, errors.Join(down...))
	}
	return cp, all, err
}

func (d Deps) failoverCopy(ctx context.Context, cp Copy, start bool) (FailoverResult, error) {
	c, err := d.Pools.Client(ctx, cp.Pool)
	if err != nil {
		return FailoverResult{}, err
	}
	return FailoverCopy(ctx, c, cp, start)
}

// completedOf is the completed event of req; running is what a forced
// failover went ahead beside (splitBrain).
func completedOf(req events.FailoverRequested, res FailoverResult, src sourceState, running []string) events.FailoverCompleted {
	c := res.Copy
	done := events.FailoverCompleted{RequestID: req.RequestID, VM: req.VM, VMUUID: c.VMUUID, CopyUUID: c.UUID,
		CopyName: c.Name, Pool: c.Pool, Job: c.Job, RecoveryPoint: c.Datetime.UTC().Format("20060102T150405Z"),
		Unblocked: res.Unblocked, Started: res.Started, PowerState: res.PowerState, Source: src.State,
		SourcePool: src.Pool, Forced: req.Force, RequestedBy: req.RequestedBy, Note: src.Note}
	if len(running) > 0 {
		done.Note = "forced: " + strings.Join(running, "; ")
		if src.Note != "" {
			done.Note = src.Note + "; " + done.Note
		}
	}
	return done
}

// outcome is the completed or failed event of req, with the id both share.
func (d Deps) outcome(req events.FailoverRequested, p events.Payload) (bus.Out, error) {
	return d.message(events.DeriveID("failover.outcome", req.RequestID), d.Now(), p)
}
