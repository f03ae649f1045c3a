package restore

import (
	"context"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/fn"
	"xbr/shared/restoreclient"
)

// Name is the function's name.
const Name = "restore"

// Function is the restore function as `xbr serve` runs it, with the
// queries backups (restoreclient.QueryBackups), pools (events.QueryPools) and
// restore acceptance (restoreclient.QueryAccept).
func Function() fn.Function {
	return fn.Function{Name: Name, Run: run, API: []fn.APIEndpoint{
		fn.Answer(restoreclient.QueryBackups, listBackups),
		fn.Answer(events.QueryPools, listPools),
		fn.Answer(restoreclient.QueryAccept, accept),
	}}
}

// ConsumerConfig is the restore function's durable consumer. Imports are
// long: heartbeats keep the message ours while one runs.
func ConsumerConfig(env *fn.Env) bus.ConsumerConfig {
	return bus.ConsumerConfig{
		Function:    Name,
		Stream:      env.Streams.WithDefaults().Events,
		Subjects:    []string{env.Subjects.Filter(events.TypeRestoreRequested)},
		DLQ:         env.Subjects,
		AckWait:     time.Minute,
		MaxDeliver:  5,
		Concurrency: 2,
	}
}

func run(ctx context.Context, env *fn.Env) error {
	h := New(env.Pools, env.Remotes, env.Conn, env.Subjects, Options{Now: env.Now, Log: env.Log.With(bus.KeyFunction, Name), Repos: repos(env)})
	return env.Conn.Consume(ctx, ConsumerConfig(env), h)
}

// listBackups answers the backups query.
func listBackups(ctx context.Context, env *fn.Env, q restoreclient.Query) (restoreclient.Listing, error) {
	return restoreclient.List(ctx, env.Remotes, repos(env), q)
}

// accept answers the restore acceptance query (restoreclient.Accept).
func accept(ctx context.Context, env *fn.Env, p restoreclient.Params) (restoreclient.Accepted, error) {
	return restoreclient.Accept(ctx, restoreclient.Target{Pools: env.Pools, Remotes: env.Remotes, Repos: repos(env)}, p, env.Now())
}

// listPools answers the pools query: the configured pool names, so a client
// can default to the only one.
func listPools(_ context.Context, env *fn.Env, _ events.NoRequest) ([]string, error) {
	return env.Pools.Names(), nil
}

// repos is env's repositories, or none (a nil interface, not a nil pointer).
func repos(env *fn.Env) restoreclient.Repos {
	if env.Repos == nil {
		return nil
	}
	return env.Repos
}
