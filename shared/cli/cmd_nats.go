package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"xbr/events"
	"xbr/shared/config"
)

func newNATSCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "nats", Short: "Work with the NATS backbone"}
	cmd.AddCommand(newNATSPermissionsCmd())
	return cmd
}

func newNATSPermissionsCmd() *cobra.Command {
	var file, prefix, format string
	cmd := &cobra.Command{
		Use:   "permissions",
		Short: "Print what each xbr identity must be allowed on a NATS backbone",
		Long: `Print, for each identity (one per function, plus auditor, client and admin),
the subjects it may publish to and subscribe to, with the configured subject
prefix and the JetStream API subjects of its streams, consumers and KV
buckets. A team running xbr on an existing backbone grants exactly these.

--format nats-server prints an authorization block for a nats-server
configuration, one user "xbr-<identity>" each, with a placeholder where each
password goes; --format json prints the same as data. The embedded server of
'xbr serve' applies the same grants to the identities it creates.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file != "" {
				c, err := config.Load(file)
				if err != nil {
					return err
				}
				prefix = c.NATS.Prefix
			}
			s, err := events.NewSubjects(prefix)
			if err != nil {
				return &ExitError{Code: 2, Err: fmt.Errorf("--prefix: %w", err)}
			}
			grants := events.Grants(s, events.StreamNames{})
			switch format {
			case "json":
				return writeGrantsJSON(cmd.OutOrStdout(), grants)
			case "nats-server":
				_, err := io.WriteString(cmd.OutOrStdout(), natsServerAuthorization(grants))
				return err
			}
			return &ExitError{Code: 2, Err: fmt.Errorf("--format %q: must be nats-server or json", format)}
		},
	}
	f := cmd.Flags()
	f.StringVar(&file, "config", "", "take the subject prefix from this configuration file")
	f.StringVar(&prefix, "prefix", envOr("XBR_PREFIX", events.DefaultPrefix), "subject prefix ($XBR_PREFIX)")
	f.StringVar(&format, "format", "nats-server", "nats-server or json")
	return cmd
}

// NATSUser is the NATS user name of identity name.
func NATSUser(identity string) string { return events.UserName(identity) }

// PasswordPlaceholder is what stands for identity's password in the
// nats-server output.
func PasswordPlaceholder(identity string) string { return "<password of " + NATSUser(identity) + ">" }

type grantJSON struct {
	User string `json:"user"`
	events.Grant
}

func writeGrantsJSON(w io.Writer, grants []events.Grant) error {
	out := make([]grantJSON, len(grants))
	for i, g := range grants {
		out[i] = grantJSON{User: NATSUser(g.Identity), Grant: g}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func natsServerAuthorization(grants []events.Grant) string {
	var b strings.Builder
	b.WriteString("# xbr identities: give each user its own password (or replace it with an nkey).\nauthorization {\n  users = [\n")
	for _, g := range grants {
		fmt.Fprintf(&b, "    {\n      user: %q\n      password: %q\n      permissions: {\n", NATSUser(g.Identity), PasswordPlaceholder(g.Identity))
		if len(g.PublishDeny) > 0 {
			fmt.Fprintf(&b, "        publish: { allow: %s, deny: %s }\n", quotedList(g.Publish), quotedList(g.PublishDeny))
		} else {
			fmt.Fprintf(&b, "        publish: { allow: %s }\n", quotedList(g.Publish))
		}
		fmt.Fprintf(&b, "        subscribe: { allow: %s }\n", quotedList(g.Subscribe))
		if g.AllowResponses {
			b.WriteString("        allow_responses: true\n")
		}
		b.WriteString("      }\n    }\n")
	}
	b.WriteString("  ]\n}\n")
	return b.String()
}

func quotedList(items []string) string {
	if len(items) == 0 {
		items = []string{"_xbr_nothing_allowed"}
	}
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
