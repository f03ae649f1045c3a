package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"xbr/shared/fn"
)

// Version is set at build time with -ldflags "-X xbr/shared/cli.Version=...".
var Version = "dev"

// ExitError carries a specific process exit code through the command tree.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Execute runs the command tree with args and returns the process exit code.
// fns are the functions `xbr serve` can run (main wires them: shared packages
// never import functions).
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer, fns ...fn.Function) int {
	root := newRoot(stdout, stderr, fns)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	code, why := exitCodeOf(err), err
	if ee := (*ExitError)(nil); errors.As(err, &ee) {
		if ee.Err == nil {
			return code // the command said why, on its output
		}
		why = ee.Err
	}
	msg := why.Error()
	fmt.Fprintln(stderr, "xbr:", msg)
	if jsonMode(cmd) {
		writeJSONError(cmd, stdout, msg, code)
	}
	return code
}

func newRoot(stdout, stderr io.Writer, fns []fn.Function) *cobra.Command {
	root := &cobra.Command{
		Use:   "xbr",
		Short: "Backup and disaster recovery for XCP-ng / XenServer VMs on NATS JetStream",
		Long: `xbr backs up XCP-ng / XenServer virtual machines (full XVA exports, rolling
snapshots, replication) and restores them, as event-driven functions on NATS
JetStream. Backups use Xen Orchestra's on-remote layout.

Start the self-contained demo with "xbr serve" (embedded NATS, the built-in
XAPI simulator, a local directory remote).

Environment: XBR_CONFIG (the configuration file), XBR_NATS_URL, XBR_PREFIX,
XBR_DATA_DIR; the client commands' NATS login: XBR_NATS_CREDS, XBR_NATS_NKEY,
XBR_NATS_USER with XBR_NATS_PASSWORD, or XBR_NATS_TOKEN (XBR_NATS_TOKEN_FILE:
from a file), and XBR_NATS_CA, XBR_NATS_CERT, XBR_NATS_KEY for TLS. Secrets are read from the environment
or files, never from flags.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// --version and -v print what `xbr version` prints.
		Version: Version,
	}
	root.SetVersionTemplate("xbr {{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(
		newVersionCmd(),
		newManCmd(),
		newServeCmd(fns),
		newRunCmd(),
		newJobsCmd(),
		newXapiSimCmd(),
		newConfigCmd(),
		newHistoryCmd(),
		newVerifyCmd(),
		newRestoreMetadataCmd(),
		newBackupsCmd(),
		newRestoreCmd(),
		newHealthCheckCmd(),
		newDrCmd(),
		newNATSCmd(),
		newRepoCmd(),
		newProtectionCmd(),
		// Commands register here, one line each (keep this marker): CMDS
	)
	usageErrors(root)
	watchJSONOutput(root)
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print xbr's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "xbr %s\n", Version)
			return err
		},
	}
}
