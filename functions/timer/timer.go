package timer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/schedule"
)

// Name is the function's name.
const Name = "timer"

// StateBucket is the KV bucket holding, per schedule, the time it was last
// evaluated up to.
const StateBucket = events.BucketTimer

// Function is the timer as `xbr serve` runs it.
func Function() fn.Function {
	return fn.Function{Name: Name, Run: run}
}

func run(ctx context.Context, env *fn.Env) error {
	t, err := New(ctx, env.Conn, env.Subjects, env.Config.Jobs, Options{
		CatchUp: env.Config.CatchUp, Log: env.Log, Replicas: env.Config.NATS.StreamReplicas, Now: env.Now,
	})
	if err != nil {
		return err
	}
	return t.Run(ctx, env.Now, time.Second)
}

// Options are the timer's knobs; zero values mean defaults.
type Options struct {
	CatchUp time.Duration // [config.DefaultCatchUp]
	Log     *slog.Logger
	// Replicas of the state bucket if it must be created here, as
	// nats.stream_replicas [1]; with identities, the admin creates it
	// (bus.Conn.EnsureStreams).
	Replicas int
	// Now is the clock New reads the schedules' state against [time.Now].
	Now func() time.Time
}

// Timer publishes the fires of a set of jobs' schedules.
type Timer struct {
	conn     *bus.Conn
	kv       jetstream.KeyValue
	subjects events.Subjects
	entries  []entry
	catchUp  time.Duration
	log      *slog.Logger
	// forgotAt is when forget last ran: at start, then every forgetAfter
	// from Tick, so that a schedule's state its last replica left (a
	// restart with the schedule renamed) goes once it has gone stale.
	forgotAt time.Time
}

type entry struct {
	job, schedule, mode string
	sched               schedule.Schedule
}

// New prepares a timer for jobs, creating its state bucket if needed.
func New(ctx context.Context, conn *bus.Conn, subjects events.Subjects, jobs []config.Job, o Options) (*Timer, error) {
	if o.CatchUp <= 0 {
		o.CatchUp = config.DefaultCatchUp
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	kv, err := conn.EnsureKV(ctx, bus.Topology{Replicas: o.Replicas}.KVConfig(StateBucket))
	if err != nil {
		return nil, err
	}
	t := &Timer{conn: conn, kv: kv, subjects: subjects, catchUp: o.CatchUp, log: o.Log}
	for _, j := range jobs {
		for _, s := range j.Schedules {
			t.entries = append(t.entries, entry{job: j.Name, schedule: s.Name, mode: j.Mode,
				sched: schedule.Schedule{Cron: s.Spec, Location: s.Location, Enabled: s.Enabled}})
		}
	}
	t.forgetStale(ctx, o.Now())
	return t, nil
}

// forgetStale runs forget, logging its failure (the next run tries again).
func (t *Timer) forgetStale(ctx context.Context, now time.Time) {
	t.forgotAt = now
	if err := t.forget(ctx, now); err != nil {
		t.log.Warn("timer state of removed schedules not deleted", bus.KeyFunction, Name, "err", err)
	}
}

// forgetAfter is how long a schedule's state must have gone without a tick
// before a timer that does not know the schedule deletes it: a replica on
// another configuration (a rollout in progress) still ticks it every second.
const forgetAfter = time.Minute

// forget deletes the state of the schedules no longer configured, so that
// one put back later (a rename reverted, a job restored) starts afresh, as a
// new schedule does, instead of catching up a fire that came while it was
// absent. A state advanced within forgetAfter of now is another replica's,
// which has the schedule, and is kept: deleted, that replica would start the
// schedule afresh and lose the fire due meanwhile. It runs at start and
// every forgetAfter (Tick): a state left by a replica that just restarted
// without the schedule is fresh at start, and stale a minute later. Only "<job>.<schedule>"
// keys are the timer's: the daily report's "report/daily" is kept.
func (t *Timer) forget(ctx context.Context, now time.Time) error {
	known := map[string]bool{}
	for _, e := range t.entries {
		known[e.key()] = true
	}
	lister, err := t.kv.ListKeysFiltered(ctx, "*.*")
	if err != nil {
		return err
	}
	var unknown []string
	for k := range lister.Keys() {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	var errs []error
	for _, k := range unknown {
		last, rev, err := t.load(ctx, k)
		switch {
		case err != nil:
			errs = append(errs, err)
			continue
		case now.Sub(last) < forgetAfter: // ticked by a replica that has the schedule
			continue
		}
		err = t.kv.Delete(ctx, k, jetstream.LastRevision(rev))
		if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) && !bus.IsRevisionConflict(err) { // ticked meanwhile
			errs = append(errs, fmt.Errorf("delete %s: %w", k, err))
		}
	}
	return errors.Join(errs...)
}

func (e entry) key() string { return events.Token(e.job) + "." + events.Token(e.schedule) }

// Run ticks every interval until ctx is cancelled.
func (t *Timer) Run(ctx context.Context, now func() time.Time, interval time.Duration) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if err := t.Tick(ctx, now()); err != nil && ctx.Err() == nil {
			t.log.Warn("timer tick failed; the fire is retried on the next tick", bus.KeyFunction, Name, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// Tick evaluates every schedule at now and publishes the fires that are due;
// every forgetAfter it also forgets the states of schedules no replica
// ticks any more (forget).
func (t *Timer) Tick(ctx context.Context, now time.Time) error {
	if now.Sub(t.forgotAt) >= forgetAfter {
		t.forgetStale(ctx, now)
	}
	var errs []error
	for _, e := range t.entries {
		if err := t.tickOne(ctx, e, now); err != nil {
			errs = append(errs, fmt.Errorf("job %s schedule %s: %w", e.job, e.schedule, err))
		}
	}
	return errors.Join(errs...)
}

type state struct {
	Checked time.Time `json:"checked"`
}

func (t *Timer) tickOne(ctx context.Context, e entry, now time.Time) error {
	key := e.key()
	last, rev, err := t.load(ctx, key)
	if err != nil {
		return err
	}
	if last.IsZero() { // never evaluated: start now, catch nothing up
		return t.store(ctx, key, now, rev)
	}
	if !now.After(last) {
		return nil
	}
	d := schedule.Decide(e.sched, last, now, t.catchUp)
	if d.Dropped > 0 {
		t.log.Warn("fires missed beyond the catch-up window are dropped", bus.KeyFunction, Name,
			"job", e.job, "schedule", e.schedule, "dropped", d.Dropped, "catch_up", t.catchUp)
	}
	if !d.Fire.IsZero() {
		if err := t.publish(ctx, e, d, now); err != nil {
			return err // state not advanced: the next tick retries within the window
		}
	}
	return t.store(ctx, key, now, rev)
}

func (t *Timer) publish(ctx context.Context, e entry, d schedule.Decision, now time.Time) error {
	id := FireEventID(e.job, e.schedule, d.Fire)
	msg, err := t.subjects.Message(events.Meta{ID: id, Source: events.Source(Name), Time: now},
		events.ScheduleDue{RunID: id, Job: e.job, Schedule: e.schedule, Mode: e.mode, FireTime: d.Fire.UTC()})
	if err != nil {
		return err
	}
	ack, err := t.conn.Publish(ctx, msg.Subject, msg.Event)
	if err != nil {
		return err
	}
	if !ack.Duplicate {
		t.log.Info("schedule due", bus.KeyFunction, Name, "job", e.job, "schedule", e.schedule,
			"fire", d.Fire, "coalesced", d.Coalesced, "event_id", id)
	}
	return nil
}

// FireEventID is the event id (and run id) of a schedule's fire: the same in
// every replica, so JetStream keeps one.
func FireEventID(job, sched string, fire time.Time) string {
	return events.DeriveID("schedule.due", schedule.FireID(job, sched, fire))
}

func (t *Timer) load(ctx context.Context, key string) (time.Time, uint64, error) {
	e, err := t.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return time.Time{}, 0, nil
	}
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("read timer state: %w", err)
	}
	var s state
	if err := json.Unmarshal(e.Value(), &s); err != nil {
		return time.Time{}, e.Revision(), nil // unreadable: start over, like never evaluated
	}
	return s.Checked, e.Revision(), nil
}

// store advances the state with compare-and-set; losing the race to another
// replica is fine (it advanced the same schedule).
func (t *Timer) store(ctx context.Context, key string, now time.Time, rev uint64) error {
	data, _ := json.Marshal(state{Checked: now.UTC()})
	if _, err := bus.PutIfRevision(ctx, t.kv, key, data, rev); err != nil && !errors.Is(err, bus.ErrKVChanged) {
		return fmt.Errorf("store timer state: %w", err)
	}
	return nil
}
