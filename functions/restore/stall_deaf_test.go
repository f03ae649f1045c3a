package restore_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"xbr/events"
	"xbr/functions/restore"
	"xbr/shared/bus"
	"xbr/shared/compress"
	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/remote"
	"xbr/shared/restoreclient"
	"xbr/shared/xapi/xapisim"
)

// deafRemotes serves the env's remotes, but every backup read stops after
// `after` bytes and then ignores cancellation and Close, as a read of a
// hard-mounted NFS server that has gone away: it returns only when the
// test releases it. hung is closed when a read first hangs.
type deafRemotes struct {
	restoreclient.Remotes
	after   int
	hung    chan struct{}
	once    *sync.Once
	release chan struct{}
}

func newDeafRemotes(t *testing.T, rs restoreclient.Remotes, after int) deafRemotes {
	d := deafRemotes{Remotes: rs, after: after, hung: make(chan struct{}), once: new(sync.Once), release: make(chan struct{})}
	t.Cleanup(func() { d.free() })
	return d
}

// free lets every hung read return.
func (d deafRemotes) free() {
	select {
	case <-d.release:
	default:
		close(d.release)
	}
}

func (d deafRemotes) Get(ctx context.Context, name string) (remote.Remote, error) {
	r, err := d.Remotes.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	return deafRemote{Remote: r, d: d}, nil
}

type deafRemote struct {
	remote.Remote
	d deafRemotes
}

func (r deafRemote) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := r.Remote.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	return &deafReader{rc: rc, left: r.d.after, d: r.d}, nil
}

type deafReader struct {
	rc   io.ReadCloser
	left int
	d    deafRemotes
}

func (r *deafReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		r.d.once.Do(func() { close(r.d.hung) })
		<-r.d.release
		return 0, errors.New("the NFS server came back too late")
	}
	p = p[:min(len(p), r.left)]
	n, err := r.rc.Read(p)
	r.left -= n
	return n, err
}

func (r *deafReader) Close() error { return r.rc.Close() }

// deafHandler is a restore handler whose backup reads go deaf after 1 MiB;
// the pool's stall timeout is stall.
func deafHandler(t *testing.T, e *env, stall time.Duration) (*restore.Handler, deafRemotes) {
	return deafHandlerAfter(t, e, stall, 1<<20)
}

// deafHandlerAfter is deafHandler whose reads go deaf after the given bytes
// of each object (0: at once, the backup's metadata included).
func deafHandlerAfter(t *testing.T, e *env, stall time.Duration, after int) (*restore.Handler, deafRemotes) {
	user, pass := e.sim.Credentials()
	pools := fn.NewPools([]config.Pool{{Name: poolName, URL: e.url, Username: user, Password: config.NewSecret(pass),
		StallTimeout: stall}}, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { pools.Close(context.Background()) })
	d := newDeafRemotes(t, e.remotes, after)
	return restore.New(pools, d, e.conn, events.Subjects{}, restore.Options{HoldBack: 4096}), d
}

// runHandle runs h on ev in a goroutine; its outcome comes on the channel.
func runHandle(ctx context.Context, h *restore.Handler, ev bus.Event) chan handled {
	done := make(chan handled, 1)
	go func() {
		outs, err := h.Handle(ctx, ev)
		done <- handled{outs, err}
	}()
	return done
}

type handled struct {
	outs []bus.Out
	err  error
}

// awaitStalled waits for the restore on done to fail saying the backup
// read stalled, within 30 s (its pool's stall timeout is 2 s), leaving
// objects as before; free lets hung reads return if it does not. what
// names the reads that stalled.
func awaitStalled(t *testing.T, e *env, done chan handled, before string, free func(), what string) {
	t.Helper()
	var got handled
	select {
	case got = <-done:
	case <-time.After(30 * time.Second):
		free()
		<-done
		t.Fatalf("a restore whose %s was still running after 30 s, with a 2 s stall timeout", what)
	}
	if got.err != nil || len(got.outs) != 1 {
		t.Fatalf("outcome: %d follow-ups, %v; want restore.failed", len(got.outs), got.err)
	}
	rec, err := events.Decode(got.outs[0].Subject, mustHeaders(t, got.outs[0]), got.outs[0].Event.Data())
	must(t, err)
	f, ok := rec.Payload.(events.RestoreFailed)
	if !ok || !strings.Contains(f.Error, "the backup read stalled") {
		t.Fatalf("outcome %+v: want restore.failed saying the backup read stalled", rec.Payload)
	}
	t.Logf("reason: %s", f.Error)
	if got := e.objects(); got != before {
		t.Fatalf("a restore whose %s left objects: %s, before %s", what, got, before)
	}
}

// awaitShutdown ends ctx (cancel) once a read hung, and wants the handler
// on done to return at once with an error (the bus redelivers), not when
// the read returns; free lets hung reads return if it does not.
func awaitShutdown(t *testing.T, done chan handled, hung chan struct{}, cancel, free func(), what string) {
	t.Helper()
	select {
	case <-hung:
	case <-time.After(30 * time.Second):
		t.Fatalf("the %s never hung", what)
	}
	cancel()
	select {
	case got := <-done:
		if got.err == nil || len(got.outs) != 0 {
			t.Fatalf("outcome on shutdown: %d follow-ups, %v; want an error (redelivery)", len(got.outs), got.err)
		}
	case <-time.After(10 * time.Second):
		free()
		<-done
		t.Fatalf("the handler was still running 10 s after its context ended, held by a hung %s", what)
	}
}

// A backup read that stalls and ignores cancellation (a hung NFS read)
// must still fail the restore once the pool's stall timeout has passed,
// with the reason, leaving no VM; the hung read must not hold the handler.
func TestBackupReadThatIgnoresCancellationFailsAsStalled(t *testing.T) {
	e := newEnv(t, xapisim.Options{})
	id := e.writeBackup(e.halted(), backupOpts{codec: compress.None})
	before := e.objects()
	h, d := deafHandler(t, e, 2*time.Second)
	done := runHandle(context.Background(), h, request(t, restoreclient.Params{BackupID: id.String()}, 1))
	awaitStalled(t, e, done, before, d.free, "backup read hung (ignoring cancellation)")
}

// Shutting down (the delivery's context ends) while a backup read hangs
// and ignores cancellation must end the handler at once, not when the
// read returns or the stall timeout passes.
func TestShutdownDoesNotWaitForAHungBackupRead(t *testing.T) {
	e := newEnv(t, xapisim.Options{})
	id := e.writeBackup(e.halted(), backupOpts{codec: compress.None})
	h, d := deafHandler(t, e, 10*time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := runHandle(ctx, h, request(t, restoreclient.Params{BackupID: id.String()}, 1))
	awaitShutdown(t, done, d.hung, cancel, d.free, "backup read")
}

// The reads before the transfer (the backup's metadata, its checksum file)
// are bounded as the transfer's are: a remote that hangs on the first read
// of the backup, ignoring cancellation, fails the restore once the pool's
// stall timeout has passed, with the reason, leaving no VM.
func TestMetadataReadThatHangsFailsAsStalled(t *testing.T) {
	e := newEnv(t, xapisim.Options{})
	id := e.writeBackup(e.halted(), backupOpts{codec: compress.None})
	before := e.objects()
	h, d := deafHandlerAfter(t, e, 2*time.Second, 0)
	done := runHandle(context.Background(), h, request(t, restoreclient.Params{BackupID: id.String()}, 1))
	awaitStalled(t, e, done, before, d.free, "read of the backup's metadata hung")
}
