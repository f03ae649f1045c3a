package runs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
)

// PlanAttempts is how many deliveries of a fire may fail to resolve its VMs
// before the run is recorded failed.
const PlanAttempts = 5

// Flow is a run-shaped function's declaration (one work request per VM of
// a run, one result per VM): what is specific to it — its topics, how it
// selects the VMs, what a VM's work request is, how a VM's end reads and
// how a VM that could not be done is reported. The skeleton (Planner,
// Runner, Worker, Consumers) is the rest; see the package doc.
type Flow struct {
	Runs     *Coordinator
	Config   *config.Config
	Subjects events.Subjects
	// Topics name the function (its durables and DLQ), the mode of the
	// jobs it plans (its planner reads their fires only), its work request
	// and the events that end a VM's work. A flow without Ends records a
	// VM's result in its worker and has no runner.
	Topics Topics
	// Work names a VM's work in logs ("export", "replication").
	Work string
	Log  *slog.Logger
	// Message builds an outgoing event with the function's source.
	Message func(id string, p events.Payload) (bus.Out, error)
	// Resolve selects the VMs of a run of job; VMs that cannot be done come
	// with their Result.
	Resolve func(ctx context.Context, job config.Job) ([]VM, error)
	// Request is the work request of vm, one of run r's VMs, with a derived id.
	Request func(job config.Job, r Run, vm VM) (bus.Out, error)
	// Result reads a VM's end (its completed or failed event): its result
	// and its run's id. Only a flow with a runner (Topics.Ends) has one.
	Result func(ev bus.Event) (events.VMResult, string, error)
	// Failed reports the VM of work request ev as failed with err, the
	// error of the request's last delivery (see Worker).
	Failed func(ctx context.Context, ev bus.Event, err error) ([]bus.Out, error)
}

// Completed is the run.completed of a finished run, with a derived id.
func (f Flow) Completed(r Run) (bus.Out, error) {
	return f.Message(events.DeriveID("run.completed", r.ID), r.CompletedEvent())
}

// Announce returns what a recorded run says to publish: run.started and
// the requests of its first VMs while it runs, run.completed once it is
// done. Ids are derived, so announcing again publishes nothing new.
func (f Flow) Announce(job config.Job, r Run) ([]bus.Out, error) {
	var outs []bus.Out
	if len(r.VMs) > 0 {
		o, err := f.Message(events.DeriveID("run.started", r.ID), r.StartedEvent())
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	for _, vm := range r.Initial() {
		if vm.State != VMActive {
			continue
		}
		o, err := f.Request(job, r, vm)
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	if r.Done() {
		o, err := f.Completed(r)
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	return outs, nil
}

// Runner advances runs as their VMs end: it handles a flow's completed and
// failed events.
type Runner struct{ f Flow }

// NewRunner returns the runner handler of f.
func NewRunner(f Flow) *Runner { return &Runner{f: f} }

// Handle records one VM's end and returns the next VM's request and, after
// the last VM, run.completed. A run whose job is no longer configured
// (renamed or removed, and the process restarted) is aborted with that
// reason and its run.completed returned, since no next VM can be
// requested. When that fails on the event's last delivery the run is
// aborted as a failure (GiveUp), so it never waits for ever.
func (h *Runner) Handle(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
	res, runID, err := h.f.Result(ev)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	outs, err := h.advance(ctx, runID, res)
	if !GivesUpRun(ctx, ev.Delivery, err) {
		return outs, err
	}
	h.f.Log.Error("run given up on the last delivery of a VM's end", "run", runID, "vm_uuid", res.VMUUID, "error", err)
	return GiveUpRun(ctx, h.f.Runs, h.f.Message, runID, ev.Delivery, err)
}

func (h *Runner) advance(ctx context.Context, runID string, res events.VMResult) ([]bus.Out, error) {
	step, err := h.f.Runs.Finish(ctx, runID, res)
	if errors.Is(err, ErrNotFound) {
		h.f.Log.Info(h.f.Work+" of no recorded run; nothing to advance", "run", runID, "vm_uuid", res.VMUUID)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if step.Late {
		h.f.Log.Warn("result after the run ended; ignored", "run", runID, "vm_uuid", res.VMUUID, "status", step.Run.Status)
		return nil, nil
	}
	job, ok := h.f.Config.Job(step.Run.Job)
	if !ok {
		return h.orphaned(ctx, step)
	}
	var outs []bus.Out
	for _, vm := range step.Released {
		o, err := h.f.Request(job, step.Run, vm)
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	if step.Done {
		o, err := h.f.Completed(step.Run)
		if err != nil {
			return nil, err
		}
		outs = append(outs, o)
	}
	return outs, nil
}

// orphaned ends the run of step, whose job is no longer configured (renamed
// or removed while it ran): no further VM can be requested, so a run that
// this VM's end did not end is aborted. Either way its run.completed is
// returned; a repeated end returns it again.
func (h *Runner) orphaned(ctx context.Context, step Step) ([]bus.Out, error) {
	r := step.Run
	if !step.Done {
		reason := fmt.Sprintf("job %s is no longer configured", r.Job)
		h.f.Log.Warn("run of a job no longer configured; aborted", "run", r.ID, "job", r.Job)
		var err error
		if r, err = h.f.Runs.Abort(ctx, r.ID, reason); err != nil {
			return nil, err
		}
	}
	o, err := h.f.Completed(r)
	if err != nil {
		return nil, err
	}
	return []bus.Out{o}, nil
}
