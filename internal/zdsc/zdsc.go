// Package zdsc is the command-line tool zdsc: side conversations of Zendesk
// tickets from a shell. Each command is a small function over one call of
// the SDK; cmd/zdsc only wires Main to the process.
//
// The package is internal: its names may change with any release.
package zdsc

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	zendesk "github.com/sideconv/zendesk"
)

// Exit codes. Scripts can rely on them; the top-level help lists them.
const (
	// ExitOK: the command did what it was asked.
	ExitOK = 0
	// ExitError: Zendesk answered with an error, or the network failed.
	ExitError = 1
	// ExitUsage: bad usage, or input refused before anything was sent.
	ExitUsage = 2
	// ExitMaybeSent: a request may have reached Zendesk although no answer
	// came back; a message may have been sent. Look before running the
	// command again.
	ExitMaybeSent = 3
)

// Env is what a run of zdsc sees of its process.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// StdoutTerminal and StderrTerminal say whether the streams are
	// terminals. Colour, truncated table cells and the progress line of
	// export appear only on terminals.
	StdoutTerminal bool
	StderrTerminal bool
	// Getenv reads the environment (os.Getenv in the program).
	Getenv func(string) string
	// Now is the clock behind --since durations and the export rate
	// (time.Now when nil).
	Now func() time.Time
}

// IsTerminal reports whether f is a terminal (a character device). It is
// what cmd/zdsc fills Env.StdoutTerminal and Env.StderrTerminal with.
func IsTerminal(f *os.File) bool {
	if f == nil {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// app is one run: the environment, the global flags and what the command
// opened.
type app struct {
	env    Env
	g      globals
	cmd    *command
	logger *slog.Logger
	// closers run when the command returns (the demo server).
	closers []func()
}

// globals are the flags every command accepts, before or after its name.
type globals struct {
	demo, json, debug bool

	subdomain, email, token, oauthToken, baseURL string
	// given records which flags were set on the command line, so that they
	// override the environment.
	given map[string]bool
}

// Main runs zdsc with args (without the program name) and returns the exit
// code. ctx ends the run early (cmd/zdsc cancels it on an interrupt,
// through InterruptContext), also while it reads stdin.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	if env.Stdout == nil {
		env.Stdout = io.Discard
	}
	if env.Stderr == nil {
		env.Stderr = io.Discard
	}
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.Now == nil {
		env.Now = time.Now
	}
	a := &app{env: env, g: globals{given: map[string]bool{}}}
	defer a.close()
	err := a.run(ctx, args)
	return a.report(err)
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// run parses the global flags and the command name and runs the command.
func (a *app) run(ctx context.Context, args []string) error {
	fs := a.newFlagSet("zdsc")
	var help, version bool
	fs.BoolVar(&help, "help", false, "")
	fs.BoolVar(&help, "h", false, "")
	fs.BoolVar(&version, "version", false, "")
	if err := fs.Parse(args); err != nil {
		return usagef(nil, "%s", flagErrorText(err))
	}
	a.noteGiven(fs)
	rest := fs.Args()
	switch {
	case version:
		fmt.Fprintf(a.env.Stdout, "zdsc %s\n", zendesk.Version)
		return nil
	case len(rest) == 0 && help:
		fmt.Fprint(a.env.Stdout, topHelp())
		return nil
	case len(rest) == 0:
		fmt.Fprint(a.env.Stderr, topHelp())
		return errQuietUsage
	}
	name, rest := rest[0], rest[1:]
	if name == "help" {
		return a.help(rest)
	}
	cmd := lookup(name)
	if cmd == nil {
		return usagef(nil, "unknown command %q%s", name, suggest(name))
	}
	a.cmd = cmd
	if help {
		fmt.Fprint(a.env.Stdout, cmd.helpText())
		return nil
	}
	return cmd.run(ctx, a, rest)
}

// help answers "zdsc help [COMMAND]".
func (a *app) help(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(a.env.Stdout, topHelp())
		return nil
	}
	cmd := lookup(args[0])
	if cmd == nil {
		return usagef(nil, "unknown command %q%s", args[0], suggest(args[0]))
	}
	fmt.Fprint(a.env.Stdout, cmd.helpText())
	return nil
}

// errQuietUsage is a usage error whose explanation was printed already.
var errQuietUsage = errors.New("usage")

// report prints err, if any, as one line on stderr and returns the exit
// code.
func (a *app) report(err error) int {
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	if errors.Is(err, errQuietUsage) || errors.Is(err, errHelpShown) {
		return code
	}
	prefix := "zdsc"
	if a.cmd != nil {
		prefix += " " + a.cmd.name
	}
	fmt.Fprintf(a.env.Stderr, "%s: %s\n", prefix, errorLine(err, a.cmd))
	var ue *usageError
	if errors.As(err, &ue) && ue.cmd != nil {
		fmt.Fprintf(a.env.Stderr, "Run 'zdsc %s --help' for usage.\n", ue.cmd.name)
	} else if errors.As(err, &ue) {
		fmt.Fprintln(a.env.Stderr, "Run 'zdsc --help' for usage.")
	}
	return code
}

// newFlagSet returns a flag set holding the global flags, bound to a.g so
// that they may come before or after the command name.
func (a *app) newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g := &a.g
	fs.BoolVar(&g.demo, "demo", g.demo, "")
	fs.BoolVar(&g.json, "json", g.json, "")
	fs.BoolVar(&g.debug, "debug", g.debug, "")
	fs.StringVar(&g.subdomain, "subdomain", g.subdomain, "")
	fs.StringVar(&g.email, "email", g.email, "")
	fs.StringVar(&g.token, "token", g.token, "")
	fs.StringVar(&g.oauthToken, "oauth-token", g.oauthToken, "")
	fs.StringVar(&g.baseURL, "base-url", g.baseURL, "")
	return fs
}

// noteGiven records the global flags set in fs.
func (a *app) noteGiven(fs *flag.FlagSet) {
	fs.Visit(func(f *flag.Flag) { a.g.given[f.Name] = true })
}

// getenv reads a variable of the environment.
func (a *app) getenv(name string) string { return a.env.Getenv(name) }

// colour reports whether w (stdout or stderr) may be coloured: a terminal,
// NO_COLOR unset and TERM not "dumb".
func (a *app) colour(terminal bool) bool {
	return terminal && a.getenv("NO_COLOR") == "" && a.getenv("TERM") != "dumb"
}

// progress reports whether export may draw its progress line on stderr.
func (a *app) progress() bool { return a.colour(a.env.StderrTerminal) }
