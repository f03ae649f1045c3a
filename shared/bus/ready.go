package bus

import (
	"context"
	"fmt"
	"sync"
)

// bound records the durable consumers whose consume loops run on a
// connection, so a readiness probe can tell "connected" from "working".
type bound struct {
	mu sync.Mutex
	n  map[string]int    // durable → running loops
	on map[string]string // durable → its stream
}

// bind records a running loop of durable on stream; the returned func
// forgets it.
func (b *bound) bind(durable, stream string) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.n == nil {
		b.n, b.on = map[string]int{}, map[string]string{}
	}
	b.n[durable]++
	b.on[durable] = stream
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.n[durable]--; b.n[durable] <= 0 {
			delete(b.n, durable)
			delete(b.on, durable)
		}
	}
}

func (b *bound) stream(durable string) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st, ok := b.on[durable]
	return st, ok
}

// Ready reports why the connection is not ready to work, or nil: it must
// be connected, JetStream must answer, and each of durables must have a
// consume loop running on this connection (Consume) whose consumer the
// server still holds. Every answer is a round trip to the server, not a
// cached state.
func (c *Conn) Ready(ctx context.Context, durables ...string) error {
	if !c.nc.IsConnected() {
		return fmt.Errorf("nats: connection %s", c.nc.Status())
	}
	if _, err := c.js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("nats: jetstream: %w", err)
	}
	for _, d := range durables {
		st, ok := c.bound.stream(d)
		if !ok {
			return fmt.Errorf("consumer %s: not consuming in this process", d)
		}
		if _, err := c.js.Consumer(ctx, st, d); err != nil {
			return fmt.Errorf("consumer %s on stream %s: %w", d, st, err)
		}
	}
	return nil
}
