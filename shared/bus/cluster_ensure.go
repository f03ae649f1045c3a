package bus

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Creating streams, KV buckets and consumers races when several processes
// start at once (docker compose up, a Deployment rolled out): on a
// clustered JetStream (nats-server 2.15), of concurrent creates of the same
// replicated stream or consumer one is answered and the others never are,
// so their requests time out. The creates are idempotent create-or-update
// calls, so the Ensure functions bound each attempt and try again: the next
// attempt finds what the winner created.
//
// A cluster that has just formed may also still count a peer offline and
// refuse to place a replicated stream ("no suitable peers for placement");
// that too passes once the peers are known, so it is tried again after a
// pause.
const (
	ensureAttemptTimeout = 3 * time.Second
	ensureAttempts       = 5
	ensurePeersPause     = time.Second
)

// errCodeNoSuitablePeers is JetStream's "no suitable peers for placement".
const errCodeNoSuitablePeers jetstream.ErrorCode = 10005

// ensure runs op, an idempotent create-or-update, until it succeeds, fails
// with something other than a timeout, or ctx ends.
func ensure(ctx context.Context, op func(context.Context) error) error {
	var err error
	for range ensureAttempts {
		actx, cancel := context.WithTimeout(ctx, ensureAttemptTimeout)
		err = op(actx)
		cancel()
		if err == nil || ctx.Err() != nil {
			return err
		}
		if noPeersYet(err) {
			if werr := sleep(ctx, ensurePeersPause); werr != nil {
				return err
			}
			continue
		}
		if !timedOut(err) {
			return err
		}
	}
	return err
}

func noPeersYet(err error) bool {
	var api *jetstream.APIError
	return errors.As(err, &api) && api.ErrorCode == errCodeNoSuitablePeers
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func timedOut(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout)
}
