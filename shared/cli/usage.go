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
// `config`, which cobra would answer with its help and exit 0, and an
// unknown topic of `xbr help`, which cobra would answer with xbr's help.
func usageErrors(root *cobra.Command) {
	root.InitDefaultCompletionCmd() // a group too; cobra adds it late otherwise
	helpTopics(root)
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

// helpTopics makes `xbr help WORD…` refuse a WORD that names no command,
// as running it would.
func helpTopics(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	help, _, err := root.Find([]string{"help"})
	if err != nil || help == root || help.Run == nil {
		return
	}
	show := help.Run
	help.Run = nil
	help.RunE = func(c *cobra.Command, args []string) error {
		if topic, rest, err := c.Root().Find(args); err == nil && len(rest) > 0 {
			return unknownCommand(topic, rest[0])
		}
		show(c, args)
		return nil
	}
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
