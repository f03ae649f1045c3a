package runs

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
)

// Defaults of Options.
const (
	DefaultBucket     = events.BucketRuns
	DefaultStaleAfter = 30 * time.Minute
	// DefaultMaxAge is how long run records are kept (the bucket's TTL,
	// which bus.Topology.KVConfigs sets).
	DefaultMaxAge = bus.RunsMaxAge
	casAttempts   = 100
	// RenewEvery is how often a worker that streams renews its run's lock
	// (Touch): far inside DefaultStaleAfter, and slower than progress
	// events, so that a run's VMs do not contend for the lock's revision.
	RenewEvery = 5 * time.Second
)

// Options tune a Coordinator; zero values mean the defaults.
type Options struct {
	StaleAfter time.Duration // a lock not renewed for this long may be taken over [DefaultStaleAfter]
	// Replicas of the bucket if it must be created here [1]; with
	// identities, the admin creates it (bus.Conn.EnsureStreams).
	Replicas int
	Now      func() time.Time // [time.Now]
}

// Coordinator records runs and job locks in a KV bucket. It is safe for
// concurrent use, in one process and across processes.
type Coordinator struct {
	kv         jetstream.KeyValue
	now        func() time.Time
	staleAfter time.Duration
	plans      *plans
}

// New opens the bucket DefaultBucket on conn (creating it if missing and
// conn may).
func New(ctx context.Context, conn *bus.Conn, o Options) (*Coordinator, error) {
	if o.StaleAfter <= 0 {
		o.StaleAfter = DefaultStaleAfter
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	kv, err := conn.EnsureKV(ctx, bus.Topology{Replicas: o.Replicas}.KVConfig(DefaultBucket))
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	return &Coordinator{kv: kv, now: o.Now, staleAfter: o.StaleAfter, plans: &plans{}}, nil
}

// Get returns the recorded run with every VM (ErrNotFound when there is
// none). It reads each VM's record: a VM's worker reads its own with GetVM.
func (c *Coordinator) Get(ctx context.Context, runID string) (Run, error) {
	h, _, err := c.header(ctx, runID)
	if err != nil {
		return Run{}, err
	}
	return c.full(ctx, h)
}

// GetVM returns the recorded run (ErrNotFound when there is none) with only
// VM vmUUID in its VMs, or none when the run has no such VM. Its cost does
// not depend on the number of VMs of the run.
func (c *Coordinator) GetVM(ctx context.Context, runID, vmUUID string) (Run, error) {
	h, _, err := c.header(ctx, runID)
	if err != nil {
		return Run{}, err
	}
	return c.viewVM(ctx, h, vmUUID)
}

// viewVM is the run of h with VM vmUUID alone.
func (c *Coordinator) viewVM(ctx context.Context, h header, vmUUID string) (Run, error) {
	if h.Plan == "" {
		r := h.Run
		v, ok := r.VM(vmUUID)
		r.VMs = nil
		if ok {
			r.VMs = []VM{v}
		}
		return r, nil
	}
	p, err := c.plan(ctx, h)
	if err != nil {
		return Run{}, err
	}
	i, ok := p.index[vmUUID]
	if !ok {
		return h.run(), nil
	}
	rec, _, err := c.record(ctx, h.ID, i)
	if err != nil {
		return Run{}, err
	}
	return h.run(h.vm(p, i, rec)), nil
}

// Start records the run of a fire admitted with the lock held: the first
// concurrency VMs (0 = all) are active, the others queued, and VMs given
// with a Result are done at once. A run with nothing left to do ends at
// once ("no VM selected" when vms is empty) and releases the lock. If the
// run is already recorded (a redelivered fire) the recorded run is returned.
//
// The run is recorded as its plan (its VMs, written once) and its header;
// the header, created last, is what makes the run exist.
func (c *Coordinator) Start(ctx context.Context, f Fire, concurrency int, vms []VM) (Run, error) {
	r := newRun(f, concurrency, vms, c.now())
	h := header{Run: r}
	if !r.Done() {
		key, p, err := c.putPlan(ctx, r)
		if err != nil {
			return Run{}, err
		}
		h.Run.VMs, h.Plan, h.Requested = nil, key, len(p.requests)
		for _, v := range r.VMs {
			switch {
			case v.Planned:
				s, f := tally(v.Result)
				h.Succeeded, h.Failed = h.Succeeded+s, h.Failed+f
			case v.State == VMActive:
				h.Initial++
			}
		}
	}
	return c.create(ctx, h, r)
}

// End records a fire that ends without running (planning failed, for
// example) with status and reason, and releases the lock.
func (c *Coordinator) End(ctx context.Context, f Fire, status, reason string) (Run, error) {
	now := c.now()
	r := Run{ID: f.RunID, Job: f.Job, Schedule: f.Schedule, Mode: f.Mode, FireTime: f.FireTime,
		StartedAt: now, EndedAt: now, State: StateDone, Status: status, Reason: reason}
	return c.create(ctx, header{Run: r}, r)
}

// create records header h of run r, or returns the run recorded before.
// The header keeps the job's lock when r holds it.
func (c *Coordinator) create(ctx context.Context, h header, r Run) (Run, error) {
	l, _, err := c.lock(ctx, r.Job)
	switch {
	case err == nil && l.RunID == r.ID:
		h.Lock = &l
	case err != nil && !errors.Is(err, jetstream.ErrKeyNotFound):
		return Run{}, fmt.Errorf("record run %s: %w", r.ID, err)
	}
	if _, err := c.putHeader(ctx, h, 0); err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return Run{}, fmt.Errorf("record run %s: %w", r.ID, err)
		}
		if r, err = c.Get(ctx, r.ID); err != nil {
			return Run{}, err
		}
	}
	if r.Done() {
		return r, c.release(ctx, r.Job, r.ID)
	}
	return r, c.renew(ctx, r.Job, r.ID)
}

// renew renews the lock after progress; a run that no longer holds it (it
// just ended on another worker) is not an error.
func (c *Coordinator) renew(ctx context.Context, job, runID string) error {
	if err := c.Touch(ctx, job, runID); err != nil && !errors.Is(err, ErrNotHolder) {
		return err
	}
	return nil
}

// RecordAttempt notes that an attempt on VM vmUUID writes the backup stamped
// timestamp, so a later attempt can remove what it left. It renews the lock
// and returns the run as GetVM does.
func (c *Coordinator) RecordAttempt(ctx context.Context, runID, vmUUID, timestamp string) (Run, error) {
	h, _, err := c.header(ctx, runID)
	if err != nil {
		return Run{}, err
	}
	if h.Plan == "" {
		return c.recordAttemptInline(ctx, runID, vmUUID, timestamp)
	}
	p, err := c.plan(ctx, h)
	if err != nil {
		return Run{}, err
	}
	i, ok := p.index[vmUUID]
	if !ok || p.VMs[i].Planned {
		return Run{}, fmt.Errorf("run %s has no VM %s to attempt", runID, vmUUID)
	}
	if err := c.changeRecord(ctx, runID, i, func(rec *vmRecord) bool {
		if slices.Contains(rec.Attempts, timestamp) {
			return false
		}
		rec.Attempts = append(rec.Attempts, timestamp)
		return true
	}); err != nil {
		return Run{}, err
	}
	r, err := c.viewVM(ctx, h, vmUUID)
	if err != nil {
		return Run{}, err
	}
	return r, c.renew(ctx, r.Job, r.ID)
}

// changeRecord applies change to the record of VM i with compare-and-set,
// retrying on conflict; change reports whether it changed anything.
func (c *Coordinator) changeRecord(ctx context.Context, runID string, i int, change func(*vmRecord) bool) error {
	for range casAttempts {
		rec, rev, err := c.record(ctx, runID, i)
		if err != nil {
			return err
		}
		if !change(&rec) {
			return nil
		}
		err = c.putRecord(ctx, runID, i, rec, rev)
		if err == nil || !conflict(err) {
			return err
		}
	}
	return fmt.Errorf("update VM %d of run %s: still conflicting after %d attempts", i, runID, casAttempts)
}

func (c *Coordinator) recordAttemptInline(ctx context.Context, runID, vmUUID, timestamp string) (Run, error) {
	h, err := c.update(ctx, runID, func(r *Run) (bool, error) {
		i := r.index(vmUUID)
		if i < 0 {
			return false, fmt.Errorf("run %s has no VM %s", runID, vmUUID)
		}
		if slices.Contains(r.VMs[i].Attempts, timestamp) {
			return false, nil
		}
		r.VMs[i].Attempts = append(r.VMs[i].Attempts, timestamp)
		return true, nil
	})
	if err != nil {
		return Run{}, err
	}
	r, err := c.viewVM(ctx, h, vmUUID)
	if err != nil {
		return Run{}, err
	}
	return r, c.renew(ctx, r.Job, r.ID)
}

// update applies change to the run of the header with compare-and-set,
// retrying on conflict; change reports whether it changed anything. It
// sees the VMs of a run recorded inline only.
func (c *Coordinator) update(ctx context.Context, runID string, change func(*Run) (bool, error)) (header, error) {
	for range casAttempts {
		h, rev, err := c.header(ctx, runID)
		if err != nil {
			return header{}, err
		}
		changed, err := change(&h.Run)
		if err != nil || !changed {
			return h, err
		}
		_, err = c.putHeader(ctx, h, rev)
		if err == nil {
			return h, nil
		}
		if !conflict(err) {
			return header{}, fmt.Errorf("update run %s: %w", runID, err)
		}
	}
	return header{}, fmt.Errorf("update run %s: still conflicting after %d attempts", runID, casAttempts)
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]{1,200}$`)

// keyToken makes a name usable as one KV key token: itself when it is
// plain, else "=" and its unpadded base64url encoding.
func keyToken(s string) string {
	if plainKey.MatchString(s) {
		return s
	}
	return "=" + base64.RawURLEncoding.EncodeToString([]byte(s))
}

func runKey(id string) string { return "run." + keyToken(id) }

func planKey(id, nonce string) string { return runKey(id) + ".plan." + nonce }

func vmKey(id string, i int) string { return runKey(id) + ".vm." + strconv.Itoa(i) }

func lockKey(job string) string { return "lock." + keyToken(job) }
