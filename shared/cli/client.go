package cli

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"xbr/events"
	"xbr/shared/bus"
)

// clientFlags are how client commands (run, jobs, backups, restore, history)
// reach a running server: through NATS.
type clientFlags struct {
	url, prefix, creds string
	timeout            time.Duration
}

func (c *clientFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.url, "nats", envOr("XBR_NATS_URL", "nats://127.0.0.1:4222"), "NATS URL of the xbr backbone ($XBR_NATS_URL)")
	f.StringVar(&c.prefix, "prefix", envOr("XBR_PREFIX", events.DefaultPrefix), "subject prefix ($XBR_PREFIX)")
	f.StringVar(&c.creds, "nats-creds", os.Getenv("XBR_NATS_CREDS"), "NATS credentials file ($XBR_NATS_CREDS)")
	f.DurationVar(&c.timeout, "timeout", 10*time.Second, "how long to wait for a server's answer")
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
	conn, err := bus.Connect(c.url, bus.ConnectOptions{Name: "xbr-cli", CredsFile: c.creds,
		Token: os.Getenv("XBR_NATS_TOKEN")}, slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, subjects, err
	}
	return conn, subjects, nil
}

func (c *clientFlags) requestCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout)
}
