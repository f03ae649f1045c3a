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
	"os"
	"strconv"
	"time"
)

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
// Xen Orchestra instead sends an empty probe PUT first; when no redirect
// comes, XAPI starts an import on it that fails for want of a body.
// The first byte of the answer to the head is awaited for headWait; each
// write of the body and each read of the answer once it has begun or once
// the body is sent (the rest of a head or an error page, the answer after
// the body, the close) get the stall timeout (see putOnce).
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
// It returns the Location of a 302 answered before the body was sent,
// without waiting for the rest of that answer.
// Once its answer has begun, the host gets the stall timeout after each
// byte to say more (to finish a head or an error page) or to close; once
// the body has been sent, it gets as long to begin its answer. XAPI writes
// its head in one go and closes once it has finished the import, so a host
// (or a middlebox) that holds the connection silent that long has hung.
// The body may stream for hours: while it does, no read of the answer is
// bounded but the rest of one already begun.
func (c *Client) putOnce(ctx context.Context, u *url.URL, body io.Reader, size int64) (*url.URL, error) {
	conn, raw, err := c.dialHost(ctx, u)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { resetConn(raw, conn) })
	defer stop()

	if _, err := io.WriteString(conn, requestHead(u, size)); err != nil {
		return nil, firstErr(ctx.Err(), fmt.Errorf("send request: %w", err))
	}
	ans := &answerReader{conn: conn, raw: raw, timeout: c.opts.stall}
	br := bufio.NewReader(ans)
	sent := make(chan error, 1)
	send := func() { go func() { sent <- c.sendBody(conn, raw, body, size, ans) }() }
	early := c.awaitHead(raw, br)
	if !early {
		send()
	}
	resp, rerr := http.ReadResponse(br, nil)
	if rerr != nil {
		resetConn(raw, conn)
		return nil, firstErr(ctx.Err(), ans.headErr(rerr, waitSent(sent, early)))
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusFound && early {
		// Closed first, so that resp.Body.Close does not wait for the rest
		// of a page (a keep-alive answer with a length) of no use here.
		_ = conn.Close()
		loc, err := u.Parse(resp.Header.Get("Location"))
		if err != nil {
			return nil, fmt.Errorf("redirect: Location is not a URL")
		}
		return loc, nil
	}
	if resp.StatusCode != http.StatusOK {
		err := ans.statusErr(resp)
		resetConn(raw, conn)
		_ = waitSent(sent, early)
		return nil, err
	}
	if early {
		send()
	}
	if err := <-sent; err != nil {
		return nil, firstErr(ctx.Err(), err)
	}
	// Ends when XAPI closes: the import is done; the task tells how.
	if _, err := io.Copy(io.Discard, resp.Body); errors.Is(err, os.ErrDeadlineExceeded) {
		resetConn(raw, conn)
		return nil, firstErr(ctx.Err(), ans.readErr("wait for the close", err))
	}
	return nil, ctx.Err()
}

// requestHead is the head of a PUT to u of a body of size bytes (-1:
// unknown, see unknownLength).
func requestHead(u *url.URL, size int64) string {
	if size < 0 {
		size = unknownLength
	}
	return "PUT " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nUser-Agent: xbr\r\nContent-Type: application/octet-stream\r\nContent-Length: " +
		strconv.FormatInt(size, 10) + "\r\nConnection: close\r\n\r\n"
}

// awaitHead waits up to headWait (c.opts.headWait) for the first byte of
// the answer to the request head; false means none came and the body must
// be sent anyway.
func (c *Client) awaitHead(raw net.Conn, br *bufio.Reader) bool {
	_ = raw.SetReadDeadline(time.Now().Add(c.opts.headWait))
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

// sendBody writes the request body. A body read error resets the
// connection, so the server sees an abort rather than a clean end; so does
// a host that reads nothing for the stall timeout, which also ends a wait
// for its answer. Once the whole body is sent it arms ans.
func (c *Client) sendBody(conn, raw net.Conn, body io.Reader, size int64, ans *answerReader) error {
	src := &errReader{r: body}
	dst := &stallWriter{conn: conn, raw: raw, timeout: c.opts.stall}
	var n int64
	var err error
	if size >= 0 {
		n, err = io.CopyN(dst, src, size)
	} else {
		n, err = io.Copy(dst, src)
	}
	switch {
	case src.err != nil && !errors.Is(src.err, io.EOF):
		resetConn(raw, conn)
		return fmt.Errorf("read body: %w", src.err)
	case size >= 0 && n < size && errors.Is(src.err, io.EOF):
		resetConn(raw, conn)
		return fmt.Errorf("body ended after %d of %d bytes", n, size)
	case errors.Is(err, os.ErrDeadlineExceeded):
		resetConn(raw, conn)
		return fmt.Errorf("send body: the host read nothing for %v after %d bytes (%w)", c.opts.stall, n, ErrStalled)
	}
	if err != nil {
		return fmt.Errorf("send body after %d bytes: %w", n, err)
	}
	_ = raw.SetWriteDeadline(time.Time{})
	if size < 0 {
		// The end of the stream is the end of the body. XAPI may already
		// have read the tar's end and closed; the half-close then fails,
		// and the import's outcome is the task's either way.
		_ = closeWrite(conn, raw)
	}
	ans.arm()
	return nil
}

// stallWriter gives each write to the host the stall timeout to make
// progress (0: no bound), as the read side of an NBD client bounds
// silence: the deadline moves with every write, so a long upload is fine
// and only a host that stops reading fails it.
type stallWriter struct {
	conn, raw net.Conn
	timeout   time.Duration
}

func (w *stallWriter) Write(p []byte) (int, error) {
	if w.timeout > 0 {
		_ = w.raw.SetWriteDeadline(time.Now().Add(w.timeout))
	}
	return w.conn.Write(p)
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
