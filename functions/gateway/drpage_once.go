package gateway

import (
	"context"
	"sync"
	"time"
)

// nonceMemory is how many form submissions a gateway remembers (the oldest
// is forgotten first): enough for people double-clicking, bounded memory.
const nonceMemory = 256

// nonceOnce runs a form's action once per nonce: a second submission of
// the same form waits for the first and gets its outcome. A failed action
// is forgotten, so submitting again retries it.
type nonceOnce[T any] struct {
	mu    sync.Mutex
	max   int
	bound time.Duration // how long an action may run
	byKey map[string]*onceCall[T]
	order []string
}

type onceCall[T any] struct {
	done chan struct{}
	val  T
	err  error
}

func newNonceOnce[T any](max int, bound time.Duration) *nonceOnce[T] {
	return &nonceOnce[T]{max: max, bound: bound, byKey: map[string]*onceCall[T]{}}
}

// Do runs fn for nonce unless it ran (or runs) already; repeated reports
// that the outcome is an earlier submission's.
func (o *nonceOnce[T]) Do(ctx context.Context, nonce string, fn func(context.Context) (T, error)) (val T, repeated bool, err error) {
	o.mu.Lock()
	if c, ok := o.byKey[nonce]; ok {
		o.mu.Unlock()
		select {
		case <-c.done:
			return c.val, true, c.err
		case <-ctx.Done():
			return val, true, ctx.Err()
		}
	}
	c := &onceCall[T]{done: make(chan struct{})}
	o.remember(nonce, c)
	o.mu.Unlock()

	// The action outlives a client that gives up waiting: a failover is not
	// half-done because a browser closed its connection.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.bound)
	c.val, c.err = fn(fctx)
	cancel()
	close(c.done)
	if c.err != nil {
		o.mu.Lock()
		if o.byKey[nonce] == c {
			delete(o.byKey, nonce)
		}
		o.mu.Unlock()
	}
	return c.val, false, c.err
}

// remember stores c under nonce, forgetting the oldest beyond max (o.mu held).
func (o *nonceOnce[T]) remember(nonce string, c *onceCall[T]) {
	o.byKey[nonce] = c
	o.order = append(o.order, nonce)
	for len(o.order) > o.max {
		delete(o.byKey, o.order[0])
		o.order = o.order[1:]
	}
}
