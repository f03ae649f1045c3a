package runs

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
)

// Defaults of Options.
const (
	DefaultBucket     = "xbr_runs"
	DefaultStaleAfter = 30 * time.Minute
	DefaultMaxAge     = 90 * 24 * time.Hour
	casAttempts       = 100
)

// Options tune a Coordinator; zero values mean the defaults.
type Options struct {
	Bucket     string           // KV bucket [DefaultBucket]
	StaleAfter time.Duration    // a lock not renewed for this long may be taken over [DefaultStaleAfter]
	MaxAge     time.Duration    // how long run records are kept [DefaultMaxAge]
	Replicas   int              // bucket replicas [1]
	Now        func() time.Time // [time.Now]
}

// Coordinator records runs and job locks in a KV bucket. It is safe for
// concurrent use, in one process and across processes.
type Coordinator struct {
	kv         jetstream.KeyValue
	now        func() time.Time
	staleAfter time.Duration
	decoded    *decodedRuns
}

// New opens (creating or updating) the bucket of o on conn.
func New(ctx context.Context, conn *bus.Conn, o Options) (*Coordinator, error) {
	if o.Bucket == "" {
		o.Bucket = DefaultBucket
	}
	if o.StaleAfter <= 0 {
		o.StaleAfter = DefaultStaleAfter
	}
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	kv, err := conn.EnsureKV(ctx, jetstream.KeyValueConfig{Bucket: o.Bucket, History: 1, TTL: o.MaxAge,
		Replicas: max(o.Replicas, 1), Description: "xbr runs: job locks and run state"})
	if err != nil {
		return nil, fmt.Errorf("runs bucket %s: %w", o.Bucket, err)
	}
	return &Coordinator{kv: kv, now: o.Now, staleAfter: o.StaleAfter, decoded: &decodedRuns{}}, nil
}

// Get returns the recorded run (ErrNotFound when there is none).
func (c *Coordinator) Get(ctx context.Context, runID string) (Run, error) {
	r, _, err := c.load(ctx, runID)
	return r, err
}

// Start records the run of a fire admitted with the lock held: the first
// concurrency VMs (0 = all) are active, the others queued, and VMs given
// with a Result are done at once. A run with nothing left to do ends at
// once ("no VM selected" when vms is empty) and releases the lock. If the
// run is already recorded (a redelivered fire) the recorded run is returned.
func (c *Coordinator) Start(ctx context.Context, f Fire, concurrency int, vms []VM) (Run, error) {
	r := newRun(f, concurrency, vms, c.now())
	return c.create(ctx, r)
}

// End records a fire that ends without running (planning failed, for
// example) with status and reason, and releases the lock.
func (c *Coordinator) End(ctx context.Context, f Fire, status, reason string) (Run, error) {
	now := c.now()
	r := Run{ID: f.RunID, Job: f.Job, Schedule: f.Schedule, Mode: f.Mode, FireTime: f.FireTime,
		StartedAt: now, EndedAt: now, State: StateDone, Status: status, Reason: reason}
	return c.create(ctx, r)
}

func (c *Coordinator) create(ctx context.Context, r Run) (Run, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return Run{}, fmt.Errorf("encode run %s: %w", r.ID, err)
	}
	if _, err := c.kv.Create(ctx, runKey(r.ID), data); err != nil {
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

// Step is what a Finish changed, or, for a repeated Finish, what the first
// one changed: the VMs it made active and whether the run is done.
type Step struct {
	Run      Run
	Released []VM // VMs made active by this VM's end: publish their requests
	Done     bool // the run has ended: publish its run.completed
	// Late: the run had already ended (interrupted) when this result came;
	// it was not recorded.
	Late bool
}

// Finish records a VM's result, activates the next queued VM and, when it
// was the last one, ends the run and releases the job's lock. Finish is
// idempotent: repeating it returns the same Step.
func (c *Coordinator) Finish(ctx context.Context, runID string, res events.VMResult) (Step, error) {
	var late bool
	r, err := c.update(ctx, runID, func(r *Run) (bool, error) {
		if v, ok := r.VM(res.VMUUID); ok && r.Done() && v.State != VMDone {
			late = true
		}
		return r.finish(res, c.now())
	})
	if err != nil {
		return Step{}, err
	}
	if late {
		return Step{Run: r, Late: true}, nil
	}
	if r.Done() {
		err = c.release(ctx, r.Job, r.ID)
	} else {
		err = c.renew(ctx, r.Job, r.ID)
	}
	return Step{Run: r, Released: r.ReleasedBy(res.VMUUID), Done: r.Done()}, err
}

// RecordAttempt notes that an attempt on VM vmUUID writes the backup stamped
// timestamp, so a later attempt can remove what it left. It renews the lock.
func (c *Coordinator) RecordAttempt(ctx context.Context, runID, vmUUID, timestamp string) (Run, error) {
	r, err := c.update(ctx, runID, func(r *Run) (bool, error) {
		i := r.index(vmUUID)
		if i < 0 {
			return false, fmt.Errorf("run %s has no VM %s", runID, vmUUID)
		}
		for _, ts := range r.VMs[i].Attempts {
			if ts == timestamp {
				return false, nil
			}
		}
		r.VMs[i].Attempts = append(r.VMs[i].Attempts, timestamp)
		return true, nil
	})
	if err != nil {
		return Run{}, err
	}
	return r, c.renew(ctx, r.Job, r.ID)
}

// update applies change to the run with compare-and-set, retrying on
// conflict; change reports whether it changed anything.
func (c *Coordinator) update(ctx context.Context, runID string, change func(*Run) (bool, error)) (Run, error) {
	for range casAttempts {
		r, rev, err := c.load(ctx, runID)
		if err != nil {
			return Run{}, err
		}
		changed, err := change(&r)
		if err != nil || !changed {
			return r, err
		}
		data, err := json.Marshal(r)
		if err != nil {
			return Run{}, fmt.Errorf("encode run %s: %w", runID, err)
		}
		next, err := c.kv.Update(ctx, runKey(runID), data, rev)
		if err == nil {
			c.decoded.put(next, r)
			return r, nil
		}
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return Run{}, fmt.Errorf("update run %s: %w", runID, err)
		}
	}
	return Run{}, fmt.Errorf("update run %s: still conflicting after %d attempts", runID, casAttempts)
}

func (c *Coordinator) load(ctx context.Context, runID string) (Run, uint64, error) {
	e, err := c.kv.Get(ctx, runKey(runID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Run{}, 0, fmt.Errorf("run %s: %w", runID, ErrNotFound)
	}
	if err != nil {
		return Run{}, 0, fmt.Errorf("read run %s: %w", runID, err)
	}
	if r, ok := c.decoded.get(runID, e.Revision()); ok {
		return r, e.Revision(), nil
	}
	var r Run
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return Run{}, 0, fmt.Errorf("decode run %s: %w", runID, err)
	}
	c.decoded.put(e.Revision(), r)
	return r, e.Revision(), nil
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

func runKey(id string) string   { return "run." + keyToken(id) }
func lockKey(job string) string { return "lock." + keyToken(job) }
