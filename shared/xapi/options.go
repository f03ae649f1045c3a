package xapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Transport selects the RPC encoding.
type Transport int

const (
	// XMLRPC posts XML-RPC to "/": served by every XAPI version (the default).
	XMLRPC Transport = iota
	// JSONRPC posts JSON-RPC 2.0 to "/jsonrpc" (XAPI 1.2 and later).
	JSONRPC
	// Auto logs in over JSON-RPC, cheaper to decode (a 5,000-VM
	// get_all_records: about 6x less time and 4x fewer allocations), and
	// keeps XML-RPC when the host does not serve /jsonrpc.
	Auto
)

func (t Transport) String() string {
	switch t {
	case JSONRPC:
		return "json-rpc"
	case Auto:
		return "auto"
	}
	return "xml-rpc"
}

// Option configures a Client.
type Option func(*options) error

type options struct {
	transport   Transport
	fingerprint []byte
	hostPins    map[string]string // pool host address -> SHA-256 hex; see WithHostFingerprint
	insecure    bool
	rootCAs     *x509.CertPool
	httpClient  *http.Client
	timeout     time.Duration
	stall       time.Duration
	headWait    time.Duration // see headWait; tests shorten it
	logger      *slog.Logger
	pollMin     time.Duration
	pollMax     time.Duration
	originator  string
}

// DefaultStallTimeout is the stall timeout of a client made without
// WithStallTimeout.
const DefaultStallTimeout = 10 * time.Minute

func defaultOptions() options {
	return options{
		timeout:    5 * time.Minute,
		stall:      DefaultStallTimeout,
		headWait:   headWait,
		logger:     slog.New(slog.DiscardHandler),
		pollMin:    20 * time.Millisecond,
		pollMax:    time.Second,
		originator: "xbr",
	}
}

// WithTransport selects XML-RPC (default), JSON-RPC, or Auto.
func WithTransport(t Transport) Option {
	return func(o *options) error {
		if t != XMLRPC && t != JSONRPC && t != Auto {
			return fmt.Errorf("unknown transport %d", int(t))
		}
		o.transport = t
		return nil
	}
}

// WithFingerprint pins the host's TLS certificate by the SHA-256 of its leaf
// certificate's DER encoding, as hex with or without colons, in any case.
// With a pin the chain is not verified (XCP-ng's certificates are
// self-signed), but a certificate that does not match is always refused.
func WithFingerprint(sha256hex string) Option {
	return func(o *options) error {
		clean := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(sha256hex), ":", ""))
		fp, err := hex.DecodeString(clean)
		if err != nil || len(fp) != sha256.Size {
			return fmt.Errorf("fingerprint %q is not a SHA-256 in hex", sha256hex)
		}
		o.fingerprint = fp
		return nil
	}
}

// WithHostFingerprint trusts the pool host at address (as XAPI's
// host.address names it, optionally with a port) by the SHA-256 of its
// certificate, besides the fingerprints the pool publishes. It is what lets
// a client configured at a host that is no longer the master reach the new
// one on an xapi older than 24.1, which does not send the master's
// thumbprint with HOST_IS_SLAVE, and a host to try when the configured one
// cannot be reached (it died, and another host is master now).
func WithHostFingerprint(address, sha256hex string) Option {
	return func(o *options) error {
		clean := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(sha256hex), ":", ""))
		if fp, err := hex.DecodeString(clean); err != nil || len(fp) != sha256.Size {
			return fmt.Errorf("fingerprint %q of host %q is not a SHA-256 in hex", sha256hex, address)
		}
		if _, err := masterHost(address, ""); err != nil {
			return fmt.Errorf("host fingerprint: %q is not a host address", address)
		}
		if o.hostPins == nil {
			o.hostPins = map[string]string{}
		}
		o.hostPins[address] = clean
		return nil
	}
}

// WithInsecure skips TLS certificate verification entirely. Prefer
// WithFingerprint.
func WithInsecure() Option {
	return func(o *options) error { o.insecure = true; return nil }
}

// WithRootCAs verifies the host's certificate against pool instead of the
// system roots.
func WithRootCAs(pool *x509.CertPool) Option {
	return func(o *options) error { o.rootCAs = pool; return nil }
}

// WithHTTPClient uses hc for RPC calls and GET transfers. Its transport's TLS
// settings apply as given; WithFingerprint, WithInsecure and WithRootCAs then
// only govern the connections of Import. Leave hc.Timeout zero: a timeout
// there would cut long exports.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) error { o.httpClient = hc; return nil }
}

// WithTimeout bounds each RPC call (default 5 minutes; 0 means no bound). It
// does not apply to the body of a transfer.
func WithTimeout(d time.Duration) Option {
	return func(o *options) error { o.timeout = d; return nil }
}

// WithStallTimeout bounds how long a transfer waits for the host (default
// DefaultStallTimeout; 0 means no bound): a download for the response head
// and for each read of the body; an upload for each write of the body and for each
// read of the answer once the answer has begun (the rest of its head or of
// an error page) or the body is sent (the answer, then the close). XAPI
// keeps a healthy export stream flowing, writes an answer head in one go,
// reads an import as it comes and closes once it has finished it, so a
// silence that long is a host that hangs; the transfer then fails with
// ErrStalled. The time the caller spends between reads does not count, nor
// does the time an upload's body takes to stream after the answer head.
func WithStallTimeout(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("stall timeout %v is negative", d)
		}
		o.stall = d
		return nil
	}
}

// StallTimeout is the client's stall timeout (see WithStallTimeout; 0: no
// bound), for the other side of a transfer to use the same bound.
func (c *Client) StallTimeout() time.Duration { return c.opts.stall }

// WithLogger sets the logger for debug traces and warnings.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l != nil {
			o.logger = l
		}
		return nil
	}
}

// WithTaskPoll sets the back-off of WaitTask: it polls first after min and
// doubles up to max (defaults 20ms and 1s).
func WithTaskPoll(minWait, maxWait time.Duration) Option {
	return func(o *options) error {
		if minWait <= 0 || maxWait < minWait {
			return fmt.Errorf("task poll interval %v..%v is not a valid range", minWait, maxWait)
		}
		o.pollMin, o.pollMax = minWait, maxWait
		return nil
	}
}

// WithOriginator sets the originator sent at login (default "xbr"). XAPI
// caps sessions per originator, so a distinct one keeps other tools' sessions
// from being evicted by ours.
func WithOriginator(name string) Option {
	return func(o *options) error { o.originator = name; return nil }
}

// tlsConfig builds the TLS settings from the options.
func (o *options) tlsConfig(serverName string) *tls.Config {
	cfg := &tls.Config{ServerName: serverName, MinVersion: tls.VersionTLS12, RootCAs: o.rootCAs}
	switch {
	case o.fingerprint != nil:
		// The chain is not verified, but VerifyConnection still runs and
		// refuses any leaf certificate other than the pinned one.
		cfg.InsecureSkipVerify = true
		want := o.fingerprint
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("xapi: host %s sent no certificate", serverName)
			}
			got := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if subtle.ConstantTimeCompare(got[:], want) != 1 {
				return fmt.Errorf("xapi: host %s certificate fingerprint %s does not match the pinned %s",
					serverName, hex.EncodeToString(got[:]), hex.EncodeToString(want))
			}
			return nil
		}
	case o.insecure:
		cfg.InsecureSkipVerify = true
	}
	return cfg
}
