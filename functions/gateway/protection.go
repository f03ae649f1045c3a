package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"xbr/events"
	"xbr/shared/fn"
	"xbr/shared/protection"
	"xbr/shared/vmselect"
)

// protection is every VM's protection now, from the pools' cached VM lists
// (one XAPI event feed per pool, no per-VM call), the config and the
// history this gateway follows. A pool that cannot be read fails the whole
// answer: showing its VMs as missing would be a lie.
func (s *Server) protection(ctx context.Context) ([]events.ProtectionVM, error) {
	if s.historyLoading.Load() {
		return nil, errHistoryLoading
	}
	var pools []vmselect.Pool
	for _, p := range s.env.Config.Pools {
		if s.env.Pools == nil {
			return nil, errors.New("protection: no pool clients")
		}
		c, err := s.env.Pools.Client(ctx, p.Name)
		if err != nil {
			return nil, fmt.Errorf("protection: %w", err)
		}
		vms, err := c.CachedVMs(ctx)
		if err != nil {
			return nil, fmt.Errorf("protection: pool %s: %w", p.Name, err)
		}
		pools = append(pools, vmselect.Pool{Name: p.Name, VMs: vms})
	}
	// The runs held, then the newest VM results and restored VMs' restores
	// of those dropped to stay within gateway.history_runs: a copy, or a
	// restore, older than the runs held counts.
	runs := append(s.history.Runs(), s.history.Outcomes()...)
	runs = append(runs, s.history.Restores()...)
	return protection.Compute(protection.Input{Pools: pools, Jobs: s.env.Config.Jobs,
		Runs: runs, Now: s.now()}), nil
}

// errHistoryLoading: the gateway has not read the run history yet.
var errHistoryLoading = errors.New("protection: the gateway is still reading the run history; ask again in a moment")

// answerProtection is the protection query: the running gateway holds the
// history, so it answers it (the query waits until the gateway is built).
type answerProtection struct {
	mu  sync.Mutex
	srv *Server
}

func (a *answerProtection) set(s *Server) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.srv = s
}

func (a *answerProtection) handle(ctx context.Context, _ *fn.Env, req events.ProtectionRequest) ([]events.ProtectionVM, error) {
	a.mu.Lock()
	s := a.srv
	a.mu.Unlock()
	if s == nil {
		return nil, errors.New("protection: the gateway is starting; ask again")
	}
	vms, err := s.protection(ctx)
	if err != nil {
		return nil, err
	}
	return protection.Filter(vms, req.Pool, req.States), nil
}
