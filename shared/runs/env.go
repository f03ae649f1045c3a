package runs

import (
	"context"
	"fmt"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/fn"
)

// ForEnv opens the run records of a function running in env: its
// connection, clock and stream replicas.
func ForEnv(ctx context.Context, env *fn.Env) (*Coordinator, error) {
	return New(ctx, env.Conn, Options{Now: env.Now, Replicas: env.Config.NATS.StreamReplicas})
}

// Message builds an event function publishes: id, its source, the time now
// says, on its subject under s.
func Message(s events.Subjects, function string, now func() time.Time, id string, p events.Payload) (bus.Out, error) {
	m, err := s.Message(events.Meta{ID: id, Source: events.Source(function), Time: now()}, p)
	if err != nil {
		return bus.Out{}, fmt.Errorf("build %s: %w", p.EventType().Short(), err)
	}
	return m, nil
}
