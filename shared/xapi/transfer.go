package xapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"xbr/shared/xapi/xmlrpc"
)

// ExportOptions tune Export.
type ExportOptions struct {
	// Compression is "" (none), "gzip" or "zstd". XAPI compresses the whole
	// tar and says so in no header; readers detect it by magic.
	Compression string
}

// outcomeWait bounds how long a failed request waits for its task to record
// the reason.
const outcomeWait = 5 * time.Second

// Export streams the XVA of a halted or suspended VM, or of a snapshot
// (GET /export). A running VM fails with VM_BAD_POWER_STATE. The returned
// Transfer must be read to the end and closed; see Transfer.
func (c *Client) Export(ctx context.Context, vm VMRef, opts ExportOptions) (*Transfer, error) {
	q := url.Values{"ref": {string(vm)}}
	switch opts.Compression {
	case "":
		q.Set("use_compression", "false")
	case "gzip":
		q.Set("use_compression", "true") // "true" is what every XAPI version knows as gzip
	case "zstd":
		q.Set("use_compression", "zstd")
	default:
		return nil, fmt.Errorf("export %s: compression %q is not one of \"\", gzip, zstd", vm, opts.Compression)
	}
	return c.download(ctx, "/export", q, "export "+string(vm))
}

// ExportRawVDI streams a disk's full virtual_size bytes
// (GET /export_raw_vdi?format=raw). See Transfer.
func (c *Client) ExportRawVDI(ctx context.Context, vdi VDIRef) (*Transfer, error) {
	q := url.Values{"vdi": {string(vdi)}, "format": {"raw"}}
	return c.download(ctx, "/export_raw_vdi", q, "export disk "+string(vdi))
}

// ExportVHD streams a disk as a dynamic VHD holding only its allocated
// blocks (GET /export_raw_vdi?format=vhd, no base; read it with package
// vhd). XAPI refuses it with VDI_TOO_LARGE above vhd.MaxSize. See Transfer.
func (c *Client) ExportVHD(ctx context.Context, vdi VDIRef) (*Transfer, error) {
	q := url.Values{"vdi": {string(vdi)}, "format": {"vhd"}}
	return c.download(ctx, "/export_raw_vdi", q, "export disk "+string(vdi)+" as vhd")
}

// download runs a GET transfer under a task of its own, logging in again
// once if the session was refused (401).
func (c *Client) download(ctx context.Context, path string, q url.Values, what string) (*Transfer, error) {
	for attempt := 0; ; attempt++ {
		sess := c.Session()
		if sess == "" {
			return nil, fmt.Errorf("%s: %w", what, ErrNotLoggedIn)
		}
		t, status, err := c.tryDownload(ctx, path, q, what)
		if status == http.StatusUnauthorized && attempt == 0 {
			if _, lerr := c.relogin(ctx, sess); lerr == nil {
				continue
			}
		}
		return t, err
	}
}

func (c *Client) tryDownload(ctx context.Context, path string, q url.Values, what string) (*Transfer, int, error) {
	task, err := c.CreateTask(ctx, "xbr "+what, "")
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", what, err)
	}
	q.Set("session_id", c.Session())
	q.Set("task_id", string(task))
	// The request has a context of its own, which the guard ends when the
	// host leaves it waiting too long.
	rctx, cancel := context.WithCancel(ctx)
	guard := newStallGuard(c.opts.stall, cancel)
	resp, err := c.get(rctx, guard, c.endpoint(path, q).String())
	if err != nil {
		guard.release()
		c.abandonTask(ctx, task)
		if ctx.Err() == nil && guard.stalled() {
			return nil, 0, stallError(what, c.opts.stall)
		}
		return nil, 0, fmt.Errorf("%s: %w", what, stripURL(err))
	}
	if resp.StatusCode != http.StatusOK {
		guard.start()
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		guard.release()
		return nil, resp.StatusCode, c.httpFailure(ctx, what, resp.Status, snippet, task)
	}
	return &Transfer{c: c, ctx: ctx, body: resp.Body, task: task, what: what, guard: guard}, resp.StatusCode, nil
}

// get sends a GET and waits for the response head under guard.
func (c *Client) get(ctx context.Context, guard *stallGuard, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	guard.start()
	defer guard.stop()
	return c.hc.Do(req)
}

// httpFailure explains a non-200 reply, with the task's error_info when XAPI
// recorded one (e.g. VM_BAD_POWER_STATE behind a 500).
func (c *Client) httpFailure(ctx context.Context, what, status string, body []byte, task TaskRef) error {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outcomeWait)
	defer cancel()
	_, terr := c.WaitTask(wctx, task)
	var xe *Error
	if errors.As(terr, &xe) {
		return fmt.Errorf("%s: HTTP %s: %w", what, status, xe)
	}
	return fmt.Errorf("%s: HTTP %s: %q", what, status, xmlrpc.Excerpt(string(body)))
}

// abandonTask cancels and destroys a task whose transfer never started.
func (c *Client) abandonTask(ctx context.Context, task TaskRef) {
	c.cancelTask(ctx, task)
	c.destroyTask(ctx, task)
}

// Transfer is a streaming download. XAPI can fail after it has sent the 200
// headers; the failure is then only in the task, and the body just ends. So
// Read does not return io.EOF until the task has succeeded: when the body
// ends, Read waits for the task and returns its error instead of io.EOF if it
// failed. Nothing is buffered beyond what the caller reads. A Read that
// waits for the host longer than the stall timeout (WithStallTimeout), or a
// response head that long in coming, fails with ErrStalled; Close then
// cancels the task.
type Transfer struct {
	c     *Client
	ctx   context.Context // the caller's; the request's own derives from it
	body  io.ReadCloser
	task  TaskRef
	what  string
	guard *stallGuard // times each read; ends the request on a stall

	eof atomic.Bool // the body reached its end

	mu     sync.Mutex // serialises Wait, which Close may call from another goroutine
	waited bool       // the task outcome is known
	err    error      // the task outcome
}

var _ io.ReadCloser = (*Transfer)(nil)

// Task returns the XAPI task that tracks the transfer.
func (t *Transfer) Task() TaskRef { return t.task }

// Read reads the stream; see Transfer for how the end is reported.
func (t *Transfer) Read(p []byte) (int, error) {
	if t.eof.Load() {
		if err := t.Wait(t.ctx); err != nil {
			return 0, err
		}
		return 0, io.EOF
	}
	t.guard.start()
	n, err := t.body.Read(p)
	t.guard.stop()
	switch {
	case err != nil && err != io.EOF && t.ctx.Err() == nil && t.guard.stalled():
		// Not the task's outcome: the host has stopped. Close cancels the task.
		return n, stallError(t.what, t.c.opts.stall)
	case err == io.EOF:
		t.eof.Store(true)
		if werr := t.Wait(t.ctx); werr != nil {
			return n, werr
		}
		return n, io.EOF
	case err != nil:
		return n, t.readFailure(err)
	}
	return n, nil
}

// readFailure adds the task's reason to a broken stream's error.
func (t *Transfer) readFailure(readErr error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), outcomeWait)
	defer cancel()
	if t.ctx.Err() != nil {
		return t.ctx.Err()
	}
	if werr := t.Wait(ctx); werr != nil {
		return fmt.Errorf("%s: %w (%w)", t.what, werr, readErr)
	}
	return fmt.Errorf("%s: %w", t.what, readErr)
}

// Wait waits for the task's outcome (after the body has been read) and
// destroys the task. It returns nil on success, the task's *Error otherwise.
func (t *Transfer) Wait(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.waited {
		return t.err
	}
	_, err := t.c.WaitTask(ctx, t.task)
	if ctx.Err() != nil && err == ctx.Err() {
		return err // not an outcome: the caller may Wait again
	}
	t.waited = true
	if err != nil {
		t.err = fmt.Errorf("%s: %w", t.what, err)
	}
	return t.err
}

// Close closes the stream. After the body was read to its end it returns the
// task's outcome. Closing earlier aborts the transfer: the task is cancelled
// and cleaned up, and Close returns nil.
func (t *Transfer) Close() error {
	_ = t.body.Close() // the outcome is the task's, not the socket's
	t.guard.release()
	if t.eof.Load() {
		return t.Wait(t.ctx)
	}
	t.mu.Lock()
	waited := t.waited
	t.mu.Unlock()
	if !waited {
		t.c.cancelTask(t.ctx, t.task)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), outcomeWait)
		defer cancel()
		_ = t.Wait(ctx) // destroys the task once it has stopped
	}
	return nil
}
