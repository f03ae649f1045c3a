// Command xbr backs up and restores XCP-ng / XenServer virtual machines as
// event-driven functions on NATS JetStream. main stays thin: a signal-aware
// context, the functions `xbr serve` can run, the command tree, and the
// mapping of errors to exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"xbr/functions/export"
	"xbr/functions/gateway"
	"xbr/functions/healthcheck"
	"xbr/functions/incremental"
	"xbr/functions/metadata"
	"xbr/functions/mirror"
	"xbr/functions/prune"
	"xbr/functions/replicate"
	"xbr/functions/report"
	"xbr/functions/restore"
	"xbr/functions/snapshot"
	"xbr/functions/timer"
	"xbr/functions/verify"
	"xbr/shared/cli"
	"xbr/shared/fn"
)

// functions are every function of xbr, in the order `xbr serve` starts them.
func functions() []fn.Function {
	return []fn.Function{
		timer.Function(),
		snapshot.Function(),
		prune.Function(),
		replicate.Function(),
		restore.Function(),
		gateway.Function(),
		export.Function(),
		incremental.Function(),
		verify.Function(),
		mirror.Function(),
		metadata.Function(),
		healthcheck.Function(),
		report.Function(),
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr, functions()...)
	stop()
	os.Exit(code)
}
