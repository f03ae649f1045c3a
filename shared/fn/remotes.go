package fn

import (
	"context"
	"fmt"
	"sync"

	"xbr/shared/config"
	"xbr/shared/remote"
)

// Opener opens one configured remote. The assembly (`xbr serve`) gives the
// one that knows every remote kind, so a function links none of their
// implementations.
type Opener func(ctx context.Context, c config.Remote) (remote.Remote, error)

// Remotes opens the configured remotes on first use.
type Remotes struct {
	cfg  []config.Remote
	open Opener

	mu     sync.Mutex
	opened map[string]remote.Remote
}

// NewRemotes serves the remotes of cfg, each opened by open.
func NewRemotes(cfg []config.Remote, open Opener) *Remotes {
	return &Remotes{cfg: cfg, open: open, opened: map[string]remote.Remote{}}
}

// Names lists the configured remotes in order.
func (r *Remotes) Names() []string {
	out := make([]string, 0, len(r.cfg))
	for _, c := range r.cfg {
		out = append(out, c.Name)
	}
	return out
}

// Get opens (once) and returns the remote called name.
func (r *Remotes) Get(ctx context.Context, name string) (remote.Remote, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rm, ok := r.opened[name]; ok {
		return rm, nil
	}
	for _, c := range r.cfg {
		if c.Name != name {
			continue
		}
		rm, err := r.open(ctx, c)
		if err != nil {
			return nil, err
		}
		r.opened[name] = rm
		return rm, nil
	}
	return nil, fmt.Errorf("remote %q is not configured", name)
}
