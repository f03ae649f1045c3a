package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
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
			header := &doc.GenManHeader{Title: "XBR", Section: "1", Source: "xbr " + Version, Manual: "xbr manual"}
			if err := doc.GenManTree(root, header, dir); err != nil {
				return fmt.Errorf("man: write the pages to %s: %w", dir, err)
			}
			return nil
		},
	}
}
