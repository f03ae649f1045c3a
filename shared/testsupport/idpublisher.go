package testsupport

import (
	"context"
	"sync"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"
)

// IDPublisher is a function's Publisher that keeps only the ids of the events published
// through it, for tests of event ids (the bus drops an id it has seen).
type IDPublisher struct {
	mu  sync.Mutex
	ids []string
}

// Publish records ev's id.
func (p *IDPublisher) Publish(_ context.Context, _ string, ev event.Event) (*jetstream.PubAck, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ids = append(p.ids, ev.ID())
	return &jetstream.PubAck{}, nil
}

// Take waits up to 10 s for at least atLeast ids, then returns and forgets them all.
func (p *IDPublisher) Take(atLeast int) []string {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		p.mu.Lock()
		n := len(p.ids)
		p.mu.Unlock()
		if n >= atLeast {
			break
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.ids
	p.ids = nil
	return out
}
