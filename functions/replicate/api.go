package replicate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"xbr/events"
	"xbr/shared/app"
	"xbr/shared/config"
)

// VerbList is the query answered by every xbr server (app.Request with
// this name): the copies on the standby pools. Failover is not a verb: it
// is the xbr.failover.requested event (see NewFailoverHandler).
const VerbList = "dr.ls"

// ListRequest asks for the copies on the standby pools.
type ListRequest struct {
	Pool string `json:"pool,omitempty"` // one configured pool; "" = every replicate job's target
	VM   string `json:"vm,omitempty"`   // only copies of this VM (uuid, copy uuid or name)
}

// Listed is a copy with its age (the recovery point's distance to now).
type Listed struct {
	Copy
	State      string `json:"state"` // standby, failed-over or interrupted
	AgeSeconds int64  `json:"age_seconds"`
}

// Copy states in a listing.
const (
	StateStandby     = "standby"
	StateFailedOver  = "failed-over"
	StateInterrupted = "interrupted"
)

// API is the replicate function's verbs, for app.Function.API.
func API() map[string]app.APIHandler {
	return map[string]app.APIHandler{VerbList: apiList}
}

func apiList(ctx context.Context, env *app.Env, raw json.RawMessage) (any, error) {
	var req ListRequest
	if err := decodeRequest(raw, &req); err != nil {
		return nil, fmt.Errorf("%s: %w", VerbList, err)
	}
	names, err := TargetPools(env.Config, req.Pool)
	if err != nil {
		return nil, err
	}
	return List(ctx, env.Pools, names, req.VM, env.Now())
}

// decodeRequest reads a request strictly; an empty body is the zero request.
func decodeRequest(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	if err := events.DecodeStrict(raw, v); err != nil {
		return fmt.Errorf("bad request: %w", err)
	}
	return nil
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
// recovery point first, with their state and age at now.
func List(ctx context.Context, pools Pools, names []string, vm string, now time.Time) ([]Listed, error) {
	out := []Listed{}
	for _, name := range names {
		cs, err := poolCopies(ctx, pools, name)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if vm == "" || c.Matches(vm) {
				out = append(out, Listed{Copy: c, State: state(c), AgeSeconds: int64(now.Sub(c.Datetime) / time.Second)})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Listed) int { return a.Datetime.Compare(b.Datetime) })
	return out, nil
}

func state(c Copy) string {
	switch {
	case !c.Complete():
		return StateInterrupted
	case c.StartBlocked:
		return StateStandby
	}
	return StateFailedOver
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
