package gateway

import (
	"fmt"
	"time"
)

// Option is an optional knob of New.
type Option func(*options)

type options struct {
	handlerTimeout   time.Duration
	failoverWait     time.Duration
	chatFailoverWait time.Duration
}

// WithHandlerTimeout bounds every request's handler [HandlerTimeout]; the
// server's write timeout follows it. Without WithFailoverWait, a failover
// waits two thirds of it for its outcome.
func WithHandlerTimeout(d time.Duration) Option {
	return func(o *options) { o.handlerTimeout = d }
}

// WithFailoverWait bounds how long a failover asked through the webhook or
// the DR page waits for its outcome before answering that it is
// pending, with its id [two thirds of the handler timeout]. It must be
// shorter than the handler timeout, so that the answer goes out before the
// handler is cut.
func WithFailoverWait(d time.Duration) Option {
	return func(o *options) { o.failoverWait = d }
}

// WithChatFailoverWait bounds how long the gateway follows a failover asked
// in chat, after answering the command, before it posts to the chat that
// the failover is still pending [chatFailoverWait: 15 min].
func WithChatFailoverWait(d time.Duration) Option {
	return func(o *options) { o.chatFailoverWait = d }
}

// newOptions applies opts over the defaults and checks that a failover's
// pending answer comes before the handler timeout.
func newOptions(opts []Option) (options, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.handlerTimeout <= 0 {
		o.handlerTimeout = HandlerTimeout
	}
	if o.chatFailoverWait <= 0 {
		o.chatFailoverWait = chatFailoverWait
	}
	if o.failoverWait <= 0 {
		o.failoverWait = o.handlerTimeout * 2 / 3
	}
	if o.failoverWait >= o.handlerTimeout {
		return options{}, fmt.Errorf("failover wait %s is not shorter than the handler timeout %s: a slow failover would be cut before it answers with its id",
			o.failoverWait, o.handlerTimeout)
	}
	return o, nil
}
