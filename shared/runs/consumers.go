package runs

import (
	"context"
	"errors"
	"sync"
	"time"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
)

// Deliveries of a run-shaped function's consumers.
const (
	// PlannerMaxDeliver lets a queued fire wait a long time: with the
	// planner's back-off capped at PlannerBackoffCap, about 35 days.
	PlannerMaxDeliver = 100_000
	PlannerBackoffCap = 30 * time.Second
	// WorkerMaxDeliver bounds the deliveries of one VM's work request.
	WorkerMaxDeliver = 10
	// RunnerMaxDeliver bounds the deliveries of one VM's end.
	RunnerMaxDeliver = 20
)

// Topics names what a run-shaped function consumes: the fires of the jobs
// of its mode, its per-VM work request and the events that end a VM's work.
type Topics struct {
	Function string // names the durables <function>-plan|-worker|-runner and the DLQ
	// Mode is the mode of the jobs the function plans (config.ModeFull, ...):
	// its planner reads <prefix>.schedule.due.<mode>.>, the fires of those
	// jobs only.
	Mode    string
	Request events.Type   // the worker's work request
	Ends    []events.Type // the runner's: a VM's completed and failed
}

// Consumers are the planner's, the worker's (workers handlers in flight)
// and, when there are Ends, the runner's consumer configurations on stream,
// in that order.
func (t Topics) Consumers(s events.Subjects, stream string, workers int) []bus.ConsumerConfig {
	ends := make([]string, len(t.Ends))
	for i, e := range t.Ends {
		ends[i] = s.Filter(e)
	}
	cfgs := []bus.ConsumerConfig{
		{Function: t.Function, Durable: t.Function + "-plan", Stream: stream, DLQ: s,
			Subjects: []string{s.FilterKeys(events.TypeScheduleDue, t.Mode)}, MaxDeliver: PlannerMaxDeliver,
			Backoff: bus.ExponentialBackoff(time.Second, PlannerBackoffCap), Concurrency: 4},
		{Function: t.Function, Durable: t.Function + "-worker", Stream: stream, DLQ: s,
			Subjects: []string{s.Filter(t.Request)}, MaxDeliver: WorkerMaxDeliver,
			AckWait: time.Minute, Concurrency: workers},
	}
	if len(ends) == 0 {
		return cfgs
	}
	return append(cfgs, bus.ConsumerConfig{Function: t.Function, Durable: t.Function + "-runner", Stream: stream,
		DLQ: s, Subjects: ends, MaxDeliver: RunnerMaxDeliver, Concurrency: 4})
}

// WorkerConcurrency is how many VMs one process works on at once for the
// jobs of mode: the sum of their concurrency (the runs bound each job), at
// least 2.
func WorkerConcurrency(c *config.Config, mode string) int {
	n := 0
	for _, j := range c.Jobs {
		if j.Mode == mode {
			n += max(j.Concurrency, 1)
		}
	}
	return max(n, 2)
}

// Consumer is one durable consumer of a function and its handler.
type Consumer struct {
	Config  bus.ConsumerConfig
	Handler bus.Handler
}

// consumer runs one durable consumer until ctx ends (*bus.Conn).
type consumer interface {
	Consume(ctx context.Context, cfg bus.ConsumerConfig, h bus.Handler) error
}

// ConsumeAll runs every consumer on conn until ctx is cancelled and returns
// their errors joined.
func ConsumeAll(ctx context.Context, conn consumer, cs []Consumer) error {
	var wg sync.WaitGroup
	errs := make([]error, len(cs))
	for i, c := range cs {
		wg.Go(func() { errs[i] = conn.Consume(ctx, c.Config, c.Handler) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
