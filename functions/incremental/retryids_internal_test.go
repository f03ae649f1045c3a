package incremental

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
)

type idPublisher struct {
	mu  sync.Mutex
	ids []string
}

func (p *idPublisher) Publish(_ context.Context, _ string, ev event.Event) (*jetstream.PubAck, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ids = append(p.ids, ev.ID())
	return &jetstream.PubAck{}, nil
}

func (p *idPublisher) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.ids)
}

func (p *idPublisher) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.ids
	p.ids = nil
	return out
}

// TestRawRetryEventsHaveTheirOwnIDs: the raw retry after vhd.ErrFormat runs
// w.attempt again for the same job, delivery and attempt number n, and a
// failed attempt is followed by the next one in the same delivery. Their
// incremental.started and incremental.progress events must not get ids an
// earlier attempt published: the bus (Nats-Msg-Id, duplicate window of an
// hour) drops them as duplicates, and the retry's start and first progress
// reports are never seen. (The raw retry reused every id; a later attempt
// reused the progress ids, which had no attempt number.)
func TestRawRetryEventsHaveTheirOwnIDs(t *testing.T) {
	pub := &idPublisher{}
	w := newWorker(Deps{Publisher: pub, ProgressEvery: 5 * time.Millisecond})
	j := &job{req: events.IncrementalRequested{RunID: "run", Job: "job", Schedule: "nightly", VMUUID: "6b2c0000-0000-4000-8000-000000000001",
		VMName: "vm", Pool: "lab", Remote: "repo"}, delivery: 1}
	ctx := context.Background()
	seen := map[string]string{}
	attempt := func(n int, raw bool) {
		j.raw = raw
		w.started(ctx, j, n)
		p := w.progress(ctx, j)
		for deadline := time.Now().Add(10 * time.Second); pub.count() < 4 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond) // poll: the ticker publishes on its own goroutine
		}
		p.stop()
		what := fmt.Sprintf("attempt %d (raw %v)", n, raw)
		for _, id := range pub.take() {
			if by, ok := seen[id]; ok {
				t.Fatalf("%s published event id %s, which %s published already", what, id, by)
			}
			seen[id] = what
		}
	}
	attempt(1, false) // the format=vhd attempt, which fails with vhd.ErrFormat
	attempt(1, true)  // the raw retry (worker.go)
	attempt(2, true)  // the next attempt, after the raw retry failed too
}
