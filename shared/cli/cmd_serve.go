package cli

import (
	"context"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"xbr/shared/cli/serve"
	"xbr/shared/fn"
)

func newServeCmd(fns []fn.Function) *cobra.Command {
	var (
		o                 serve.ServeOptions
		logFormat, logLvl string
		debugListen       string
	)
	names := make([]string, 0, len(fns))
	for _, f := range fns {
		names = append(names, f.Name)
	}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run xbr's functions (all in one process by default)",
		Long: `serve runs xbr's functions: all of them in one process with an embedded NATS
JetStream server by default, or only --functions against an existing NATS
(--nats). Run more replicas of a function to scale out: replicas share one
durable consumer.

With no --config (and no XBR_CONFIG), serve starts a self-contained demo: an
embedded NATS under --data-dir, the built-in XAPI simulator with a few VMs, a
directory remote under <data-dir>/remote and two demo jobs of every VM:
demo-nightly (full backups) and demo-incremental (incremental restore points
read by changed blocks over NBD).

The embedded NATS always requires a login: serve keeps one identity per
function, plus client, auditor and admin, under <data-dir>/nats/identities
(mode 0600) and runs each function as its own identity, allowed only the
subjects it needs ('xbr nats permissions' prints them). The CLI on this host
finds the client identity through --data-dir.

Functions: ` + strings.Join(names, ", "),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(cmd.ErrOrStderr(), logFormat, logLvl)
			if err != nil {
				return err
			}
			o.Log, o.Version = log, Version
			if debugListen != "" {
				ctx, cancel := context.WithCancel(cmd.Context())
				defer cancel()
				if err := startDebug(ctx, debugListen, log); err != nil {
					return err
				}
			}
			return serve.Serve(cmd.Context(), o, fns)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.ConfigFile, "config", os.Getenv("XBR_CONFIG"), "configuration file (default $XBR_CONFIG; none: the embedded demo)")
	f.StringVar(&o.Functions, "functions", "", "comma-separated functions to run (default all)")
	f.StringVar(&o.NATSURL, "nats", "", "NATS URL to use instead of the configuration's or the embedded server")
	f.StringVar(&o.NATSListen, "nats-listen", "", "where the embedded NATS listens (default nats.listen, 127.0.0.1:4222)")
	f.StringVar(&o.DataDir, "data-dir", "", "data directory (default data_dir, ./var)")
	f.StringVar(&o.HTTPListen, "http", "", "where the web page and HTTP APIs listen (default gateway.listen, 127.0.0.1:8080)")
	f.StringVar(&logFormat, "log-format", "auto", "auto (text on a terminal, else JSON), json or text")
	f.StringVar(&logLvl, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&o.HealthListen, "health-listen", "", "serve /healthz (liveness) and /readyz (NATS up, this process's consumers bound) on this address; off by default")
	f.StringVar(&o.DemoSimListen, "demo-sim-listen", "", "where the demo's XAPI simulator listens (default a free loopback port); demo only")
	f.StringVar(&debugListen, "debug-listen", "", "serve Go profiles (/debug/pprof/) on this loopback address; off by default")
	return cmd
}
