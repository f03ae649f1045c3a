package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
)

// ConsumerConfig configures one function's durable consumer and its loop.
// Zero values mean the defaults in brackets.
type ConsumerConfig struct {
	Function    string          // required: names the durable and the DLQ subject
	Durable     string          // [Function]
	Stream      string          // [events.DefaultEventsStream]
	Subjects    []string        // filter subjects; required
	DLQ         events.Subjects // prefix of the DLQ subject [xbr]
	AckWait     time.Duration   // [30s]
	MaxDeliver  int             // [5]
	Concurrency int             // handlers in flight [1]
	// Heartbeat is the InProgress period while a handler runs [AckWait/3];
	// negative disables heartbeats.
	Heartbeat time.Duration
	// Backoff is the nak delay after a failed delivery [1s doubling to 5m].
	Backoff func(delivery uint64) time.Duration
	// DrainTimeout bounds how long in-flight handlers may run after the
	// context is cancelled; then their context is cancelled [30s].
	DrainTimeout time.Duration
	// FetchWait is how long one pull waits for messages [5s].
	FetchWait time.Duration
}

func (c ConsumerConfig) withDefaults() ConsumerConfig {
	c.Durable = orDefault(c.Durable, c.Function)
	c.Stream = orDefault(c.Stream, events.DefaultEventsStream)
	c.AckWait = durationOr(c.AckWait, 30*time.Second)
	if c.MaxDeliver <= 0 {
		c.MaxDeliver = 5
	}
	c.Concurrency = max(c.Concurrency, 1)
	if c.Heartbeat == 0 {
		c.Heartbeat = c.AckWait / 3
	}
	if c.Backoff == nil {
		c.Backoff = ExponentialBackoff(time.Second, 5*time.Minute)
	}
	c.DrainTimeout = durationOr(c.DrainTimeout, 30*time.Second)
	c.FetchWait = durationOr(c.FetchWait, 5*time.Second)
	return c
}

func (c ConsumerConfig) validate() error {
	if err := events.ValidToken(c.Function); err != nil {
		return fmt.Errorf("consumer function name: %w", err)
	}
	if err := events.ValidToken(c.Durable); err != nil {
		return fmt.Errorf("consumer durable name: %w", err)
	}
	if len(c.Subjects) == 0 {
		return fmt.Errorf("consumer %s: no filter subjects", c.Durable)
	}
	for _, s := range c.Subjects {
		// The loop checks each event's subject against its type under this
		// prefix: filters under another would dead-letter every event.
		if !strings.HasPrefix(s, c.DLQ.Prefix()+".") {
			return fmt.Errorf("consumer %s: filter subject %q is not under the prefix %q of its DLQ", c.Durable, s, c.DLQ.Prefix())
		}
	}
	return nil
}

// EnsureConsumer creates the durable consumer of cfg, or updates it to
// cfg; running it again with the same config changes nothing.
func (c *Conn) EnsureConsumer(ctx context.Context, cfg ConsumerConfig) (jetstream.Consumer, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	jcfg := jetstream.ConsumerConfig{
		Durable:        cfg.Durable,
		Description:    "xbr function " + cfg.Function,
		FilterSubjects: cfg.Subjects,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        cfg.AckWait,
		MaxDeliver:     cfg.MaxDeliver,
		MaxAckPending:  max(1000, 2*cfg.Concurrency),
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	}
	var cons jetstream.Consumer
	err := ensure(ctx, func(ctx context.Context) (err error) {
		cons, err = c.js.CreateOrUpdateConsumer(ctx, cfg.Stream, jcfg)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create or update consumer %s on %s: %w", cfg.Durable, cfg.Stream, err)
	}
	return cons, nil
}

// Consume runs h on the events of cfg's durable consumer until ctx is
// cancelled; then it stops fetching, waits for in-flight handlers (at most
// DrainTimeout, after which their context is cancelled) and returns nil.
func (c *Conn) Consume(ctx context.Context, cfg ConsumerConfig, h Handler) error {
	cfg = cfg.withDefaults()
	cons, err := c.EnsureConsumer(ctx, cfg)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped before it started: a shutdown, as below
		}
		return err
	}
	l := &loop{conn: c, cons: cons, cfg: cfg, h: h,
		log: c.log.With(KeyFunction, cfg.Function)}
	defer c.bound.bind(cfg.Durable, cfg.Stream)()
	l.run(ctx)
	return nil
}

type loop struct {
	conn *Conn
	cons jetstream.Consumer
	cfg  ConsumerConfig
	h    Handler
	log  *slog.Logger
}

func (l *loop) run(ctx context.Context) {
	hctx, cancelHandlers := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHandlers()
	slots := make(chan struct{}, l.cfg.Concurrency)
	var wg sync.WaitGroup
	l.log.Info("consumer started", "durable", l.cfg.Durable, "stream", l.cfg.Stream, "concurrency", l.cfg.Concurrency)
	for ctx.Err() == nil {
		n := acquire(ctx, slots)
		if n == 0 {
			break
		}
		started := l.fetch(ctx, n, func(msg jetstream.Msg) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				l.dispatch(hctx, msg)
			}()
		})
		for range n - started {
			<-slots
		}
	}
	l.drain(&wg, cancelHandlers)
}

// acquire blocks for one free slot, then takes every other free one.
func acquire(ctx context.Context, slots chan struct{}) int {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return 0
	}
	n := 1
	for n < cap(slots) {
		select {
		case slots <- struct{}{}:
			n++
		default:
			return n
		}
	}
	return n
}

// fetch pulls up to n messages and starts each; it returns how many started.
func (l *loop) fetch(ctx context.Context, n int, start func(jetstream.Msg)) int {
	fctx, cancel := context.WithTimeout(ctx, l.cfg.FetchWait)
	defer cancel()
	batch, err := l.cons.Fetch(n, jetstream.FetchContext(fctx))
	if err != nil {
		l.fetchFailed(ctx, err)
		return 0
	}
	started := 0
	for msg := range batch.Messages() {
		started++
		start(msg)
	}
	if err := batch.Error(); err != nil {
		l.fetchFailed(ctx, err)
	}
	return started
}

func (l *loop) fetchFailed(ctx context.Context, err error) {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrNoMessages) {
		return
	}
	l.log.Warn("fetch failed; retrying", "error", err)
	if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted) {
		if cons, cerr := l.conn.EnsureConsumer(ctx, l.cfg); cerr == nil {
			l.cons = cons
		}
	}
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
	}
}

func (l *loop) drain(wg *sync.WaitGroup, cancelHandlers context.CancelFunc) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	l.log.Info("consumer draining", "timeout", l.cfg.DrainTimeout)
	select {
	case <-done:
	case <-time.After(l.cfg.DrainTimeout):
		l.log.Warn("drain timeout: cancelling in-flight handlers")
		cancelHandlers()
		<-done
	}
	l.log.Info("consumer stopped")
}
