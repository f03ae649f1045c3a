package healthcheck

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/xapi"
)

// Tags of Xen Orchestra a health check reads on the source VM.
const (
	// TagNoHealthCheck opts a VM out ("xo:no-health-check=<reason>" too).
	TagNoHealthCheck = "xo:no-health-check"
	// TagXenStore asks for the guest script's verdict in XenStore.
	TagXenStore = "xo-backup-health-check-xenstore"
)

// Pools hands out logged-in XAPI clients; *fn.Pools is one.
type Pools interface {
	Names() []string
	Client(ctx context.Context, pool string) (*xapi.Client, error)
}

// Jobs finds a job by name; *config.Config is one.
type Jobs interface {
	Job(name string) (config.Job, bool)
}

// TriggerOptions are the trigger's knobs; zero values mean the defaults.
type TriggerOptions struct {
	Now func() time.Time // [time.Now]
	Log *slog.Logger     // [discard]
}

// Trigger turns a completed backup or replication into a health check
// request, when its job and schedule ask for one and the VM qualifies.
type Trigger struct {
	jobs     Jobs
	pools    Pools
	subjects events.Subjects
	opts     TriggerOptions
}

// NewTrigger returns the trigger handler.
func NewTrigger(jobs Jobs, pools Pools, s events.Subjects, o TriggerOptions) *Trigger {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Trigger{jobs: jobs, pools: pools, subjects: s, opts: o}
}

// done is what a completed backup or replication says about the check.
type done struct {
	runID, job, schedule, vmUUID, vmName, pool string
	backupID, copyUUID, checkPool              string
}

// Handle returns one xbr.healthcheck.requested, or nothing.
func (t *Trigger) Handle(ctx context.Context, ev bus.Event) ([]bus.Out, error) {
	d, ok := completion(ev.Received.Payload)
	if !ok {
		return nil, bus.Permanent(fmt.Errorf("health check trigger: unexpected event type %s", ev.Received.Type()))
	}
	job, ok := t.jobs.Job(d.job)
	if !ok {
		return nil, nil // a job removed since: nothing asks for a check
	}
	hc := job.HealthCheckFor(d.schedule)
	if hc == nil {
		return nil, nil
	}
	tags, err := t.vmTags(ctx, d.pool, d.vmUUID)
	if err != nil {
		return nil, fmt.Errorf("health check of %s: read the VM's tags: %w", d.vmUUID, err)
	}
	if why := skip(tags, hc.Tags); why != "" {
		t.opts.Log.Info("health check skipped", "vm_uuid", d.vmUUID, "job", d.job, "why", why)
		return nil, nil
	}
	req := Request(d, hc, tags)
	msg, err := t.subjects.Message(events.Meta{ID: events.DeriveID(string(events.TypeHealthCheckRequested), req.RequestID),
		Source: events.Source(Name), Time: t.opts.Now()}, req)
	if err != nil {
		return nil, bus.Permanent(err)
	}
	return []bus.Out{msg}, nil
}

// completion reads the three completions a health check follows.
func completion(p events.Payload) (done, bool) {
	switch e := p.(type) {
	case events.ExportCompleted:
		return done{runID: e.RunID, job: e.Job, schedule: e.Schedule, vmUUID: e.VMUUID, vmName: e.VMName,
			pool: e.Pool, checkPool: e.Pool, backupID: firstBackup(e.Backups)}, len(e.Backups) > 0
	case events.IncrementalCompleted:
		return done{runID: e.RunID, job: e.Job, schedule: e.Schedule, vmUUID: e.VMUUID, vmName: e.VMName,
			pool: e.Pool, checkPool: e.Pool, backupID: firstBackup(e.Backups)}, len(e.Backups) > 0
	case events.ReplicateCompleted:
		return done{runID: e.RunID, job: e.Job, schedule: e.Schedule, vmUUID: e.VMUUID, vmName: e.VMName,
			pool: e.Pool, checkPool: e.TargetPool, copyUUID: e.CopyUUID, backupID: ReplicaID(e.CopyUUID)}, true
	}
	return done{}, false
}

func firstBackup(bs []events.RemoteBackup) string {
	if len(bs) == 0 {
		return ""
	}
	return bs[0].BackupID
}

// ReplicaID is the backup id a health check of a standby copy carries.
func ReplicaID(copyUUID string) string { return "replica:" + copyUUID }

// RequestID is the health check id of a backup checked after it was made:
// derived, so a redelivered completion asks for the same check.
func RequestID(backupID string) string { return events.NewHealthCheckID("healthcheck", backupID) }

// Request is the work item for d under hc; tags are the source VM's.
func Request(d done, hc *config.HealthCheck, tags []string) events.HealthCheckRequested {
	method := events.HealthMethodGuestMetrics
	if slices.Contains(tags, TagXenStore) {
		method = events.HealthMethodXenStore
	}
	return events.HealthCheckRequested{RequestID: RequestID(d.backupID), BackupID: d.backupID, CopyUUID: d.copyUUID,
		RunID: d.runID, Job: d.job, Schedule: d.schedule, VMUUID: d.vmUUID, VMName: d.vmName, Pool: d.checkPool,
		SR: hc.SR, Method: method, TimeoutMS: hc.Timeout.Milliseconds()}
}

// skip says why a VM with tags is not checked ("" when it is): it opted
// out, or it carries none of the wanted tags.
func skip(tags, want []string) string {
	for _, t := range tags {
		if t == TagNoHealthCheck || strings.HasPrefix(t, TagNoHealthCheck+"=") {
			return fmt.Sprintf("tagged %q", t)
		}
	}
	if len(want) == 0 {
		return ""
	}
	for _, w := range want {
		if slices.Contains(tags, w) {
			return ""
		}
	}
	return fmt.Sprintf("carries none of the tags %v", want)
}

// vmTags reads the source VM's tags; a VM gone since has none.
func (t *Trigger) vmTags(ctx context.Context, pool, uuid string) ([]string, error) {
	c, err := t.pools.Client(ctx, pool)
	if err != nil {
		return nil, err
	}
	ref, err := c.VMByUUID(ctx, uuid)
	if xapi.IsCode(err, codeUUIDInvalid) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rec, err := c.VMRecord(ctx, ref)
	if err != nil {
		return nil, err
	}
	return rec.Tags, nil
}

// codeUUIDInvalid is XAPI's answer to get_by_uuid of a missing object.
const codeUUIDInvalid = "UUID_INVALID"
