package xapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"xbr/shared/redact"
)

// Client talks to one XAPI host. It is safe for concurrent use; all calls
// share one session.
type Client struct {
	base   atomic.Pointer[url.URL] // the master: scheme, host and optional path prefix; never credentials
	origin *url.URL                // the configured URL, whose certificate the options pin
	opts   options
	hc     *http.Client
	rpcID  atomic.Int64
	tr     atomic.Int32 // the Transport in use; Auto until Login picks one

	vmCache vmCache // CachedVMs's view of the pool

	poolMu  sync.Mutex          // guards members
	members map[string][][]byte // pool host address -> SHA-256 of its published certificates

	mu       sync.Mutex // guards the fields below
	session  string
	user     string
	password string // kept only to re-login; never logged or put in errors
}

// New returns a client for the XAPI at rawURL ("https://host" or
// "http://host:port"). It does not connect; call Login.
func New(rawURL string, opts ...Option) (*Client, error) {
	base, err := parseBase(rawURL)
	if err != nil {
		return nil, err
	}
	o := defaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("xapi %s: %w", base.Redacted(), err)
		}
	}
	c := &Client{origin: base, opts: o, hc: o.httpClient, members: map[string][][]byte{}}
	c.base.Store(base)
	for addr, fp := range o.hostPins {
		c.trustHost(addr, fp)
	}
	c.tr.Store(int32(o.transport))
	if c.hc == nil {
		c.hc = &http.Client{Transport: c.newHTTPTransport(), CheckRedirect: c.checkRedirect}
	}
	if o.insecure && o.fingerprint == nil && base.Scheme == "https" {
		o.logger.Warn("xapi: TLS certificate verification is disabled", "url", base.String())
	}
	return c, nil
}

// parseBase accepts only http and https URLs without credentials; errors
// name the URL with any credentials removed.
func parseBase(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("xapi: URL %q is not a valid URL", redact.URL(rawURL))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("xapi: URL %q: scheme must be http or https", redact.URL(rawURL))
	}
	if u.Host == "" {
		return nil, fmt.Errorf("xapi: URL %q has no host", redact.URL(rawURL))
	}
	if u.User != nil {
		return nil, fmt.Errorf("xapi: URL %q must not carry credentials; pass them to Login", redact.URL(rawURL))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("xapi: URL %q must not have a query or fragment", redact.URL(rawURL))
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimSuffix(u.Path, "/")}, nil
}

func (c *Client) newHTTPTransport() *http.Transport {
	return &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		DialTLSContext:        c.dialTLS, // each pool host with its own trust: see tlsFor
		TLSHandshakeTimeout:   30 * time.Second,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		DisableCompression:    true, // XVA streams are compressed as a whole, never with Content-Encoding
		ResponseHeaderTimeout: 0,
	}
}

// URL returns the host's URL (never with credentials).
func (c *Client) URL() string { return c.baseURL().String() }

// baseURL is the current master's URL.
func (c *Client) baseURL() *url.URL { return c.base.Load() }

// endpoint returns the absolute URL of path on the host.
func (c *Client) endpoint(path string, query url.Values) *url.URL {
	base := c.baseURL()
	u := *base
	u.Path = base.Path + path
	u.RawQuery = query.Encode()
	return &u
}

// Session returns the current session ref ("" before Login).
func (c *Client) Session() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session
}

// Login opens a session with session.login_with_password. The credentials
// are kept to re-login when XAPI reports SESSION_INVALID.
func (c *Client) Login(ctx context.Context, user, password string) error {
	sess, err := c.pickTransport(ctx, user, password)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.session, c.user, c.password = sess, user, password
	c.mu.Unlock()
	c.opts.logger.Debug("xapi: logged in", "url", c.baseURL().String(), "user", user, "transport", c.transport().String())
	// The pool's hosts are where to look for the master if it dies
	// (failover.go); without them the client can only wait for it.
	if err := c.loadPool(ctx); err != nil {
		c.opts.logger.Warn("xapi: the pool's hosts could not be read; a master that dies will not be failed over",
			"url", c.baseURL().String(), "error", err)
	}
	return nil
}

// transport is the RPC encoding in use.
func (c *Client) transport() Transport { return Transport(c.tr.Load()) }

// pickTransport logs in; with Auto it tries JSON-RPC first and falls back to
// XML-RPC when the host does not answer JSON-RPC (an XAPI error such as a
// wrong password proves it does, and is returned as it is).
func (c *Client) pickTransport(ctx context.Context, user, password string) (string, error) {
	if c.transport() != Auto && c.opts.transport != Auto {
		return c.login(ctx, user, password)
	}
	c.tr.Store(int32(JSONRPC))
	sess, err := c.login(ctx, user, password)
	var xe *Error
	if err == nil || errors.As(err, &xe) || ctx.Err() != nil {
		return sess, err
	}
	c.opts.logger.Debug("xapi: no JSON-RPC here, using XML-RPC", "url", c.baseURL().String(), "error", err)
	c.tr.Store(int32(XMLRPC))
	return c.login(ctx, user, password)
}

// login calls session.login_with_password with the API version and the
// originator (optional trailing parameters every XAPI accepts).
func (c *Client) login(ctx context.Context, user, password string) (string, error) {
	v, err := c.rpc(ctx, "session.login_with_password", []any{user, password, "1.1", c.opts.originator})
	if err != nil {
		return "", fmt.Errorf("xapi login to %s as %q: %w", c.baseURL().String(), user, scrub(err, password))
	}
	sess, ok := v.(string)
	if !ok || sess == "" {
		return "", fmt.Errorf("xapi login to %s: session is %s, not a ref", c.baseURL().String(), describeValue(v))
	}
	return sess, nil
}

// scrub removes the password from an error's XAPI params, in case a server
// echoes it back; other errors never contain it.
func scrub(err error, password string) error {
	var xe *Error
	if password == "" || !errors.As(err, &xe) {
		return err
	}
	clean := &Error{Code: xe.Code, Params: make([]string, len(xe.Params))}
	for i, p := range xe.Params {
		clean.Params[i] = strings.ReplaceAll(p, password, "REDACTED")
	}
	return clean
}

// Logout closes the session. The client cannot re-login afterwards.
func (c *Client) Logout(ctx context.Context) error {
	c.mu.Lock()
	sess := c.session
	c.session, c.user, c.password = "", "", ""
	c.mu.Unlock()
	if sess == "" {
		return nil
	}
	if _, err := c.rpc(ctx, "session.logout", []any{sess}); err != nil && !IsCode(err, CodeSessionInvalid) {
		return fmt.Errorf("xapi logout: %w", err)
	}
	return nil
}

// ErrNotLoggedIn is returned by calls made before Login or after Logout.
var ErrNotLoggedIn = errors.New("xapi: not logged in")

// Call invokes method with the session prepended to args and returns the
// decoded result. Typed refs, string slices and maps are accepted as args.
// When XAPI answers SESSION_INVALID (expired or evicted session) it logs in
// again once and retries.
func (c *Client) Call(ctx context.Context, method string, args ...any) (any, error) {
	sess := c.Session()
	if sess == "" {
		return nil, fmt.Errorf("%s: %w", method, ErrNotLoggedIn)
	}
	v, err := c.rpc(ctx, method, withSession(sess, args))
	if !IsCode(err, CodeSessionInvalid) {
		return v, err
	}
	fresh, lerr := c.relogin(ctx, sess)
	if lerr != nil {
		return nil, errors.Join(err, lerr)
	}
	return c.rpc(ctx, method, withSession(fresh, args))
}

func withSession(sess string, args []any) []any {
	return append([]any{sess}, args...)
}

// relogin replaces the session stale with a new one, once even when many
// calls see SESSION_INVALID together.
func (c *Client) relogin(ctx context.Context, stale string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session != stale && c.session != "" {
		return c.session, nil
	}
	if c.user == "" && c.password == "" {
		return "", ErrNotLoggedIn
	}
	c.opts.logger.Warn("xapi: session invalid, logging in again", "url", c.baseURL().String(), "user", c.user)
	sess, err := c.login(ctx, c.user, c.password)
	if err != nil {
		return "", err
	}
	c.session = sess
	return sess, nil
}
