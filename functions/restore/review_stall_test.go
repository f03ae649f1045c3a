package restore_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/restore"
	"xbr/shared/compress"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/remote"
	"xbr/shared/restoreclient"
	"xbr/shared/xapi/xapisim"
)

// stallingRemotes serves the env's remotes, but every backup read stops
// for good after `after` bytes (an NFS server or S3 endpoint that keeps the
// connection open and sends nothing more); a read heeds the context of
// its Open, as an S3 object's does.
type stallingRemotes struct {
	restoreclient.Remotes
	after int
}

func (s stallingRemotes) Get(ctx context.Context, name string) (remote.Remote, error) {
	r, err := s.Remotes.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	return stallingRemote{Remote: r, after: s.after}, nil
}

type stallingRemote struct {
	remote.Remote
	after int
}

func (s stallingRemote) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := s.Remote.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	return &stallingReader{ctx: ctx, rc: rc, left: s.after, closed: make(chan struct{})}, nil
}

type stallingReader struct {
	ctx    context.Context // the Open's, which S3 reads heed
	rc     io.ReadCloser
	left   int
	closed chan struct{}
}

func (r *stallingReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		select { // nothing more comes until the reader is closed or its context ends
		case <-r.closed:
			return 0, io.ErrClosedPipe
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	}
	p = p[:min(len(p), r.left)]
	n, err := r.rc.Read(p)
	r.left -= n
	return n, err
}

func (r *stallingReader) Close() error {
	select {
	case <-r.closed:
	default:
		close(r.closed)
	}
	return r.rc.Close()
}

// A backup whose read stops half-way (the remote keeps the connection open
// and sends nothing) must fail the restore in bounded time, as a pool that
// stops reading does (the pool's stall timeout, here 2 s), leaving no VM.
// Nothing bounds the backup's side: the restore runs until the process
// stops (and, with a read that does not heed the context, not even then:
// Import waits for its body sender), keeping one of the function's two
// restore slots and the pool's import open, and its status "running".
func TestRestoreOfABackupWhoseReadStallsEnds(t *testing.T) {
	e := newEnv(t, xapisim.Options{})
	vm := e.halted()
	id := e.writeBackup(vm, backupOpts{codec: compress.None})
	before := e.objects()
	user, pass := e.sim.Credentials()
	pools := fn.NewPools([]config.Pool{{Name: poolName, URL: e.url, Username: user, Password: config.NewSecret(pass),
		StallTimeout: 2 * time.Second}}, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { pools.Close(context.Background()) })
	h := restore.New(pools, stallingRemotes{Remotes: e.remotes, after: 1 << 20}, e.conn, events.Subjects{},
		restore.Options{HoldBack: 4096})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := h.Handle(ctx, request(t, restoreclient.Params{BackupID: id.String()}, 1))
		done <- err
	}()
	const bound = 30 * time.Second
	select {
	case <-done:
	case <-time.After(bound):
		cancel() // let the handler end before the env is torn down
		<-done
		t.Fatalf("restore of %s whose backup read stalled after 1 MiB: still running after %s (pool: %s, before: %s)",
			id, bound, e.objects(), before)
	}
	if got := e.objects(); got != before {
		t.Fatalf("a restore whose backup read stalled left objects: %s, before %s", got, before)
	}
}
