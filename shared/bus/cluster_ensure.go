package bus

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
)

// Creating streams, KV buckets and consumers races when several processes
// start at once (docker compose up, a Deployment rolled out): on a
// clustered JetStream (nats-server 2.15), of concurrent creates of the same
// replicated stream or consumer one is answered and the others never are,
// so their requests time out. The creates are idempotent create-or-update
// calls, so the Ensure functions bound each attempt and try again: the next
// attempt finds what the winner created.
const (
	ensureAttemptTimeout = 3 * time.Second
	ensureAttempts       = 5
)

// ensure runs op, an idempotent create-or-update, until it succeeds, fails
// with something other than a timeout, or ctx ends.
func ensure(ctx context.Context, op func(context.Context) error) error {
	var err error
	for range ensureAttempts {
		actx, cancel := context.WithTimeout(ctx, ensureAttemptTimeout)
		err = op(actx)
		cancel()
		if err == nil || ctx.Err() != nil || !timedOut(err) {
			return err
		}
	}
	return err
}

func timedOut(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout)
}
