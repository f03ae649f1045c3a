// Command xbr backs up and restores XCP-ng / XenServer virtual machines as
// event-driven functions on NATS JetStream. main stays thin: a signal-aware
// context, the command tree, and the mapping of errors to exit codes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"xbr/shared/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
