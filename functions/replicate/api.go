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
// cannot be read is left out with a warning on log (required), so that the loss of
// one site (which may be the target of another job) does not hide the
// copies on the others; List fails only when no pool could be read.
func List(ctx context.Context, pools Pools, names []string, vm string, now time.Time, log *slog.Logger) ([]events.DRCopy, error) {
	out := []events.DRCopy{}
	var errs []error
	for _, name := range names {
		cs, err := poolCopies(ctx, pools, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, c := range cs {
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
