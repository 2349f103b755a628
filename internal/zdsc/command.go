package zdsc

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// command is one zdsc command: its help and the function that runs it.
type command struct {
	name string
	// args names the positional arguments, such as "TICKET ID".
	args    string
	summary string
	// about explains the command; flags lists its own flags, one per
	// line; examples shows how it is typed.
	about, flags, examples string
	// fieldFlags maps fields of the SDK's validation errors onto the
	// flags that set them, for the error line.
	fieldFlags [][2]string
	run        func(ctx context.Context, a *app, args []string) error
}

// commands in the order the help lists them.
func commands() []*command {
	return []*command{
		listCommand, showCommand, eventsCommand,
		createCommand, replyCommand, closeCommand, reopenCommand,
		importCommand, importEventsCommand, exportCommand, downloadCommand,
	}
}

func lookup(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

// suggest names a command close to a mistyped one.
func suggest(name string) string {
	best, bestDist := "", 3
	for _, c := range commands() {
		d := editDistance(name, c.name)
		if strings.HasPrefix(c.name, name) && len(name) >= 2 {
			d = 1
		}
		if d < bestDist {
			best, bestDist = c.name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// helpText is the text of "zdsc COMMAND --help".
func (c *command) helpText() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: zdsc %s", c.name)
	if c.args != "" {
		b.WriteString(" " + c.args)
	}
	b.WriteString(" [flags]\n\n")
	b.WriteString(strings.TrimSpace(c.about))
	b.WriteString("\n")
	if c.flags != "" {
		b.WriteString("\nFlags:\n")
		b.WriteString(indent(c.flags))
	}
	b.WriteString("\nGlobal flags (before or after the command):\n")
	b.WriteString(indent(globalFlagsHelp))
	b.WriteString("\nExamples:\n")
	b.WriteString(indent(c.examples))
	b.WriteString("\nExit codes: 0 success, 1 error from Zendesk or the network, 2 bad usage or input\n" +
		"refused before sending, 3 a message may have been sent (see 'zdsc --help').\n")
	return b.String()
}

func indent(text string) string {
	var b strings.Builder
	for _, line := range strings.Split(strings.Trim(text, "\n"), "\n") {
		if line == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString("  " + line + "\n")
	}
	return b.String()
}

// errHelpShown ends a run that printed help because it was asked for.
var errHelpShown = errors.New("help shown")

// parse parses the flags of fs and the positional arguments of the
// command, which may come in any order ("--" ends the flags). It returns
// the positional arguments, exactly as many as the command names.
func (a *app) parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(a.env.Stdout, a.cmd.helpText())
				return nil, errHelpShown
			}
			return nil, usagef(a.cmd, "%s", flagErrorText(err))
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	a.noteGiven(fs)
	names := strings.Fields(a.cmd.args)
	switch {
	case len(pos) < len(names):
		return nil, usagef(a.cmd, "missing %s", strings.Join(names[len(pos):], " "))
	case len(pos) > len(names):
		return nil, usagef(a.cmd, "unexpected argument %q", pos[len(names)])
	}
	return pos, nil
}

// flagErrorText words an error of the flag package.
func flagErrorText(err error) string {
	msg := flagName.ReplaceAllString(err.Error(), "$1--$2")
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return "unknown flag " + name
	}
	return msg
}

// flagName finds the flag names in the flag package's errors, which it
// writes with one dash.
var flagName = regexp.MustCompile(`(defined: |argument: |flag |for )-([a-z][a-z-]+)`)

// ticketArg reads a TICKET argument.
// parseTicket parses the flags and arguments of a command whose first
// argument is a ticket, and reads the ticket.
func (a *app) parseTicket(fs *flag.FlagSet, args []string) ([]string, int64, error) {
	pos, err := a.parse(fs, args)
	if err != nil {
		return nil, 0, err
	}
	ticket, err := ticketArg(a.cmd, pos[0])
	return pos, ticket, err
}

func ticketArg(cmd *command, s string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(s, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, usagef(cmd, "TICKET must be a ticket number, not %q", s)
	}
	return id, nil
}

// usageError is bad usage of zdsc: exit code 2, nothing was sent.
type usageError struct {
	cmd *command // nil for the top level
	msg string
}

func (e *usageError) Error() string { return e.msg }

func usagef(cmd *command, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// inputError is input refused before anything was sent that is not a
// matter of usage, such as a file that cannot be read: exit code 2.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

func inputErrorf(format string, args ...any) error {
	return &inputError{err: fmt.Errorf(format, args...)}
}
