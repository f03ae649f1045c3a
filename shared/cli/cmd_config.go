package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"xbr/shared/config"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Work with the configuration file",
	}
	cmd.AddCommand(newConfigCheckCmd())
	return cmd
}

func newConfigCheckCmd() *cobra.Command {
	var file, at string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration file without running anything",
		Long: `Validate the configuration file: syntax, unknown fields, values, cron
expressions, time zones, references between pools, remotes and jobs, and that
every ${VAR} and *_file secret can be read. Prints a summary with the next fire
of every schedule, or every problem (file:line: field: "value": reason) and
exits with status 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			if at != "" {
				t, err := time.Parse(time.RFC3339, at)
				if err != nil {
					return &ExitError{Code: 2, Err: fmt.Errorf("--at %q: not an RFC 3339 time (e.g. 2026-05-01T12:00:00Z)", at)}
				}
				now = t
			}
			return configCheck(cmd, file, now)
		},
	}
	cmd.Flags().StringVar(&file, "config", defaultConfigFile(), "configuration file (env XBR_CONFIG)")
	cmd.Flags().StringVar(&at, "at", "", "compute next fire times as of this RFC 3339 time instead of now")
	return cmd
}

func defaultConfigFile() string {
	if f := os.Getenv("XBR_CONFIG"); f != "" {
		return f
	}
	return "xbr.yaml"
}

func configCheck(cmd *cobra.Command, file string, now time.Time) error {
	c, err := config.Load(file)
	if err != nil {
		var fe *config.FieldError
		if !errors.As(err, &fe) { // the file itself could not be read
			return &ExitError{Code: 1, Err: err}
		}
		lines := strings.Split(err.Error(), "\n")
		fmt.Fprintln(cmd.ErrOrStderr(), strings.Join(lines, "\n"))
		fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d problem(s)\n", file, len(lines))
		return &ExitError{Code: 1}
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "%s: OK\n", file)
	return c.WriteSummary(out, now)
}
