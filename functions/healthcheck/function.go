package healthcheck

import (
	"context"
	"errors"
	"sync"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/fn"
)

// Name is the function's name.
const Name = "healthcheck"

// Function is the health check function as `xbr serve` runs it.
func Function() fn.Function { return fn.Function{Name: Name, Run: run} }

// TriggerConfig is the durable consumer that turns completed backups and
// replications into health check requests: quick work.
func TriggerConfig(env *fn.Env) bus.ConsumerConfig {
	s := env.Subjects
	return bus.ConsumerConfig{
		Function: Name,
		Durable:  Name + "-trigger",
		Stream:   env.Streams.WithDefaults().Events,
		Subjects: []string{s.Filter(events.TypeExportCompleted), s.Filter(events.TypeIncrementalCompleted),
			s.Filter(events.TypeReplicateCompleted)},
		DLQ:         s,
		MaxDeliver:  5,
		Concurrency: 4,
	}
}

// CheckConfig is the durable consumer of the checks themselves: requests
// and the restores they asked for. A check lasts up to its timeout:
// heartbeats keep the message while it runs.
func CheckConfig(env *fn.Env) bus.ConsumerConfig {
	s := env.Subjects
	return bus.ConsumerConfig{
		Function: Name,
		Stream:   env.Streams.WithDefaults().Events,
		Subjects: []string{s.Filter(events.TypeHealthCheckRequested), s.Filter(events.TypeRestoreCompleted),
			s.Filter(events.TypeRestoreFailed)},
		DLQ:         s,
		AckWait:     time.Minute,
		MaxDeliver:  5,
		Concurrency: 2,
	}
}

func run(ctx context.Context, env *fn.Env) error {
	log := env.Log.With(bus.KeyFunction, Name)
	pending, err := EnsurePending(ctx, env.Conn, env.Config.NATS.StreamReplicas)
	if err != nil {
		return err
	}
	h := New(env.Pools, env.Conn, pending, env.Subjects, Options{Now: env.Now, Log: log})
	t := NewTrigger(env.Config, env.Pools, env.Subjects, TriggerOptions{Now: env.Now, Log: log})
	h.SweepAll(ctx, env.Pools.Names())     // before any check: what a killed process left
	ctx, cancel := context.WithCancel(ctx) // one consumer's end ends the other and the sweeps
	defer cancel()
	var wg sync.WaitGroup
	var errTrigger, errCheck error
	wg.Go(func() { errTrigger = env.Conn.Consume(ctx, TriggerConfig(env), t); cancel() })
	wg.Go(func() { errCheck = env.Conn.Consume(ctx, CheckConfig(env), h); cancel() })
	wg.Go(func() { h.sweepEvery(ctx, env.Pools.Names()) })
	wg.Wait()
	return errors.Join(errTrigger, errCheck)
}
