package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"xbr/shared/remote"
)

// Repo is an opened repository on a remote. It is safe for concurrent use.
type Repo struct {
	r     remote.Remote
	cfg   Config
	codec *codec
	opts  options
	// stored holds buffers for chunks as read from the remote; sealing those
	// for chunks as written (putChunk), with room for zstd's worst case and
	// the AEAD's nonce and tag, so that no chunk's compressed form is grown
	// by append, copied at each doubling.
	stored, sealing sync.Pool
	// fullZeroSum is the SHA-256 of a zero chunk of the chunk size.
	fullZeroSum func() [32]byte
}

// Option tunes a Repo; the zero set gives the defaults documented on each.
type Option func(*options)

type options struct {
	concurrency int
	staleAfter  time.Duration
	poll        time.Duration
	tempDir     string
	now         func() time.Time
	log         *slog.Logger
}

// WithConcurrency bounds the chunks one disk writer or reader moves at once (default 4).
func WithConcurrency(n int) Option { return func(o *options) { o.concurrency = max(1, n) } }

// WithStaleAfter is how long a backup's lease or a GC's sweep marker stays valid without
// being refreshed (default 10 minutes); they are refreshed every fifth of it.
func WithStaleAfter(d time.Duration) Option { return func(o *options) { o.staleAfter = d } }

// WithPoll is how often a backup waiting for a sweep looks again (default 2 seconds).
func WithPoll(d time.Duration) Option { return func(o *options) { o.poll = d } }

// WithTempDir is the local folder for the chunk-id spools of disk writers (default the
// system's temp folder).
func WithTempDir(dir string) Option { return func(o *options) { o.tempDir = dir } }

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// wallNow reads the clock as wall-clock time only. Go measures the time between two readings
// of time.Now by the monotonic clock, which stops while the host is suspended (a paused or
// suspended VM, a closed lid): a lease holder resumed after an hour would find its lease
// written moments ago, while every other host, judging by the remote's clock, has seen it
// lapse. The wall clock moves on through a suspend, as the remote's does.
func (o options) wallNow() time.Time { return o.now().Round(0) }

func newOptions(opts []Option) options {
	o := options{concurrency: 4, staleAfter: 10 * time.Minute, poll: 2 * time.Second,
		now: time.Now, log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// InitOptions chooses a new repository's parameters.
type InitOptions struct {
	// ChunkSize in bytes; 0 means DefaultChunkSize.
	ChunkSize int
	// Key encrypts the repository; the zero Key makes a plain one.
	Key Key
}

// Init creates the repository on r by writing config.json, and opens it. It refuses a remote
// that already holds one.
func Init(ctx context.Context, r remote.Remote, in InitOptions, opts ...Option) (*Repo, error) {
	o := newOptions(opts)
	if _, err := r.Stat(ctx, ConfigKey); err == nil {
		return nil, fmt.Errorf("repository on remote %s: %s exists already", r.Name(), ConfigKey)
	} else if !errors.Is(err, remote.ErrNotFound) {
		return nil, fmt.Errorf("repository on remote %s: %w", r.Name(), err)
	}
	if !in.Key.IsZero() {
		if err := refuseOrphanPoints(ctx, r); err != nil {
			return nil, err
		}
	}
	cfg, err := newConfig(in.ChunkSize, in.Key, o.now())
	if err != nil {
		return nil, err
	}
	data, err := jsonIndent(cfg)
	if err != nil {
		return nil, err
	}
	// Only one of several processes finding no repository may create it: with a key, each
	// would otherwise write its own salt, and points sealed under a lost one never open.
	if err := remote.PutNew(ctx, r, ConfigKey, data); errors.Is(err, remote.ErrExists) {
		return nil, fmt.Errorf("repository on remote %s: %s exists already (another process created it)", r.Name(), ConfigKey)
	} else if err != nil {
		return nil, fmt.Errorf("repository on remote %s: write config: %w", r.Name(), err)
	}
	return Open(ctx, r, in.Key, opts...)
}

// refuseOrphanPoints refuses to create an encrypted repository where restore points of one
// whose config.json is gone remain: its salt, which config.json alone held, derives their
// keys, so a new salt would leave them unreadable for good (and putting the old config.json
// back, from a mirror target, would then lose the points written since).
func refuseOrphanPoints(ctx context.Context, r remote.Remote) error {
	infos, err := r.List(ctx, vmsPrefix)
	if err != nil {
		return fmt.Errorf("repository on remote %s: %w", r.Name(), err)
	}
	for _, in := range infos {
		if p, ok := parseManifestKey(in.Key); ok {
			return fmt.Errorf("repository on remote %s: %s is missing, but restore points of a repository remain (%s): "+
				"put its config.json back (a mirror target holds a copy) rather than create a new one over them", r.Name(), ConfigKey, p)
		}
	}
	return nil
}

// Open opens the repository on r with key k (the zero Key for a plain repository). A wrong
// key fails with an error wrapping ErrWrongKey.
func Open(ctx context.Context, r remote.Remote, k Key, opts ...Option) (*Repo, error) {
	rc, err := r.Open(ctx, ConfigKey)
	if err != nil {
		return nil, fmt.Errorf("repository on remote %s: %w", r.Name(), err)
	}
	defer rc.Close()
	cfg, err := ParseConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("repository on remote %s: %w", r.Name(), err)
	}
	o := newOptions(opts)
	c, err := cfg.codec(k, o.concurrency)
	if err != nil {
		return nil, fmt.Errorf("repository on remote %s: %w", r.Name(), err)
	}
	rp := &Repo{r: r, cfg: cfg, codec: c, opts: o}
	rp.fullZeroSum = sync.OnceValue(func() [32]byte { return sha256.Sum256(make([]byte, cfg.ChunkSize)) })
	rp.stored.New = func() any { return new(bytes.Buffer) }
	rp.sealing.New = func() any { b := make([]byte, 0, rp.cfg.ChunkSize+rp.cfg.ChunkSize>>7+1024); return &b }
	return rp, nil
}

// Config is the repository's configuration.
func (rp *Repo) Config() Config { return rp.cfg }

// Remote is the remote the repository lives on.
func (rp *Repo) Remote() remote.Remote { return rp.r }

// putChunk stores data as chunk id through batch unless it is there; it returns the bytes it
// stored. A chunk found there is durable once batch's Barrier returns, as one stored is.
func (rp *Repo) putChunk(ctx context.Context, batch remote.Batch, id ChunkID, data []byte) (int64, error) {
	_, err := batch.Stat(ctx, chunkKey(id))
	if err == nil || !errors.Is(err, remote.ErrNotFound) {
		return 0, err
	}
	buf := rp.sealing.Get().(*[]byte)
	defer rp.sealing.Put(buf)
	sealed, err := rp.codec.seal(*buf, id, data)
	if err != nil {
		return 0, err
	}
	*buf = sealed[:0] // Put keeps nothing once it returns
	return int64(len(sealed)), batch.Put(ctx, chunkKey(id), sealed)
}

// getChunk reads, decrypts, decompresses and checks chunk id into dst. A missing chunk wraps
// remote.ErrNotFound, a damaged one ErrCorrupt.
func (rp *Repo) getChunk(ctx context.Context, id ChunkID, dst []byte) ([]byte, error) {
	rc, err := rp.r.Open(ctx, chunkKey(id))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b := rp.stored.Get().(*bytes.Buffer)
	defer rp.stored.Put(b)
	b.Reset()
	limit := int64(rp.cfg.ChunkSize) + 1<<16
	if n, err := b.ReadFrom(io.LimitReader(rc, limit+1)); err != nil {
		return nil, err
	} else if n > limit {
		return nil, fmt.Errorf("%w: stored chunk larger than %d bytes", ErrCorrupt, limit)
	}
	return rp.codec.open(dst, id, b.Bytes())
}

// readChunk is getChunk checked as a manifest entry names the chunk: want bytes long and,
// when ids are keyed, with the SHA-256 sum recorded beside the id (a plain id is that
// SHA-256, which getChunk checks). Errors wrap ErrCorrupt or remote.ErrNotFound.
func (rp *Repo) readChunk(ctx context.Context, id ChunkID, sum [32]byte, want int, dst []byte) ([]byte, error) {
	data, err := rp.getChunk(ctx, id, dst)
	if err != nil {
		return nil, err
	}
	if len(data) != want {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrCorrupt, len(data), want)
	}
	if rp.keyed() {
		if got := sha256.Sum256(data); got != sum {
			return nil, fmt.Errorf("%w: content's SHA-256 is %x, the manifest records %x", ErrCorrupt, got, sum)
		}
	}
	return data, nil
}

// keyed reports whether chunk ids are keyed (an encrypted repository): a chunk's id is then
// not its SHA-256, which manifests record beside it.
func (rp *Repo) keyed() bool { return rp.codec.idKey != nil }

// zeroSum is the SHA-256 of a zero chunk of n bytes.
func (rp *Repo) zeroSum(n int) [32]byte {
	if n == rp.cfg.ChunkSize {
		return rp.fullZeroSum()
	}
	return sha256.Sum256(make([]byte, n))
}

// ChunkID is the id the repository gives a chunk with content data.
func (rp *Repo) ChunkID(data []byte) ChunkID { return rp.codec.id(data) }
