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
	var (
		file, at  string
		noSecrets bool
		asJSON    bool
	)
	cmd := &cobra.Command{
		Use:   "check [FILE]",
		Short: "Validate the configuration file without running anything",
		Long: `Validate the configuration file: syntax, unknown fields, values, cron
expressions, time zones, references between pools, remotes and jobs, and that
every ${VAR} and *_file secret can be read. Prints a summary with the next fire
of every schedule, or every problem (file:line: field: "value": reason) and
exits with status 1. FILE is the same as --config.
--no-secrets checks everything but the secrets: ${VAR} references in secret
fields are checked for syntax, not looked up; *_file secrets and key files
(credentials, nkey, encryption key, users) are not read. Use it where the
secrets are not (CI, a review). --json writes one object instead: "ok",
"problems" (file, line, field, value, message) and "jobs" with each
schedule's next fire in RFC 3339 with the schedule's own offset; the exit
status is the same.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if cmd.Flags().Changed("config") {
					return &ExitError{Code: 2, Err: errors.New("give the file as FILE or --config, not both")}
				}
				file = args[0]
			}
			now := time.Now()
			if at != "" {
				t, err := time.Parse(time.RFC3339, at)
				if err != nil {
					return &ExitError{Code: 2, Err: fmt.Errorf("--at %q: not an RFC 3339 time (e.g. 2026-05-01T12:00:00Z)", at)}
				}
				now = t
			}
			return configCheck(cmd, file, now, noSecrets, asJSON)
		},
	}
	cmd.Flags().BoolVar(&noSecrets, "no-secrets", false, "check shape and references without resolving secrets (environment, secret files)")
	cmd.Flags().StringVar(&file, "config", defaultConfigFile(), "configuration file (env XBR_CONFIG)")
	cmd.Flags().StringVar(&at, "at", "", "compute next fire times as of this RFC 3339 time instead of now")
	cmd.Flags().BoolVar(&asJSON, "json", false, "write the outcome as JSON")
	return cmd
}

func defaultConfigFile() string {
	if f := os.Getenv("XBR_CONFIG"); f != "" {
		return f
	}
	return "xbr.yaml"
}

func configCheck(cmd *cobra.Command, file string, now time.Time, noSecrets, asJSON bool) error {
	var opts []config.Option
	ok := "OK"
	if noSecrets {
		opts = append(opts, config.WithoutSecrets())
		ok = "OK (secrets not resolved)"
	}
	c, err := config.Load(file, opts...)
	if asJSON {
		r := checkReport{File: file, OK: err == nil, SecretsResolved: !noSecrets}
		if err != nil {
			r.Problems = problemsOf(file, err)
		} else {
			r.Jobs = jobsOf(c, now)
		}
		if werr := writeCheckJSON(cmd.OutOrStdout(), r); werr != nil || err == nil {
			return werr
		}
		return &ExitError{Code: 1}
	}
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
	fmt.Fprintf(out, "%s: %s\n", file, ok)
	return c.WriteSummary(out, now)
}
