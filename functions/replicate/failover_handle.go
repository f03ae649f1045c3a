package replicate

import (
	"context"
	"fmt"
	"time"

	"xbr/events"
	"xbr/shared/bus"
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
// checks the source VM (see checkSource), unblocks start on the copy and,
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
	cp, err := d.chooseFor(ctx, req)
	if err != nil {
		failed.Error = events.Reason(err)
		return d.outcome(req, failed)
	}
	failed.CopyUUID, failed.Pool = cp.UUID, cp.Pool
	src := d.checkSource(ctx, cp)
	if src.State == events.SourceRunning && !req.Force {
		failed.Refused, failed.Source, failed.SourcePool = true, src.State, src.Pool
		failed.Error = fmt.Sprintf("source VM %s is still running on pool %s; stop it or use --force", src.Name, src.Pool)
		d.Log.Warn("failover refused", "request_id", req.RequestID, "vm", req.VM, "source_pool", src.Pool, "requested_by", req.RequestedBy)
		return d.outcome(req, failed)
	}
	res, err := d.failoverCopy(ctx, cp, req.Start)
	if err != nil {
		failed.Error = events.Reason(err)
		return d.outcome(req, failed)
	}
	done := completedOf(req, res, src)
	d.Log.Info("failover", "request_id", req.RequestID, "vm", req.VM, "copy_uuid", res.Copy.UUID, "pool", res.Copy.Pool,
		"started", res.Started, "source", src.State, "forced", done.Forced, "requested_by", req.RequestedBy)
	return d.outcome(req, done)
}

// chooseFor is the copy req names among the copies on its standby pools.
func (d Deps) chooseFor(ctx context.Context, req events.FailoverRequested) (Copy, error) {
	sel, err := ParseSelector(req.Copy)
	if err != nil {
		return Copy{}, err
	}
	names, err := TargetPools(d.Config, req.Pool)
	if err != nil {
		return Copy{}, err
	}
	var all []Copy
	for _, name := range names {
		cs, err := poolCopies(ctx, d.Pools, name)
		if err != nil {
			return Copy{}, err
		}
		all = append(all, cs...)
	}
	return Choose(all, req.VM, sel)
}

func (d Deps) failoverCopy(ctx context.Context, cp Copy, start bool) (FailoverResult, error) {
	c, err := d.Pools.Client(ctx, cp.Pool)
	if err != nil {
		return FailoverResult{}, err
	}
	return FailoverCopy(ctx, c, cp, start)
}

func completedOf(req events.FailoverRequested, res FailoverResult, src sourceState) events.FailoverCompleted {
	c := res.Copy
	done := events.FailoverCompleted{RequestID: req.RequestID, VM: req.VM, VMUUID: c.VMUUID, CopyUUID: c.UUID,
		CopyName: c.Name, Pool: c.Pool, Job: c.Job, RecoveryPoint: c.Datetime.UTC().Format("20060102T150405Z"),
		Unblocked: res.Unblocked, Started: res.Started, PowerState: res.PowerState, Source: src.State,
		SourcePool: src.Pool, Forced: req.Force, RequestedBy: req.RequestedBy, Note: src.Note}
	if src.State == events.SourceRunning {
		done.Note = fmt.Sprintf("forced: source VM %s is still running on pool %s", src.Name, src.Pool)
	}
	return done
}

// outcome is the completed or failed event of req, with the id both share.
func (d Deps) outcome(req events.FailoverRequested, p events.Payload) (bus.Out, error) {
	return d.message(events.DeriveID("failover.outcome", req.RequestID), d.Now(), p)
}
