package fn

import (
	"context"
	"errors"

	"xbr/shared/repo"
)

// EnsureMirror returns the repository of remote name as a mirror target of
// src: the one there, or, when the remote holds none, one created as src's
// mirror (repo.InitMirror: src's chunk size, chunk ids and salt) with the
// remote's key, which must be src's. Whether an existing repository can
// take src's chunks is repo.Compatible's to say.
func (r *Repos) EnsureMirror(ctx context.Context, name string, src *repo.Repo) (*repo.Repo, error) {
	rp, err := r.Open(ctx, name)
	if !errors.Is(err, ErrNoRepository) {
		return rp, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, _ := r.config(name)
	rm, err := r.remotes.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	key, err := remoteKey(c)
	if err != nil {
		return nil, err
	}
	rp, err = repo.InitMirror(ctx, rm, src, key, r.opts...)
	rp, err = r.createdOrOpen(ctx, rm, key, rp, err)
	if err != nil {
		return nil, err
	}
	r.opened[name] = rp
	return rp, nil
}
