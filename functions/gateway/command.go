package gateway

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"xbr/shared/suggest"
)

// Chat command verbs.
const (
	VerbRestore = "restore"
	VerbBackups = "backups"
	VerbRun     = "run"
	VerbStatus  = "status"
	VerbHelp    = "help"
	// VerbHealthCheck boots a VM's backup as a test VM (chat_health.go).
	VerbHealthCheck = "healthcheck"
	// Disaster recovery (dr_chat.go).
	VerbFailover = "failover"
	VerbCopies   = "copies"
)

// MaxCommandLen bounds a chat command's text.
const MaxCommandLen = 1024

// Command is a parsed chat command.
type Command struct {
	Verb string
	// restore and backups: the VM (uuid or name); restore: which backup.
	VM     string
	Backup string    // "latest" or the time as typed
	At     time.Time // Backup parsed; zero for latest
	SR     string    // restore: sr=<uuid or name>
	Pool   string    // restore: pool=<name>
	Start  bool      // restore, failover: "start"
	Force  bool      // failover: "force" (even while the source VM runs)
	// run: the job and optionally schedule=<name>.
	Job, Schedule string
	// status: the restore request id.
	ID string
}

// Usage is the help text of the chat commands.
const Usage = "Commands:\n" +
	"• `restore <vm> [latest|<time>] [sr=<sr>] [pool=<pool>] [start]`: restore a VM's newest backup, or the one taken at <time> (YYYYMMDDTHHMMSSZ or RFC 3339, to the second)\n" +
	"• `backups <vm>`: list a VM's backups\n" +
	"• `run <job> [schedule=<schedule>]`: run a backup job now\n" +
	"• `status <id>`: the state of a restore request\n" +
	"• `copies <vm>`: a VM's standby copies and their recovery points\n" +
	"• `failover <vm> [latest|<time>] [start] [force]`: unblock start on a VM's newest standby copy as of when the request is handled (nothing is confirmed first), or the one of <time>, and boot it with start; refused while the source VM (or another copy of it) runs, unless force\n" +
	"• `healthcheck <vm> [latest|<time>] sr=<sr> [pool=<pool>]`: boot a VM's newest backup, or the one taken at <time>, as a throw-away test VM on <sr> and report whether its guest comes up\n" +
	"• `help`: this text\n" +
	"A <vm> is a uuid or a name; quote names with spaces: \"web 01\"."

// ParseCommand parses the text of a slash command. Errors name the argument
// and quote the value.
func ParseCommand(text string) (Command, error) {
	if len(text) > MaxCommandLen {
		return Command{}, fmt.Errorf("command: longer than %d bytes", MaxCommandLen)
	}
	if i := strings.IndexFunc(text, func(r rune) bool {
		return r != '\t' && r != '\n' && r != '\r' && (!unicode.IsPrint(r) || r == unicode.ReplacementChar)
	}); i >= 0 {
		return Command{}, fmt.Errorf("command: control character or invalid UTF-8 at byte %d", i)
	}
	args, err := splitArgs(text)
	if err != nil {
		return Command{}, err
	}
	if len(args) == 0 {
		return Command{Verb: VerbHelp}, nil
	}
	c := Command{Verb: strings.ToLower(args[0])}
	rest := args[1:]
	switch c.Verb {
	case VerbRestore:
		return c, c.parseRestore(rest)
	case VerbBackups:
		return c, c.parseOne("vm", rest, &c.VM)
	case VerbRun:
		return c, c.parseRun(rest)
	case VerbStatus:
		if err := c.parseOne("id", rest, &c.ID); err != nil {
			return c, err
		}
		return c, checkRequestID(c.ID)
	case VerbCopies:
		return c, c.parseOne("vm", rest, &c.VM)
	case VerbHealthCheck:
		return c, c.parseHealthCheck(rest)
	case VerbFailover:
		return c, c.parseFailover(rest)
	case VerbHelp:
		return c, nil
	}
	e := &UnknownCommandError{Verb: args[0]}
	e.Suggestion, _ = suggest.Closest(args[0], Verbs())
	return Command{}, e
}

// Verbs are the chat commands' verbs, in the order Usage lists them.
func Verbs() []string {
	return []string{VerbRestore, VerbBackups, VerbRun, VerbStatus, VerbCopies, VerbFailover, VerbHealthCheck, VerbHelp}
}

// UnknownCommandError is a verb that is not a command, with the one it is
// probably a typo of ("" when none is close).
type UnknownCommandError struct{ Verb, Suggestion string }

func (e *UnknownCommandError) Error() string {
	if e.Suggestion == "" {
		return fmt.Sprintf("unknown command %.40q (try help)", e.Verb)
	}
	return fmt.Sprintf("unknown command %.40q; did you mean %q?", e.Verb, e.Suggestion)
}

func (c *Command) parseOne(name string, args []string, dst *string) error {
	if len(args) != 1 {
		return fmt.Errorf("%s %s: want exactly one <%s>, got %d arguments", c.Verb, name, name, len(args))
	}
	*dst = args[0]
	return checkValue(name, args[0])
}

func (c *Command) parseRestore(args []string) error {
	if len(args) == 0 {
		return errors.New("restore: missing <vm>")
	}
	c.VM, c.Backup = args[0], Latest
	if err := checkValue("vm", c.VM); err != nil {
		return err
	}
	for i, a := range args[1:] {
		k, v, isOpt := strings.Cut(a, "=")
		switch {
		case isOpt && (k == "sr" || k == "pool") && strings.TrimSpace(v) == "":
			return fmt.Errorf("restore: %s= needs a value", k)
		case isOpt && k == "sr":
			c.SR = v
		case isOpt && k == "pool":
			c.Pool = v
		case !isOpt && strings.EqualFold(a, "start"):
			c.Start = true
		case !isOpt && i == 0:
			at, err := ParseBackupTime(a)
			if err != nil {
				return fmt.Errorf("restore backup %.40q: %w", a, err)
			}
			c.Backup, c.At = a, at
		default:
			return fmt.Errorf("restore: argument %.40q: want latest|<time>, sr=<sr>, pool=<pool> or start", a)
		}
	}
	for _, f := range []struct{ n, v string }{{"sr", c.SR}, {"pool", c.Pool}} {
		if err := checkText(f.n, f.v); err != nil {
			return err
		}
	}
	return nil
}

func (c *Command) parseRun(args []string) error {
	if len(args) == 0 || len(args) > 2 {
		return errors.New("run: want <job> [schedule=<schedule>]")
	}
	c.Job = args[0]
	if len(args) == 2 {
		v, ok := strings.CutPrefix(args[1], "schedule=")
		if !ok || v == "" {
			return fmt.Errorf("run: argument %.40q: want schedule=<schedule>", args[1])
		}
		c.Schedule = v
	}
	if err := checkValue("job", c.Job); err != nil {
		return err
	}
	return checkText("schedule", c.Schedule)
}

// splitArgs splits on white space; "double quotes" group words. An
// unterminated quote is an error.
func splitArgs(s string) ([]string, error) {
	var (
		out    []string
		cur    strings.Builder
		quoted bool
		inArg  bool
	)
	for _, r := range s {
		switch {
		case r == '"':
			quoted, inArg = !quoted, true
		case !quoted && (r == ' ' || r == '\t' || r == '\n' || r == '\r'):
			if inArg {
				out = append(out, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(r)
			inArg = true
		}
	}
	if quoted {
		return nil, errors.New("command: unterminated double quote")
	}
	if inArg {
		out = append(out, cur.String())
	}
	return out, nil
}

// checkValue accepts a required argument: non-empty printable text.
func checkValue(name, v string) error {
	if strings.TrimSpace(v) == "" {
		return badField(name, "", "is empty")
	}
	return checkText(name, v)
}

// checkRequestID accepts a restore request id: 1-128 of A-Z a-z 0-9 _ -.
func checkRequestID(id string) error {
	if id == "" || len(id) > 128 || strings.IndexFunc(id, func(r rune) bool {
		return !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) >= 0 {
		return badField("id", id, "is not a request id (1-128 of A-Z a-z 0-9 _ -)")
	}
	return nil
}
