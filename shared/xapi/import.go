package xapi

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
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
// before reading the body; the outcome is in the task.
//
// Cancelling ctx, or a read error from body (a stream that failed
// verification), resets the connection so XAPI destroys the partial import.
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

// headWait is how long an upload waits for XAPI's answer to its request
// head before it sends the body anyway (XAPI answers at once: see put).
const headWait = 30 * time.Second

// put sends one PUT, following XAPI's 302 to the pool member that sees the
// SR. XAPI's import handler decides (401, 302, 500, 403 for chunked, then
// 200) before it reads any of the body (xen-api ocaml/xapi/import.ml
// handler: the SR check and redirect, then "Http_svr.headers s headers",
// then stream_import). So the client sends the head, waits for that
// answer, and only then streams the body: a redirect costs no body byte,
// and the body is sent once, to the right host. This is what
// "Expect: 100-continue" would do, which XAPI's HTTP server does not speak;
// Xen Orchestra instead sends an empty probe PUT first, which XAPI answers
// with a failed import task on the right host.
func (c *Client) put(ctx context.Context, u *url.URL, body io.Reader, size int64) error {
	for hop := 0; ; hop++ {
		loc, err := c.putOnce(ctx, u, body, size)
		if err != nil || loc == nil {
			return err
		}
		if hop >= 2 {
			return fmt.Errorf("more than %d redirects, last to %s", hop+1, redactQuery(loc.String()))
		}
		if err := c.poolMember(ctx, loc); err != nil {
			return err
		}
		c.opts.logger.Debug("xapi: upload redirected to a pool member", "host", loc.Host)
		u = loc
	}
}

// putOnce writes one PUT request on a connection of its own and waits until
// the server has closed it (XAPI closes after the import handler returns).
// It returns the Location of a 302 answered before the body was sent.
func (c *Client) putOnce(ctx context.Context, u *url.URL, body io.Reader, size int64) (*url.URL, error) {
	conn, raw, err := c.dialHost(ctx, u)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { resetConn(raw, conn) })
	defer stop()

	length := size
	if size < 0 {
		length = unknownLength
	}
	head := "PUT " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUser-Agent: xbr\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
		strconv.FormatInt(length, 10) + "\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(conn, head); err != nil {
		return nil, firstErr(ctx.Err(), fmt.Errorf("send request: %w", err))
	}
	br := bufio.NewReader(conn)
	sent := make(chan error, 1)
	early := c.awaitHead(raw, br)
	if !early {
		go func() { sent <- sendBody(conn, raw, body, size) }()
	}
	resp, rerr := http.ReadResponse(br, nil)
	if rerr != nil {
		resetConn(raw, conn)
		return nil, firstErr(ctx.Err(), waitSent(sent, early), fmt.Errorf("read response: %w", rerr))
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusFound && early {
		loc, err := u.Parse(resp.Header.Get("Location"))
		if err != nil {
			return nil, fmt.Errorf("redirect: Location is not a URL")
		}
		return loc, nil
	}
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resetConn(raw, conn)
		_ = waitSent(sent, early)
		return nil, &httpStatusError{status: resp.Status, body: string(snippet), location: redactQuery(resp.Header.Get("Location"))}
	}
	if early {
		go func() { sent <- sendBody(conn, raw, body, size) }()
	}
	if err := <-sent; err != nil {
		return nil, firstErr(ctx.Err(), err)
	}
	_, _ = io.Copy(io.Discard, resp.Body) // ends when XAPI closes: the import is done; the task tells how
	return nil, ctx.Err()
}

// awaitHead waits up to headWait for the first byte of the answer to the
// request head; false means none came and the body must be sent anyway.
func (c *Client) awaitHead(raw net.Conn, br *bufio.Reader) bool {
	_ = raw.SetReadDeadline(time.Now().Add(headWait))
	_, err := br.Peek(1)
	_ = raw.SetReadDeadline(time.Time{})
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// waitSent returns the body sender's outcome when it was started.
func waitSent(sent chan error, early bool) error {
	if early {
		return nil
	}
	return <-sent
}

// sendBody writes the request head and body. A body read error resets the
// connection, so the server sees an abort rather than a clean end.
func sendBody(conn, raw net.Conn, body io.Reader, size int64) error {
	src := &errReader{r: body}
	var n int64
	var err error
	if size >= 0 {
		n, err = io.CopyN(conn, src, size)
	} else {
		n, err = io.Copy(conn, src)
	}
	switch {
	case src.err != nil && !errors.Is(src.err, io.EOF):
		resetConn(raw, conn)
		return fmt.Errorf("read body: %w", src.err)
	case size >= 0 && n < size && errors.Is(src.err, io.EOF):
		resetConn(raw, conn)
		return fmt.Errorf("body ended after %d of %d bytes", n, size)
	}
	if err != nil {
		return fmt.Errorf("send body after %d bytes: %w", n, err)
	}
	if size < 0 {
		// The end of the stream is the end of the body. XAPI may already
		// have read the tar's end and closed; the half-close then fails,
		// and the import's outcome is the task's either way.
		_ = closeWrite(conn, raw)
	}
	return nil
}

// errReader remembers the error of the body, to tell it from a write error.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil {
		e.err = err
	}
	return n, err
}

// dialHost opens a connection to u's host (TLS for https, trusted as
// tlsFor says). It returns the connection to use and the TCP one.
func (c *Client) dialHost(ctx context.Context, u *url.URL) (net.Conn, net.Conn, error) {
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	d := net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("connect: %w", err)
	}
	if u.Scheme != "https" {
		return raw, raw, nil
	}
	tc := tls.Client(raw, c.tlsFor(u.Host))
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
	}
	return tc, raw, nil
}

// closeWrite ends the body of unknown length: TLS close_notify, then a TCP
// half-close, leaving the read side open for the response.
func closeWrite(conn, raw net.Conn) error {
	if tc, ok := conn.(*tls.Conn); ok {
		if err := tc.CloseWrite(); err != nil {
			return fmt.Errorf("end body: %w", err)
		}
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		if err := tcp.CloseWrite(); err != nil {
			return fmt.Errorf("end body: %w", err)
		}
	}
	return nil
}

// resetConn aborts a connection with a TCP reset, so the server's read fails
// instead of seeing a clean end of stream.
func resetConn(raw, conn net.Conn) {
	if tcp, ok := raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
	_ = raw.Close()
}

// withTaskReason adds the task's error_info to a failed upload: after the
// 200 headers XAPI reports why it stopped reading only in the task.
func (c *Client) withTaskReason(ctx context.Context, task TaskRef, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
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

// httpStatusError is a non-200 reply to a transfer.
type httpStatusError struct {
	status, body, location string
}

func (e *httpStatusError) Error() string {
	if e.location != "" {
		return "HTTP " + e.status + " to " + e.location + " after the body had started (no answer to the request head in time)"
	}
	body := e.body
	// XAPI's 500 page ends with the exception that escaped the handler,
	// e.g. Server_error(NO_HOSTS_AVAILABLE, [ ]) for an SR no host sees.
	if i := strings.Index(body, "Server_error("); i >= 0 {
		body = strings.TrimSuffix(body[i:], "</body></html>")
	}
	return fmt.Sprintf("HTTP %s: %q", e.status, truncate(body, 200))
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
