package xapi

import "time"

// WithHeadWait sets how long an upload waits for the answer to its request
// head before it sends the body anyway (headWait), so that a test reaches
// the path where the body goes first without waiting 30 seconds.
func WithHeadWait(d time.Duration) Option {
	return func(o *options) error { o.headWait = d; return nil }
}
