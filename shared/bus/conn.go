package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"xbr/events"
	"xbr/shared/redact"
)

// ConnectOptions are the ways to authenticate and secure a connection.
// Password and Token are secrets: they are never logged nor put in errors.
type ConnectOptions struct {
	Name         string // client name shown by the server
	CredsFile    string // JWT + NKey credentials file
	NKeySeedFile string // NKey seed file
	User         string
	Password     string
	Token        string
	CAFile       string // TLS: trust this CA
	CertFile     string // TLS client certificate
	KeyFile      string
	// CheckSources makes the consume loops of the connection dead-letter an
	// event whose CloudEvent source is not an allowed producer of its type
	// (events.AllowedSource); `xbr serve` sets it.
	CheckSources bool
	// Subjects, when set, is the prefix the connection's events live under: a
	// record a Watch reads whose type is not the one its subject carries there
	// (events.Subjects.Decode) gets an Err and no event, as a malformed one.
	Subjects *events.Subjects
}

// LogValue describes the options without secrets.
func (o ConnectOptions) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", o.Name), slog.String("creds_file", o.CredsFile),
		slog.String("nkey_seed_file", o.NKeySeedFile), slog.String("user", o.User),
		slog.Bool("password", o.Password != ""), slog.Bool("token", o.Token != ""),
		slog.String("ca_file", o.CAFile), slog.String("cert_file", o.CertFile))
}

// Conn is a NATS connection with its JetStream context.
type Conn struct {
	nc           *nats.Conn
	js           jetstream.JetStream
	log          *slog.Logger
	closed       chan struct{}
	checkSources bool
	subjects     *events.Subjects // see ConnectOptions.Subjects
	bound        bound            // durables consuming on this connection (Ready)
}

// ErrNoServer is Connect's error when no server answered at the URL
// (none listening there, or none reachable), as opposed to one that
// refused the login or the TLS handshake.
var ErrNoServer = errors.New("no NATS server answered")

// Connect dials url (comma-separated for a cluster) with o.
func Connect(url string, o ConnectOptions, log *slog.Logger) (*Conn, error) {
	opts, err := natsOptions(o, log)
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	opts = append(opts, nats.ClosedHandler(func(*nats.Conn) { close(done) }))
	nc, err := nats.Connect(url, opts...)
	if errors.Is(err, nats.ErrNoServers) {
		return nil, fmt.Errorf("%w at %s", ErrNoServer, redact.URLs(url))
	}
	if err != nil {
		return nil, fmt.Errorf("connect to nats %s: %s", redact.URLs(url), redactErr(err, url, o))
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream on %s: %w", redact.URLs(url), err)
	}
	log.Info("connected to nats", "url", redact.URLs(nc.ConnectedUrlRedacted()), "options", o)
	return &Conn{nc: nc, js: js, log: log, closed: done, checkSources: o.CheckSources, subjects: o.Subjects}, nil
}

func natsOptions(o ConnectOptions, log *slog.Logger) ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name(orDefault(o.Name, "xbr")),
		nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted()) }),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Error("nats error", "error", err, "subscription", subject)
		}),
	}
	if o.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(o.CredsFile))
	}
	if o.NKeySeedFile != "" {
		opt, err := nats.NkeyOptionFromSeed(o.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("nkey seed file %s: %w", o.NKeySeedFile, err)
		}
		opts = append(opts, opt)
	}
	if o.User != "" || o.Password != "" {
		opts = append(opts, nats.UserInfo(o.User, o.Password))
	}
	if o.Token != "" {
		opts = append(opts, nats.Token(o.Token))
	}
	if o.CAFile != "" {
		opts = append(opts, nats.RootCAs(o.CAFile))
	}
	if o.CertFile != "" || o.KeyFile != "" {
		opts = append(opts, nats.ClientCert(o.CertFile, o.KeyFile))
	}
	return opts, nil
}

// redactErr makes sure no secret reaches an error message: not the
// options' password or token, nor that of a URL that does not parse, whose
// error quotes the URL and its bad part.
func redactErr(err error, raw string, o ConnectOptions) string {
	var ue *url.Error
	if errors.As(err, &ue) && redact.URLs(raw) != raw {
		return "the URL does not parse (details hidden: they would show the login; percent-encode special characters in the user and password)"
	}
	s := err.Error()
	for _, secret := range []string{o.Password, o.Token} {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "REDACTED")
		}
	}
	return s
}

// NATS is the underlying connection (request/reply, core subscriptions).
func (c *Conn) NATS() *nats.Conn { return c.nc }

// JetStream is the JetStream context.
func (c *Conn) JetStream() jetstream.JetStream { return c.js }

// Close drains the connection (pending publishes are flushed), then
// closes it and waits until it is closed.
func (c *Conn) Close() error {
	if err := c.nc.Drain(); err != nil {
		c.nc.Close()
		if !errors.Is(err, nats.ErrConnectionClosed) {
			return err
		}
	}
	<-c.closed
	return nil
}

// Publish sends ev in binary mode on subject to JetStream with
// Nats-Msg-Id = ev.ID(), so publishing it again within the stream's
// duplicate window is a no-op (PubAck.Duplicate).
func (c *Conn) Publish(ctx context.Context, subject string, ev event.Event) (*jetstream.PubAck, error) {
	msg, err := newMsg(subject, ev)
	if err != nil {
		return nil, err
	}
	ack, err := c.js.PublishMsg(ctx, msg)
	if err != nil {
		return nil, fmt.Errorf("publish %s %s to %s: %w", ev.Type(), ev.ID(), subject, err)
	}
	return ack, nil
}

func newMsg(subject string, ev event.Event) (*nats.Msg, error) {
	h, data, err := events.Encode(ev)
	if err != nil {
		return nil, err
	}
	msg := nats.NewMsg(subject)
	msg.Header = nats.Header(h)
	msg.Header.Set(jetstream.MsgIDHeader, ev.ID())
	msg.Data = data
	return msg, nil
}
