package app

import (
	"context"
	"fmt"
	"sync"

	"xbr/shared/config"
	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/s3"
)

// Remotes opens the configured remotes on first use.
type Remotes struct {
	cfg []config.Remote

	mu     sync.Mutex
	opened map[string]remote.Remote
}

// NewRemotes serves the remotes of cfg.
func NewRemotes(cfg []config.Remote) *Remotes {
	return &Remotes{cfg: cfg, opened: map[string]remote.Remote{}}
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
		rm, err := Open(ctx, c)
		if err != nil {
			return nil, err
		}
		r.opened[name] = rm
		return rm, nil
	}
	return nil, fmt.Errorf("remote %q is not configured", name)
}

// Open opens one configured remote.
func Open(ctx context.Context, c config.Remote) (remote.Remote, error) {
	switch c.Type {
	case config.RemoteDir:
		d, err := dir.New(c.Name, c.Path)
		if err != nil {
			return nil, fmt.Errorf("remote %s: %w", c.Name, err)
		}
		return d, nil
	case config.RemoteS3:
		b, err := s3.New(ctx, s3.Config{
			Name: c.Name, Endpoint: c.Endpoint, Bucket: c.Bucket, Prefix: c.Prefix,
			Region: c.Region, AccessKey: c.AccessKey.Reveal(), SecretKey: c.SecretKey.Reveal(),
		})
		if err != nil {
			return nil, fmt.Errorf("remote %s: %w", c.Name, err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("remote %s: unknown type %q", c.Name, c.Type)
}
