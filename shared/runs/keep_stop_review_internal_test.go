package runs

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// unresponsiveKV is a runs bucket whose server does not answer (NATS out of
// reach: a request waits for its context).
type unresponsiveKV struct {
	jetstream.KeyValue
	asked chan struct{}
}

func (kv unresponsiveKV) Get(ctx context.Context, _ string) (jetstream.KeyValueEntry, error) {
	select {
	case kv.asked <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestKeepStopDoesNotWaitForAStuckRenewal: Hold.Keep's stop waits for its
// goroutine, and that goroutine's renewal, made under a context of its own
// bounded only by renewStep (StaleAfter/4: 7.5 minutes by default), is not
// ended by stop. With NATS out of reach, the export that just got Xen
// Orchestra's VM-folder lock (or a worker shutting down) is held in stop for
// up to renewStep.
func TestKeepStopDoesNotWaitForAStuckRenewal(t *testing.T) {
	const stale = 8 * time.Second // renewStep 2 s
	kv := unresponsiveKV{asked: make(chan struct{}, 1)}
	c := &Coordinator{kv: kv, now: time.Now, staleAfter: stale, plans: &plans{}}
	_, hold := c.Hold(context.Background(), "nightly", "r1")
	defer hold.Release()
	stop := hold.Keep(slog.New(slog.DiscardHandler))
	select {
	case <-kv.asked: // a renewal is under way, and NATS does not answer
	case <-time.After(3 * c.renewStep()):
		stop()
		t.Fatal("Keep made no renewal")
	}
	began := time.Now()
	stop()
	if took := time.Since(began); took > c.renewStep()/4 {
		t.Errorf("stop took %s waiting for a renewal NATS does not answer; want it to return at once (renewStep %s)",
			took.Round(time.Millisecond), c.renewStep())
	}
}
