package fn

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"xbr/shared/config"
	"xbr/shared/xapi"
)

// Pools hands out logged-in XAPI clients, one per configured pool, created on
// first use and shared by every handler of the process.
type Pools struct {
	cfg []config.Pool
	log *slog.Logger

	mu    sync.Mutex
	pools map[string]*poolClient
}

// poolClient is one pool's client, made under its own lock: a pool whose
// login hangs (its master is down) holds up only its own callers.
type poolClient struct {
	mu sync.Mutex
	c  *xapi.Client
}

// NewPools serves the pools of cfg.
func NewPools(cfg []config.Pool, log *slog.Logger) *Pools {
	return &Pools{cfg: cfg, log: log, pools: map[string]*poolClient{}}
}

// Names lists the configured pools in order.
func (p *Pools) Names() []string {
	out := make([]string, 0, len(p.cfg))
	for _, c := range p.cfg {
		out = append(out, c.Name)
	}
	return out
}

// Client returns the logged-in client of pool name.
func (p *Pools) Client(ctx context.Context, name string) (*xapi.Client, error) {
	pc, ok := p.find(name)
	if !ok {
		return nil, fmt.Errorf("pool %q is not configured", name)
	}
	p.mu.Lock()
	e := p.pools[name]
	if e == nil {
		e = &poolClient{}
		p.pools[name] = e
	}
	p.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.c != nil {
		return e.c, nil
	}
	c, err := xapi.New(pc.URL, clientOptions(pc, p.log)...)
	if err != nil {
		return nil, fmt.Errorf("pool %s: %w", name, err)
	}
	if err := c.Login(ctx, pc.Username, pc.Password.Reveal()); err != nil {
		return nil, fmt.Errorf("pool %s: login as %s: %w", name, pc.Username, err)
	}
	e.c = c
	return c, nil
}

// clientOptions are the options of the client of pool pc.
func clientOptions(pc config.Pool, log *slog.Logger) []xapi.Option {
	opts := []xapi.Option{xapi.WithLogger(log), xapi.WithTransport(xapi.Auto)} // JSON-RPC where served: cheaper to decode
	if pc.TLSFingerprint != "" {
		opts = append(opts, xapi.WithFingerprint(pc.TLSFingerprint))
	}
	for _, pin := range pc.HostFingerprints {
		opts = append(opts, xapi.WithHostFingerprint(pin.Address, pin.Fingerprint))
	}
	if pc.Insecure {
		opts = append(opts, xapi.WithInsecure())
	}
	if pc.StallTimeout != 0 { // 0: a Pool built in code, not defaulted; the client's default
		opts = append(opts, xapi.WithStallTimeout(pc.StallTimeout))
	}
	return opts
}

func (p *Pools) find(name string) (config.Pool, bool) {
	for _, c := range p.cfg {
		if c.Name == name {
			return c, true
		}
	}
	return config.Pool{}, false
}

// Close logs every client out.
func (p *Pools) Close(ctx context.Context) {
	p.mu.Lock()
	pools := p.pools
	p.pools = map[string]*poolClient{}
	p.mu.Unlock()
	for name, e := range pools {
		e.mu.Lock()
		if e.c != nil {
			if err := e.c.Logout(ctx); err != nil {
				p.log.Warn("xapi logout failed", "pool", name, "err", err)
			}
			e.c = nil
		}
		e.mu.Unlock()
	}
}
