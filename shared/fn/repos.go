package fn

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"xbr/shared/config"
	"xbr/shared/remote"
	"xbr/shared/repo"
)

// ErrNoRepository is wrapped by Repos.Open when a remote holds no incremental
// repository yet: readers (restore, verify, prune, listings) treat it as
// "no restore points".
var ErrNoRepository = errors.New("no incremental repository on this remote")

// Repos opens the incremental repositories (xbr-repo/) of the configured
// remotes, each once, with the key of the remote's encryption_key_file.
type Repos struct {
	cfg     []config.Remote
	remotes *Remotes
	opts    []repo.Option

	mu     sync.Mutex
	opened map[string]*repo.Repo
}

// NewRepos serves the repositories of the remotes cfg describes, reached
// through remotes; opts tune every repository opened.
func NewRepos(cfg []config.Remote, remotes *Remotes, opts ...repo.Option) *Repos {
	return &Repos{cfg: cfg, remotes: remotes, opts: opts, opened: map[string]*repo.Repo{}}
}

// Open returns the repository of remote name; an error wrapping
// ErrNoRepository when there is none, repo.ErrWrongKey when the configured
// key (or its absence) does not match it.
func (r *Repos) Open(ctx context.Context, name string) (*repo.Repo, error) {
	return r.get(ctx, name, false)
}

// Ensure returns the repository of remote name, creating it first when the
// remote holds none (with the remote's chunk_size and key): what a backup
// does on its first run.
func (r *Repos) Ensure(ctx context.Context, name string) (*repo.Repo, error) {
	return r.get(ctx, name, true)
}

func (r *Repos) get(ctx context.Context, name string, create bool) (*repo.Repo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rp, ok := r.opened[name]; ok {
		return rp, nil
	}
	c, ok := r.config(name)
	if !ok {
		return nil, fmt.Errorf("remote %q is not configured", name)
	}
	rm, err := r.remotes.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	key, err := remoteKey(c)
	if err != nil {
		return nil, err
	}
	rp, err := repo.Open(ctx, rm, key, r.opts...)
	if errors.Is(err, remote.ErrNotFound) && create {
		rp, err = repo.Init(ctx, rm, repo.InitOptions{ChunkSize: int(c.ChunkSize), Key: key}, r.opts...)
		rp, err = r.createdOrOpen(ctx, rm, key, rp, err)
	}
	if errors.Is(err, remote.ErrNotFound) {
		return nil, fmt.Errorf("remote %s: %w", name, ErrNoRepository)
	}
	if err != nil {
		return nil, err
	}
	r.opened[name] = rp
	return rp, nil
}

// createdOrOpen takes rp and err, the result of creating the repository on rm. When that
// failed, another process may have created it meanwhile, and that one is opened; when none
// exists, err (why this one was not created) is the error.
func (r *Repos) createdOrOpen(ctx context.Context, rm remote.Remote, key repo.Key, rp *repo.Repo, err error) (*repo.Repo, error) {
	if err == nil {
		return rp, nil
	}
	rp, oerr := repo.Open(ctx, rm, key, r.opts...)
	if errors.Is(oerr, remote.ErrNotFound) {
		return nil, err
	}
	return rp, oerr
}

func (r *Repos) config(name string) (config.Remote, bool) {
	for _, c := range r.cfg {
		if c.Name == name {
			return c, true
		}
	}
	return config.Remote{}, false
}

// remoteKey reads the remote's encryption key; the zero Key when it has none.
func remoteKey(c config.Remote) (repo.Key, error) {
	if c.EncryptionKeyFile == "" {
		return repo.Key{}, nil
	}
	k, err := repo.ReadKeyFile(c.EncryptionKeyFile)
	if err != nil {
		return repo.Key{}, fmt.Errorf("remote %s: encryption_key_file: %w", c.Name, err)
	}
	return k, nil
}
