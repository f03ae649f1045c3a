package xapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"xbr/shared/xapi/xmlrpc"
)

// A pool's hosts each serve their own, usually self-signed, certificate, and
// XAPI sends clients to them: transfers of storage local to a member get a
// 302 to that host, and a login or call on a host that is no longer the
// master gets HOST_IS_SLAVE [master address]. The client trusts a host other
// than the pinned one only through the pool's own records, read over the
// master's verified, authenticated session (Certificate.get_all_records:
// type "host", fingerprint_sha256; xen-api ocaml/idl/datamodel_certificate.ml),
// or through the master thumbprint an already trusted host sends with
// HOST_IS_SLAVE (xen-api ocaml/xapi/api_server.ml create_thumbprint_header).
// Verification is never turned off for them.

// Headers of XAPI's master-thumbprint exchange (xen-api
// ocaml/xapi/xapi_globs.ml cert_thumbprint_header_*; xapi 24.1 and later).
const (
	thumbprintRequest  = "X-Xenapi-Request-Host-Certificate-Thumbprint"
	thumbprintResponse = "X-Xenapi-Response-Host-Certificate-Thumbprint"
)

// memberKey normalises a host address or URL host ("10.0.0.2",
// "10.0.0.2:443", "[fe80::2]") for lookups: the host, and the port when one
// is given.
func memberKey(hostport string) string {
	return strings.ToLower(strings.Trim(hostport, "[]"))
}

// trustHost records fp (XAPI's colon-separated hex, or plain hex) as a
// certificate fingerprint of the host at address.
func (c *Client) trustHost(address, fp string) {
	sum, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(fp), ":", ""))
	if err != nil || len(sum) != sha256.Size {
		return
	}
	c.poolMu.Lock()
	defer c.poolMu.Unlock()
	key := memberKey(address)
	for _, have := range c.members[key] {
		if subtle.ConstantTimeCompare(have, sum) == 1 {
			return
		}
	}
	c.members[key] = append(c.members[key], sum)
}

// member returns the fingerprints the pool published for the host at
// hostport ("host:port"), and whether it is a known pool member. A host
// address without a port (XAPI's host.address) matches any port.
func (c *Client) member(hostport string) ([][]byte, bool) {
	c.poolMu.Lock()
	defer c.poolMu.Unlock()
	if fps, ok := c.members[memberKey(hostport)]; ok {
		return fps, true
	}
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, false
	}
	fps, ok := c.members[memberKey(h)]
	return fps, ok
}

// loadPool reads the pool's hosts and their certificate fingerprints over
// the master session: two calls, made when a redirect names a host not yet
// known.
func (c *Client) loadPool(ctx context.Context) error {
	hosts, err := c.Call(ctx, "host.get_all_records")
	if err != nil {
		return fmt.Errorf("read the pool's hosts: %w", err)
	}
	addrs := map[string]string{}
	for ref, rec := range asRecords(hosts) {
		if a, _ := rec["address"].(string); a != "" {
			addrs[ref] = a
		}
	}
	certs, err := c.Call(ctx, "Certificate.get_all_records")
	if err != nil && !IsCode(err, "MESSAGE_METHOD_UNKNOWN") {
		return fmt.Errorf("read the pool's certificates: %w", err)
	}
	c.poolMu.Lock()
	for _, a := range addrs {
		if _, ok := c.members[memberKey(a)]; !ok {
			c.members[memberKey(a)] = nil
		}
	}
	c.poolMu.Unlock()
	for _, rec := range asRecords(certs) {
		typ, _ := rec["type"].(string)
		host, _ := rec["host"].(string)
		fp, _ := rec["fingerprint_sha256"].(string)
		if typ == "host" && addrs[host] != "" {
			c.trustHost(addrs[host], fp)
		}
	}
	return nil
}

func asRecords(v any) map[string]map[string]any {
	out := map[string]map[string]any{}
	m, _ := v.(map[string]any)
	for ref, r := range m {
		if rec, ok := r.(map[string]any); ok {
			out[ref] = rec
		}
	}
	return out
}

// poolMember checks that u names a host of the pool, reading the pool's
// records once more when it is not yet known. A redirect carries the
// session id in its query, so it is followed only to the pool's own hosts.
func (c *Client) poolMember(ctx context.Context, u *url.URL) error {
	if u.Scheme != c.baseURL().Scheme && u.Scheme != "https" {
		return fmt.Errorf("redirect to %s: scheme %q", redactQuery(u.String()), u.Scheme)
	}
	if _, ok := c.member(u.Host); ok {
		return nil
	}
	if err := c.loadPool(ctx); err != nil {
		return err
	}
	if _, ok := c.member(u.Host); !ok {
		return fmt.Errorf("redirect to %s: not a host of this pool", redactQuery(u.String()))
	}
	return nil
}

// tlsFor is the TLS configuration for a connection to hostport: the
// configured pin for the configured host; the pool's published
// fingerprints for its other hosts; otherwise verification against the
// roots (which a self-signed member certificate fails, naming the host).
func (c *Client) tlsFor(hostport string) *tls.Config {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if c.opts.insecure || strings.EqualFold(hostport, c.origin.Host) || strings.EqualFold(host, c.origin.Host) {
		return c.opts.tlsConfig(host)
	}
	fps, known := c.member(hostport)
	if len(fps) == 0 {
		cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, RootCAs: c.opts.rootCAs}
		if c.opts.fingerprint != nil && !known {
			cfg.InsecureSkipVerify = true
			cfg.VerifyConnection = func(tls.ConnectionState) error {
				return fmt.Errorf("xapi: host %s is not a pool member with a published certificate", hostport)
			}
		}
		return cfg
	}
	return &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12,
		// The chain of a self-signed certificate cannot be verified; the leaf
		// must be one the pool published for this host.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("xapi: host %s sent no certificate", hostport)
			}
			got := sha256.Sum256(cs.PeerCertificates[0].Raw)
			for _, want := range fps {
				if subtle.ConstantTimeCompare(got[:], want) == 1 {
					return nil
				}
			}
			return fmt.Errorf("xapi: host %s certificate fingerprint %s is not the one the pool publishes for it",
				hostport, hex.EncodeToString(got[:]))
		}}
}

// dialTLS opens a TLS connection to addr with the trust tlsFor gives it.
func (c *Client) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	raw, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(raw, c.tlsFor(addr))
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
	}
	return tc, nil
}

// checkRedirect lets a download follow XAPI's 302 to a host of the pool.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 3 {
		return errors.New("more than 3 redirects")
	}
	return c.poolMember(req.Context(), req.URL)
}

// followMaster moves the client to the master named by HOST_IS_SLAVE. The
// address keeps the client's scheme and, when it has none, the configured
// port (as Xen Orchestra's client does). A thumbprint sent by the trusted
// host that answered is recorded for the new master.
func (c *Client) followMaster(address, thumbprint string) error {
	old := c.baseURL()
	host, err := masterHost(address, old.Port())
	if err != nil {
		return err
	}
	next := *old
	next.Host = host
	if thumbprint != "" {
		c.trustHost(host, thumbprint)
	}
	c.base.Store(&next)
	c.opts.logger.Warn("xapi: the pool master moved; following it", "from", old.Host, "to", next.Host)
	return nil
}

// masterHost turns HOST_IS_SLAVE's master address (an IP address or a host
// name, optionally with a port) into a URL host, adding port when the
// address has none. Anything else is refused, naming the value.
func masterHost(address, port string) (string, error) {
	bad := func() (string, error) {
		return "", fmt.Errorf("HOST_IS_SLAVE master address %q is not a host address", xmlrpc.Excerpt(address))
	}
	host, p := strings.Trim(address, "[]"), port
	if h, hp, err := net.SplitHostPort(address); err == nil {
		host, p = h, hp
	}
	if p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad()
		}
	}
	if net.ParseIP(host) == nil && !validHostname(host) {
		return bad()
	}
	if p == "" {
		if strings.Contains(host, ":") {
			return "[" + host + "]", nil
		}
		return host, nil
	}
	return net.JoinHostPort(host, p), nil
}

// validHostname accepts DNS names: letters, digits, '-' and '.', not empty.
func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, r := range h {
		ok := r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !ok {
			return false
		}
	}
	return true
}
