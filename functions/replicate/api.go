package replicate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"xbr/events"
	"xbr/shared/config"
	"xbr/shared/fn"
)

// API is the replicate function's queries, for fn.Function.API: dr.ls,
// the copies on the standby pools. Failover is not a query: it is the
// xbr.failover.requested event (see NewFailoverHandler).
func API() []fn.APIEndpoint {
	return []fn.APIEndpoint{fn.Answer(events.QueryDRList, apiList)}
}

func apiList(ctx context.Context, env *fn.Env, req events.DRListRequest) ([]events.DRCopy, error) {
	names, err := TargetPools(env.Config, req.Pool)
	if err != nil {
		return nil, err
	}
	log := env.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return List(ctx, env.Pools, names, req.VM, env.Now(), log)
}

// TargetPools are the pools DR commands look at: pool when given (it must
// be configured), else the target pools of every replicate job.
func TargetPools(cfg *config.Config, pool string) ([]string, error) {
	if pool != "" {
		if _, ok := cfg.Pool(pool); !ok {
			return nil, fmt.Errorf("pool %q is not configured", pool)
		}
		return []string{pool}, nil
	}
	var out []string
	for _, j := range cfg.Jobs {
		if j.Mode == config.ModeReplicate && !slices.Contains(out, j.Target.Pool) {
			out = append(out, j.Target.Pool)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no replicate job is configured: name a pool (--pool) to look for copies")
	}
	return out, nil
}

// List returns the copies on the named pools (of vm, when not ""), oldest
// recovery point first, with their state and age at now. A pool that
// cannot be read, or does not answer within poolListTimeout, is left out
// with a warning on log (required), so that the loss of one site (which
// may be the target of another job) does not hide the copies on the
// others; List fails only when no pool could be read.
func List(ctx context.Context, pools Pools, names []string, vm string, now time.Time, log *slog.Logger) ([]events.DRCopy, error) {
	out := []events.DRCopy{}
	var errs []error
	for _, r := range readPools(ctx, pools, names) {
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		for _, c := range r.copies {
			if vm == "" || c.Matches(vm) {
				out = append(out, c.Listed(now))
			}
		}
	}
	if len(errs) > 0 && len(errs) == len(names) {
		return nil, errors.Join(errs...)
	}
	for _, err := range errs {
		log.Warn("dr.ls: a pool's copies are not listed", "err", err)
	}
	slices.SortStableFunc(out, func(a, b events.DRCopy) int { return a.Datetime.Compare(b.Datetime) })
	return out, nil
}

// Listed is c as the dr.ls query answers it, with its state and its age at now.
func (c Copy) Listed(now time.Time) events.DRCopy {
	return events.DRCopy{CopyRecord: c.CopyRecord, State: c.state(), AgeSeconds: int64(now.Sub(c.Datetime) / time.Second)}
}

func (c Copy) state() string {
	switch {
	case !c.Complete():
		return events.DRStateInterrupted
	case c.StartBlocked:
		return events.DRStateStandby
	}
	return events.DRStateFailedOver
}

// poolListTimeout bounds the look at one pool's copies, well within the
// 10 s a client waits for dr.ls (the CLI's --timeout): a pool whose network
// silently drops traffic is left out like one that errors, instead of
// holding the whole answer past the caller's wait.
const poolListTimeout = 5 * time.Second

// poolRead is the copies of one pool, or why they could not be read.
type poolRead struct {
	copies []Copy
	err    error
}

// readPools reads the copies of each named pool at once, in the order of
// names, each within poolListTimeout. A pool that has not answered by then
// is given up on even if its call does not heed ctx (a login or a VM view
// another caller holds): its goroutine ends when that call does.
func readPools(ctx context.Context, pools Pools, names []string) []poolRead {
	ctx, cancel := context.WithTimeout(ctx, poolListTimeout)
	defer cancel()
	answers := make([]chan poolRead, len(names))
	for i, name := range names {
		answers[i] = make(chan poolRead, 1)
		go func() {
			cs, err := poolCopies(ctx, pools, name)
			answers[i] <- poolRead{copies: cs, err: err}
		}()
	}
	out := make([]poolRead, len(names))
	for i, name := range names {
		select {
		case out[i] = <-answers[i]:
		case <-ctx.Done():
			out[i] = late(answers[i], fmt.Errorf("pool %s: no answer within %s: %w", name, poolListTimeout, ctx.Err()))
		}
	}
	return out
}

// late is the answer on ch if it is there already (it came in while an
// earlier pool was awaited), else err.
func late(ch <-chan poolRead, err error) poolRead {
	select {
	case r := <-ch:
		return r
	default:
		return poolRead{err: err}
	}
}

func poolCopies(ctx context.Context, pools Pools, name string) ([]Copy, error) {
	c, err := pools.Client(ctx, name)
	if err != nil {
		return nil, err
	}
	cs, err := ListCopies(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("pool %s: %w", name, err)
	}
	for i := range cs {
		cs[i].Pool = name
	}
	return cs, nil
}
