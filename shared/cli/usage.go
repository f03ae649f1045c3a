package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// exitUsage is the exit code of a mistake in the command line.
const exitUsage = 2

// usageErrors makes every mistake cobra finds in the command line under
// root a usage error (exit code 2, as the commands' own are) that names what
// is wrong and where the help is: an unknown flag, a wrong number of
// arguments, and an unknown subcommand — also under a group such as
// `config`, which cobra would answer with its help and exit 0.
func usageErrors(root *cobra.Command) {
	root.InitDefaultCompletionCmd() // a group too; cobra adds it late otherwise
	groups := map[*cobra.Command]bool{}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if args := c.Flags().Args(); groups[c] && len(args) > 0 {
			return unknownCommand(c, args[0]) // `backups lss --nats …`: the word is the mistake
		}
		return usageError(c, err)
	})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		switch {
		case c.HasSubCommands() && c.Run == nil && c.RunE == nil:
			groups[c] = true
			c.Args = cobra.ArbitraryArgs
			c.DisableFlagsInUseLine = true
			c.SuggestionsMinimumDistance = 2 // cobra's default, which only its own check sets
			c.RunE = func(c *cobra.Command, args []string) error {
				if len(args) == 0 {
					return c.Help()
				}
				return unknownCommand(c, args[0])
			}
		case c.Args != nil:
			check := c.Args
			c.Args = func(c *cobra.Command, args []string) error {
				if err := check(c, args); err != nil {
					return usageError(c, err)
				}
				return nil
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

func unknownCommand(c *cobra.Command, name string) error {
	err := fmt.Errorf("unknown command %q for %q", name, c.CommandPath())
	if s := c.SuggestionsFor(name); len(s) > 0 {
		for i := range s {
			s[i] = strconv.Quote(s[i])
		}
		err = fmt.Errorf("%w; did you mean %s?", err, strings.Join(s, " or "))
	}
	return usageError(c, err)
}

func usageError(c *cobra.Command, err error) error {
	return &ExitError{Code: exitUsage, Err: fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
}
