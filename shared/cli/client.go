package cli

import (
	"context"
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
)

// clientFlags are how client commands (run, jobs, backups, restore, history)
// reach a running server: through NATS, logged in like any NATS client.
type clientFlags struct {
	url, prefix, dataDir string
	auth                 bus.ConnectOptions
	timeout              time.Duration
}

const authHelp = `Logging in to NATS: --nats-creds (a JWT credentials file), --nats-nkey (an
NKey seed file), --nats-user with $XBR_NATS_PASSWORD, or $XBR_NATS_TOKEN; TLS
with --nats-ca, --nats-cert and --nats-key. Each flag has an XBR_NATS_*
variable. With none of them, the "client" identity that 'xbr serve' keeps
under --data-dir (nats/identities/client.json) is used when it exists.`

func (c *clientFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.url, "nats", envOr("XBR_NATS_URL", "nats://127.0.0.1:4222"), "NATS URL of the xbr backbone ($XBR_NATS_URL; a token login is read from $XBR_NATS_TOKEN)")
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
	o := c.options()
	conn, err := bus.Connect(c.url, o, slog.New(slog.DiscardHandler))
	if err != nil && o.User == "" && o.CredsFile == "" && o.NKeySeedFile == "" && o.Token == "" && !urlHasLogin(c.url) {
		return nil, subjects, fmt.Errorf("%w (no NATS login given and no client identity under --data-dir %s; see --help)", err, c.dataDir)
	}
	if err != nil {
		return nil, subjects, err
	}
	return conn, subjects, nil
}

// options are the login flags and variables, else the data dir's client
// identity when the URL carries no login either.
func (c *clientFlags) options() bus.ConnectOptions {
	o := c.auth
	o.Name = "xbr-cli"
	o.Password, o.Token = os.Getenv("XBR_NATS_PASSWORD"), os.Getenv("XBR_NATS_TOKEN")
	if o.CredsFile != "" || o.NKeySeedFile != "" || o.User != "" || o.Token != "" || urlHasLogin(c.url) {
		return o
	}
	id, err := bus.LoadIdentity(bus.IdentitiesDir(c.dataDir), events.IdentityClient)
	if err != nil {
		return o
	}
	o.User, o.Password = id.User, id.Password
	return o
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
