package incremental

import (
	"context"
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
// w.attempt again for the same job, delivery and attempt number n. Its
// incremental.started and incremental.progress events get the ids the
// failed VHD attempt already published, and the bus (Nats-Msg-Id, duplicate
// window of an hour) drops them as duplicates: the retry's start and its
// first progress reports are never seen.
func TestRawRetryEventsHaveTheirOwnIDs(t *testing.T) {
	pub := &idPublisher{}
	w := newWorker(Deps{Publisher: pub, ProgressEvery: 5 * time.Millisecond})
	j := &job{req: events.IncrementalRequested{RunID: "run", Job: "job", Schedule: "nightly", VMUUID: "6b2c0000-0000-4000-8000-000000000001",
		VMName: "vm", Pool: "lab", Remote: "repo"}, delivery: 1}
	ctx := context.Background()
	attempt := func() map[string]bool {
		w.started(ctx, j, 1)
		p := w.progress(ctx, j)
		for deadline := time.Now().Add(10 * time.Second); pub.count() < 4 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond) // poll: the ticker publishes on its own goroutine
		}
		p.stop()
		ids := map[string]bool{}
		for _, id := range pub.take() {
			ids[id] = true
		}
		return ids
	}
	first := attempt() // the format=vhd attempt, which fails with vhd.ErrFormat
	j.raw = true
	second := attempt() // the raw retry (worker.go)
	var dup int
	for id := range second {
		if first[id] {
			dup++
		}
	}
	if dup > 0 {
		t.Fatalf("%d of the raw retry's %d side-channel event ids were already published by the failed attempt", dup, len(second))
	}
}
