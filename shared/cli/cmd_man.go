package cli

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
)

// newManCmd generates the manual pages from the command tree, so they say
// what --help says. `make man` runs it; `make install` installs the pages.
func newManCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write the manual pages (xbr.1, xbr-serve.1, ...) to DIR",
		Args:   cobra.ExactArgs(1),
		Hidden: true, // a build step, not an operator's command
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("man: %w", err)
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true // no date line that changes every build
			root.InitDefaultVersionFlag() // --version / -v, as Execute adds them
			escapeMarkdown(root)
			header := &doc.GenManHeader{Title: "XBR", Section: "1", Source: "xbr " + Version, Manual: "xbr manual"}
			if err := doc.GenManTree(root, header, dir); err != nil {
				return fmt.Errorf("man: write the pages to %s: %w", dir, err)
			}
			return nil
		},
	}
}

// markdown escapes what the page generator, which reads the help as
// markdown, would otherwise take for HTML tags (<vm-uuid>) or emphasis
// (XBR_NATS_*) and drop from the page.
var markdown = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "<", `\<`, ">", `\>`, "[", `\[`, "]", `\]`)

// escapeMarkdown escapes the texts of c and its subcommands that the pages
// show as markdown: the summary, the description and the flags' usage.
func escapeMarkdown(c *cobra.Command) {
	c.Short, c.Long = escapeText(c.Short), escapeText(c.Long)
	c.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) { f.Usage = escapeText(f.Usage) })
	c.PersistentFlags().VisitAll(func(f *pflag.Flag) { f.Usage = escapeText(f.Usage) })
	for _, sub := range c.Commands() {
		escapeMarkdown(sub)
	}
}

// escapeText escapes each line of s but the indented ones, which markdown
// shows as code, as they are (cobra's completion commands have some).
func escapeText(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "\t") && !strings.HasPrefix(l, "    ") {
			lines[i] = markdown.Replace(l)
		}
	}
	return strings.Join(lines, "\n")
}
