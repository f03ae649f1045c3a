package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"xbr/events"
	"xbr/shared/bus"
	"xbr/shared/config"
	"xbr/shared/redact"
)

// clientFlags are how client commands (run, jobs, backups, restore, history)
// reach a running server: through NATS, logged in like any NATS client.
type clientFlags struct {
	url, prefix, dataDir string
	auth                 bus.ConnectOptions
	timeout              time.Duration
}

const authHelp = `Logging in to NATS: --nats-creds (a JWT credentials file), --nats-nkey (an
NKey seed file), --nats-user with $XBR_NATS_PASSWORD, or $XBR_NATS_TOKEN (or a file named by
$XBR_NATS_TOKEN_FILE); TLS
with --nats-ca, --nats-cert and --nats-key. Each flag has an XBR_NATS_*
variable. With none of them, the "client" identity that 'xbr serve' keeps
under --data-dir (nats/identities/client.json) is used when it exists.`

func (c *clientFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.url, "nats", envOr("XBR_NATS_URL", "nats://127.0.0.1:4222"), "NATS URL of the xbr backbone ($XBR_NATS_URL; a token login is read from $XBR_NATS_TOKEN)")
	f.Lookup("nats").DefValue = redact.URLs(c.url) // --help shows the default: never a login from $XBR_NATS_URL
	f.StringVar(&c.prefix, "prefix", envOr("XBR_PREFIX", events.DefaultPrefix), "subject prefix ($XBR_PREFIX)")
	f.StringVar(&c.auth.CredsFile, "nats-creds", os.Getenv("XBR_NATS_CREDS"), "NATS credentials file ($XBR_NATS_CREDS)")
	f.StringVar(&c.auth.NKeySeedFile, "nats-nkey", os.Getenv("XBR_NATS_NKEY"), "NATS NKey seed file ($XBR_NATS_NKEY)")
	f.StringVar(&c.auth.User, "nats-user", os.Getenv("XBR_NATS_USER"), "NATS user; the password is read from $XBR_NATS_PASSWORD ($XBR_NATS_USER)")
	f.StringVar(&c.auth.CAFile, "nats-ca", os.Getenv("XBR_NATS_CA"), "CA file to trust for NATS TLS ($XBR_NATS_CA)")
	f.StringVar(&c.auth.CertFile, "nats-cert", os.Getenv("XBR_NATS_CERT"), "TLS client certificate for NATS ($XBR_NATS_CERT)")
	f.StringVar(&c.auth.KeyFile, "nats-key", os.Getenv("XBR_NATS_KEY"), "TLS client key for NATS ($XBR_NATS_KEY)")
	f.StringVar(&c.dataDir, "data-dir", envOr("XBR_DATA_DIR", config.DefaultDataDir),
		"data directory of an 'xbr serve' with the embedded NATS, for its client identity ($XBR_DATA_DIR)")
	f.DurationVar(&c.timeout, "timeout", 10*time.Second, "how long to wait for a server's answer")
	switch {
	case strings.Contains(cmd.Long, authHelp):
	case cmd.Long == "":
		cmd.Long = cmd.Short + ".\n\n" + authHelp
	default:
		cmd.Long = strings.TrimRight(cmd.Long, "\n") + "\n\n" + authHelp
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// connect dials the backbone; the caller closes the connection.
func (c *clientFlags) connect() (*bus.Conn, events.Subjects, error) {
	subjects, err := events.NewSubjects(c.prefix)
	if err != nil {
		return nil, events.Subjects{}, err
	}
	o, err := c.options()
	if err != nil {
		return nil, subjects, err
	}
	o.Subjects = &subjects
	conn, err := bus.Connect(c.url, o, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, subjects, c.connectError(err, o)
	}
	return conn, subjects, nil
}

// connectError says why connecting failed and what to check: with no
// server at the URL, whether 'xbr serve' runs there first; with no login
// given, where the client identity was looked for.
func (c *clientFlags) connectError(err error, o bus.ConnectOptions) error {
	noLogin := o.User == "" && o.CredsFile == "" && o.NKeySeedFile == "" && o.Token == "" && !urlHasLogin(c.url)
	const serveHint = "is 'xbr serve' running, and is this its address? --nats, $XBR_NATS_URL"
	loginHint := fmt.Sprintf("no NATS login given and no client identity under --data-dir %s", c.dataDir)
	switch {
	case errors.Is(err, bus.ErrNoServer) && noLogin:
		return fmt.Errorf("%w (%s); also %s, where 'xbr serve' keeps one (see --help)", err, serveHint, loginHint)
	case errors.Is(err, bus.ErrNoServer):
		return fmt.Errorf("%w (%s)", err, serveHint)
	case noLogin:
		return fmt.Errorf("%w (%s; see --help)", err, loginHint)
	}
	return err
}

// options are the login flags and variables, else the data dir's client
// identity when the URL carries no login either.
func (c *clientFlags) options() (bus.ConnectOptions, error) {
	o := c.auth
	o.Name = "xbr-cli"
	o.Password = os.Getenv("XBR_NATS_PASSWORD")
	token, err := natsToken()
	if err != nil {
		return o, err
	}
	o.Token = token
	if o.CredsFile != "" || o.NKeySeedFile != "" || o.User != "" || o.Token != "" || urlHasLogin(c.url) {
		return o, nil
	}
	id, err := bus.LoadIdentity(bus.IdentitiesDir(c.dataDir), events.IdentityClient)
	if err != nil {
		return o, nil
	}
	o.User, o.Password = id.User, id.Password
	return o, nil
}

// natsToken is $XBR_NATS_TOKEN, else the first line of the file
// $XBR_NATS_TOKEN_FILE names (a mounted secret), else "".
func natsToken() (string, error) {
	if v := os.Getenv("XBR_NATS_TOKEN"); v != "" {
		return v, nil
	}
	file := os.Getenv("XBR_NATS_TOKEN_FILE")
	if file == "" {
		return "", nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("XBR_NATS_TOKEN_FILE: %w", err)
	}
	token, _, _ := strings.Cut(string(data), "\n")
	token = strings.TrimSpace(token)
	if token == "" {
		return "", fmt.Errorf("XBR_NATS_TOKEN_FILE %s: the file is empty", file)
	}
	return token, nil
}

func urlHasLogin(raw string) bool {
	for _, p := range strings.Split(raw, ",") {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			return true
		}
	}
	return false
}

func (c *clientFlags) requestCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}
