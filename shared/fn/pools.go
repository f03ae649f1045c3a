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

	mu      sync.Mutex
	clients map[string]*xapi.Client
}

// NewPools serves the pools of cfg.
func NewPools(cfg []config.Pool, log *slog.Logger) *Pools {
	return &Pools{cfg: cfg, log: log, clients: map[string]*xapi.Client{}}
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
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[name]; ok {
		return c, nil
	}
	pc, ok := p.find(name)
	if !ok {
		return nil, fmt.Errorf("pool %q is not configured", name)
	}
	opts := []xapi.Option{xapi.WithLogger(p.log), xapi.WithTransport(xapi.Auto)} // JSON-RPC where served: cheaper to decode
	if pc.TLSFingerprint != "" {
		opts = append(opts, xapi.WithFingerprint(pc.TLSFingerprint))
	}
	for _, pin := range pc.HostFingerprints {
		opts = append(opts, xapi.WithHostFingerprint(pin.Address, pin.Fingerprint))
	}
	if pc.Insecure {
		opts = append(opts, xapi.WithInsecure())
	}
	c, err := xapi.New(pc.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("pool %s: %w", name, err)
	}
	if err := c.Login(ctx, pc.Username, pc.Password.Reveal()); err != nil {
		return nil, fmt.Errorf("pool %s: login as %s: %w", name, pc.Username, err)
	}
	p.clients[name] = c
	return c, nil
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
	defer p.mu.Unlock()
	for name, c := range p.clients {
		if err := c.Logout(ctx); err != nil {
			p.log.Warn("xapi logout failed", "pool", name, "err", err)
		}
		delete(p.clients, name)
	}
}
