package nbd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// DefaultTimeout is the idle timeout of each I/O step (Xen Orchestra's
// client uses 60 s too).
const DefaultTimeout = 60 * time.Second

// Config says where an export is and how to reach it: the fields of one
// VDI.get_nbd_info record, and the client's knobs.
type Config struct {
	Address    string // host:port
	ExportName string // holds the XAPI session: a secret, never logged
	// CertPEM is the server certificate get_nbd_info returns: the only
	// root trusted. ServerName (get_nbd_info's subject) must be one of its
	// names.
	CertPEM    string
	ServerName string
	// Insecure connects without TLS, for a pool whose NBD networks all
	// have the insecure_nbd purpose. CertPEM must then be empty.
	Insecure bool
	Timeout  time.Duration // idle timeout per I/O step; default DefaultTimeout
	Dialer   *net.Dialer   // default: a Dialer whose Timeout is Timeout
}

// Client is one NBD connection in the transmission phase. Its methods may
// be called from several goroutines; requests are sent one at a time.
type Client struct {
	conn    net.Conn
	export  Export
	timeout time.Duration

	mu     sync.Mutex // serialises requests and guards the fields below
	cookie uint64
	err    error // set once the connection is unusable
}

// tlsConfig trusts exactly the certificate get_nbd_info returned.
func (cfg Config) tlsConfig() (*tls.Config, error) {
	if cfg.Insecure {
		if cfg.CertPEM != "" {
			return nil, errors.New("nbd: Insecure is set but a certificate was given: the server uses TLS")
		}
		return nil, nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(cfg.CertPEM)) {
		return nil, fmt.Errorf("nbd: cert of %d bytes holds no PEM certificate", len(cfg.CertPEM))
	}
	if cfg.ServerName == "" {
		return nil, errors.New("nbd: ServerName (get_nbd_info's subject) is empty")
	}
	return &tls.Config{RootCAs: pool, ServerName: cfg.ServerName, MinVersion: tls.VersionTLS12}, nil
}

// Dial connects, negotiates TLS and the export, and returns a client ready
// to read. ctx bounds the whole handshake.
func Dial(ctx context.Context, cfg Config) (*Client, error) {
	tcfg, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	d := cfg.Dialer
	if d == nil {
		d = &net.Dialer{Timeout: timeout} // the connect is an I/O step too
	}
	conn, err := d.DialContext(ctx, "tcp", cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("nbd: dial %s: %w", cfg.Address, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	conn, exp, err := negotiate(ctx, conn, tcfg, cfg.ExportName)
	if err != nil {
		_ = conn.Close()
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return nil, fmt.Errorf("nbd: %s: %w", cfg.Address, err)
	}
	_ = conn.SetDeadline(time.Time{})
	return &Client{conn: conn, export: exp, timeout: timeout}, nil
}

// negotiate runs the handshake on conn; it returns the connection to use
// afterwards (the TLS one when tcfg is set).
func negotiate(ctx context.Context, conn net.Conn, tcfg *tls.Config, name string) (net.Conn, Export, error) {
	noZeroes, err := greet(conn)
	if err != nil {
		return conn, Export{}, err
	}
	if tcfg != nil {
		if err := option(conn, OptStartTLS); err != nil {
			return conn, Export{}, err
		}
		tc := tls.Client(conn, tcfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return conn, Export{}, fmt.Errorf("nbd TLS handshake with %q: %w", tcfg.ServerName, err)
		}
		conn = tc
	}
	exp, err := exportName(conn, name, noZeroes)
	return conn, exp, err
}

// Size is the export's size in bytes.
func (c *Client) Size() int64 { return c.export.Size }

// Export is what the server said of the export.
func (c *Client) Export() Export { return c.export }

// Read fills buf with the export's bytes from offset, in requests of at
// most MaxRequest bytes whose data go straight into buf. A server error
// is an *Error and leaves the connection usable; anything else (a broken
// frame, the idle timeout, ctx done) closes it.
func (c *Client) Read(ctx context.Context, offset int64, buf []byte) error {
	if offset < 0 || offset > c.export.Size || int64(len(buf)) > c.export.Size-offset {
		return fmt.Errorf("nbd %s offset %d length %d: outside the export of %d bytes",
			CommandName(CmdRead), offset, len(buf), c.export.Size)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return c.err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.conn.Close() })
	defer stop()
	for done := 0; done < len(buf); {
		n := min(len(buf)-done, MaxRequest)
		off := offset + int64(done)
		if err := c.read(off, buf[done:done+n]); err != nil {
			var se *Error
			if errors.As(err, &se) {
				return err
			}
			if ctx.Err() != nil {
				err = fmt.Errorf("%w (%w)", ctx.Err(), err)
			}
			return c.broken(fmt.Errorf("nbd %s offset %d length %d: %w", CommandName(CmdRead), off, n, err))
		}
		done += n
	}
	if !stop() { // ctx ended as the read completed: the connection is being closed
		c.err = fmt.Errorf("%w after: %w", ErrClosed, ctx.Err())
	}
	return nil
}

// read sends one READ request and reads its reply into p; c.mu is held.
func (c *Client) read(off int64, p []byte) error {
	c.cookie++
	cookie := c.cookie
	req := AppendRequest(nil, Request{Type: CmdRead, Cookie: cookie, Offset: uint64(off), Length: uint32(len(p))})
	_ = c.conn.SetDeadline(time.Now().Add(c.timeout))
	if _, err := c.conn.Write(req); err != nil {
		return err
	}
	var h [simpleReplyLen]byte
	r := &idleReader{conn: c.conn, timeout: c.timeout}
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return err
	}
	rep, err := parseSimpleReply(h[:])
	if err != nil {
		return err
	}
	if rep.cookie != cookie {
		return fmt.Errorf("reply cookie %d, want %d", rep.cookie, cookie)
	}
	if rep.errno != 0 {
		return &Error{Command: CommandName(CmdRead), Offset: off, Length: int64(len(p)), Errno: rep.errno}
	}
	_, err = io.ReadFull(r, p)
	return err
}

// broken closes the connection after err and remembers it; c.mu is held.
func (c *Client) broken(err error) error {
	c.err = fmt.Errorf("%w after: %w", ErrClosed, err)
	_ = c.conn.Close()
	return err
}

// Close sends NBD_CMD_DISC, which has no reply, and closes the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil
	}
	c.err = ErrClosed
	c.cookie++
	_ = c.conn.SetDeadline(time.Now().Add(c.timeout))
	_, werr := c.conn.Write(AppendRequest(nil, Request{Type: CmdDisc, Cookie: c.cookie}))
	if werr != nil {
		werr = fmt.Errorf("nbd %s: %w", CommandName(CmdDisc), werr)
	}
	return errors.Join(werr, c.conn.Close())
}

// idleReader extends the connection's deadline before every read, so the
// timeout bounds silence, not the length of a large read.
type idleReader struct {
	conn    net.Conn
	timeout time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	_ = r.conn.SetDeadline(time.Now().Add(r.timeout))
	return r.conn.Read(p)
}
