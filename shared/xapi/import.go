package xapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"xbr/shared/xapi/xmlrpc"
)

// unknownLength is the Content-Length announced for a body of unknown size,
// as Xen Orchestra does (1 PiB): /import rejects chunked encoding, and XAPI
// reads the tar stream to its end rather than Content-Length bytes.
const unknownLength = 1 << 50

// ImportOptions tune Import.
type ImportOptions struct {
	// SR receives the disks; empty means the pool's default SR.
	SR SRRef
	// Restore keeps the VM's uuid and MAC addresses (XAPI's restore=true).
	Restore bool
}

// Import uploads an XVA (plain, gzip or zstd: XAPI detects it) with
// PUT /import and returns the new VM. The body is streamed, never buffered.
// size is the body's length, or -1 when unknown.
//
// XAPI refuses chunked transfer encoding, so the request is written by hand:
// with Content-Length size, or, for an unknown size, with a huge
// Content-Length and the write side closed after the body. XAPI answers 200
// before reading the body; the outcome is in the task. An SR that only
// another host of the pool sees gets a 302 there, answered before the body
// is sent (see put), so the body goes once, to that host.
//
// Cancelling ctx, or a read error from body (a stream that failed
// verification), resets the connection so XAPI destroys the partial import.
// So does a stall (ErrStalled, see WithStallTimeout): a host that reads
// nothing of the body for the stall timeout, that stops that long in the
// middle of its answer (a head or an error page cut short), or that, once
// it has the whole body, says nothing for that long without closing the
// connection (XAPI closes as soon as it has finished the import).
// Whenever Import returns an error it also destroys any VM the import created.
func (c *Client) Import(ctx context.Context, body io.Reader, size int64, opts ImportOptions) (VMRef, error) {
	if size < -1 {
		return "", fmt.Errorf("import: size %d is not a length or -1", size)
	}
	task, err := c.CreateTask(ctx, "xbr import", "")
	if err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	vm, err := c.importUnder(ctx, task, body, size, opts)
	if err != nil {
		c.cleanupImport(ctx, task)
		return "", fmt.Errorf("import: %w", err)
	}
	return vm, nil
}

func (c *Client) importUnder(ctx context.Context, task TaskRef, body io.Reader, size int64, opts ImportOptions) (VMRef, error) {
	q := url.Values{"session_id": {c.Session()}, "task_id": {string(task)}}
	if opts.SR != "" {
		q.Set("sr_id", string(opts.SR))
	}
	if opts.Restore {
		q.Set("restore", "true")
	}
	if err := c.put(ctx, c.endpoint("/import", q), body, size); err != nil {
		return "", c.withTaskReason(ctx, task, err)
	}
	res, err := c.WaitTask(ctx, task)
	if err != nil {
		return "", err
	}
	refs, err := ParseTaskRefs(res)
	if err != nil {
		return "", err
	}
	if len(refs) == 0 {
		return "", errors.New("the task created no VM")
	}
	return VMRef(refs[0]), nil
}

// withTaskReason adds the task's error_info to a failed upload: after the
// 200 headers XAPI reports why it stopped reading only in the task. A host
// that stalled has no reason to give: its task is still pending.
func (c *Client) withTaskReason(ctx context.Context, task TaskRef, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, ErrStalled) {
		return err
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outcomeWait)
	defer cancel()
	rec, terr := c.awaitTask(wctx, task)
	if terr != nil {
		return err
	}
	var xe *Error
	if _, _, oerr := taskOutcome(task, rec); errors.As(oerr, &xe) {
		return fmt.Errorf("%w: %w", err, xe)
	}
	return err
}

// cleanupImport cancels a failed import's task and destroys any VM it
// created anyway (the body may have been complete when the client gave up).
func (c *Client) cleanupImport(ctx context.Context, task TaskRef) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := c.CancelTask(cctx, task); err != nil && !IsCode(err, CodeHandleInvalid) {
		c.opts.logger.Debug("xapi: cancel import task", "task", string(task), "error", err)
	}
	res, err := c.WaitTask(cctx, task)
	if err != nil {
		return // failed or cancelled: XAPI removed what it had created
	}
	refs, _ := ParseTaskRefs(res)
	for _, r := range refs {
		if err := c.DestroyVM(cctx, VMRef(r)); err != nil {
			c.opts.logger.Warn("xapi: could not remove the VM of an aborted import", "vm", string(r), "error", err)
		}
	}
}

// httpStatusError is a non-200 reply to a transfer; err is set when the
// host stalled before the start of its page had come.
type httpStatusError struct {
	status, body, location string
	err                    error
}

func (e *httpStatusError) Error() string {
	msg := ""
	if e.location != "" {
		msg = "HTTP " + e.status + " to " + e.location + " after the body had started (no answer to the request head in time)"
	} else {
		body := e.body
		// XAPI's 500 page ends with the exception that escaped the handler,
		// e.g. Server_error(NO_HOSTS_AVAILABLE, [ ]) for an SR no host sees.
		if i := strings.Index(body, "Server_error("); i >= 0 {
			body = strings.TrimSuffix(body[i:], "</body></html>")
		}
		msg = fmt.Sprintf("HTTP %s: %q", e.status, xmlrpc.Excerpt(body))
	}
	if e.err != nil {
		msg += "; " + e.err.Error()
	}
	return msg
}

func (e *httpStatusError) Unwrap() error { return e.err }

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
