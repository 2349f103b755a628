package scripttest

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sideconv/zendesk/internal/zdsc"
	"github.com/sideconv/zendesk/zendesktest"
)

var update = flag.Bool("update", false, "rewrite the expected output in the scripts")

func TestMain(m *testing.M) {
	// Under -race every zdsc a script runs would sleep a second before
	// exiting (the race detector's default atexit_sleep_ms); testscript
	// passes GORACE on to them.
	if os.Getenv("GORACE") == "" {
		_ = os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	testscript.Main(m, map[string]func(){"zdsc": zdscCommand})
}

// zdscCommand is zdsc as cmd/zdsc wires it, except that ZDSCTEST_TERMINAL
// ("stdout", "stderr" or both, comma-separated) makes the streams count as
// terminals: testscript runs commands with pipes.
func zdscCommand() {
	terminal := strings.Split(os.Getenv("ZDSCTEST_TERMINAL"), ",")
	code := zdsc.Main(context.Background(), os.Args[1:], zdsc.Env{
		Stdin:          os.Stdin,
		Stdout:         os.Stdout,
		Stderr:         os.Stderr,
		StdoutTerminal: zdsc.IsTerminal(os.Stdout) || slices.Contains(terminal, "stdout"),
		StderrTerminal: zdsc.IsTerminal(os.Stderr) || slices.Contains(terminal, "stderr"),
		Getenv:         os.Getenv,
	})
	os.Exit(code)
}

func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:           "testdata",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			env.Values[serverKey{}] = &fixture{}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"server":        cmdServer,
			"exitcode":      cmdExitCode,
			"sent":          cmdSent,
			"conversations": cmdConversations,
			"uploads":       cmdUploads,
			"requests":      cmdRequests,
			"fault":         cmdFault,
			"nosecrets":     cmdNoSecrets,
			"seed":          cmdSeed,
			"envesc":        cmdEnvEsc,
		},
	})
}

type serverKey struct{}

// fixture is the zendesktest server of one script, if it started one.
type fixture struct {
	srv     *zendesktest.Server
	secrets []string
}

func fixtureOf(ts *testscript.TestScript) *fixture {
	return ts.Value(serverKey{}).(*fixture)
}

func serverOf(ts *testscript.TestScript) *zendesktest.Server {
	f := fixtureOf(ts)
	if f.srv == nil {
		ts.Fatalf("no server: run the server command first")
	}
	return f.srv
}

// The credentials of a script's server: secrets that must never be printed.
const (
	serverEmail = "admin@example.com"
	serverToken = "scripttest-api-token-5b2f"
)

// serverNow is the clock of a script's server.
var serverNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// cmdServer starts a zendesktest server for the script, closed when it
// ends, and points zdsc at it through ZENDESK_BASE_URL, ZENDESK_EMAIL and
// ZENDESK_API_TOKEN.
//
//	server [-demo] [-bearer TOKEN] [-tickets 1,2]
//
// -demo loads the demo account's conversations; -bearer makes the server
// accept an OAuth token too; -tickets sets the tickets that exist
// (default 1).
func cmdServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! server")
	}
	f := fixtureOf(ts)
	if f.srv != nil {
		ts.Fatalf("the server is running already")
	}
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	demo := fs.Bool("demo", false, "")
	bearer := fs.String("bearer", "", "")
	tickets := fs.String("tickets", "1", "")
	ts.Check(fs.Parse(args))
	opts := []zendesktest.Option{
		zendesktest.WithCredentials(serverEmail, serverToken),
		zendesktest.WithClock(func() time.Time { return serverNow }),
	}
	for _, s := range strings.Split(*tickets, ",") {
		id, err := strconv.ParseInt(s, 10, 64)
		ts.Check(err)
		opts = append(opts, zendesktest.WithTickets(id))
	}
	if *bearer != "" {
		opts = append(opts, zendesktest.WithBearerToken(*bearer))
		f.secrets = append(f.secrets, *bearer)
	}
	srv := zendesktest.NewServer(opts...)
	ts.Defer(srv.Close)
	f.srv = srv
	f.secrets = append(f.secrets, serverToken, base64.StdEncoding.EncodeToString([]byte(serverEmail+"/token:"+serverToken)))
	if *demo {
		ts.Check(zdsc.SeedDemo(context.Background(), srv))
		srv.ResetRequests()
	}
	ts.Setenv("ZENDESK_BASE_URL", srv.URL())
	ts.Setenv("ZENDESK_EMAIL", serverEmail)
	ts.Setenv("ZENDESK_API_TOKEN", serverToken)
}

// cmdExitCode runs a program and checks its exit code; stdout and stderr
// are kept for the commands that follow.
//
//	exitcode CODE program [args...]
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode CODE program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			ts.Fatalf("running %s: %v", args[1], err)
		}
		got = exitErr.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// wantCount compares a count with the script's expectation.
func wantCount(ts *testscript.TestScript, what string, got int, arg string) {
	want, err := strconv.Atoi(arg)
	ts.Check(err)
	if got != want {
		ts.Fatalf("%s: %d, want %d", what, got, want)
	}
}

// cmdSent checks how many messages (creates and replies) the server sent.
//
//	sent N
func cmdSent(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sent N")
	}
	wantCount(ts, "messages sent", len(serverOf(ts).SentMessages()), args[0])
}

// cmdConversations checks how many side conversations a ticket has.
//
//	conversations TICKET N
func cmdConversations(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: conversations TICKET N")
	}
	ticket, err := strconv.ParseInt(args[0], 10, 64)
	ts.Check(err)
	wantCount(ts, "side conversations of ticket "+args[0], len(serverOf(ts).SideConversations(ticket)), args[1])
}

// cmdUploads checks how many files were uploaded.
//
//	uploads N
func cmdUploads(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: uploads N")
	}
	wantCount(ts, "uploads", len(serverOf(ts).Uploads()), args[0])
}

// cmdRequests checks how many requests of a method reached the server
// ("-" for any method).
//
//	requests METHOD N
func cmdRequests(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: requests METHOD|- N")
	}
	n := 0
	for _, r := range serverOf(ts).Requests() {
		if args[0] == "-" || r.Method == args[0] {
			n++
		}
	}
	wantCount(ts, args[0]+" requests", n, args[1])
}

// cmdFault makes the server fail the next request that matches.
//
//	fault METHOD PATH status CODE [RETRY_AFTER]
//	fault METHOD PATH drop-after
//
// status answers CODE without processing the request; drop-after
// processes it and closes the connection without an answer. In PATH, *
// matches one segment.
func cmdFault(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: fault METHOD PATH status CODE [RETRY_AFTER] | fault METHOD PATH drop-after")
	}
	f := zendesktest.Fault{Method: args[0], Path: args[1]}
	switch args[2] {
	case "status":
		if len(args) < 4 {
			ts.Fatalf("fault status needs a CODE")
		}
		code, err := strconv.Atoi(args[3])
		ts.Check(err)
		f.Kind, f.Status = zendesktest.FaultStatus, code
		if len(args) > 4 {
			f.RetryAfter = args[4]
		}
	case "drop-after":
		f.Kind = zendesktest.FaultDropAfterProcessing
	default:
		ts.Fatalf("unknown fault %q", args[2])
	}
	serverOf(ts).InjectFault(f)
}

// cmdSeed loads side conversations and events into the server from a
// JSON file in any shape zendesktest.Server.Seed takes.
//
//	seed TICKET FILE
func cmdSeed(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: seed TICKET FILE")
	}
	ticket, err := strconv.ParseInt(args[0], 10, 64)
	ts.Check(err)
	ts.Check(serverOf(ts).Seed(ticket, []byte(ts.ReadFile(args[1]))))
}

// cmdNoSecrets checks that the last command printed none of the server's
// credentials: tokens, the Basic credentials, and Bearer headers.
//
//	nosecrets
func cmdNoSecrets(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: nosecrets")
	}
	secrets := fixtureOf(ts).secrets
	if len(secrets) == 0 {
		ts.Fatalf("no secrets to look for: run the server command first")
	}
	out := ts.ReadFile("stdout") + ts.ReadFile("stderr")
	for _, s := range secrets {
		if strings.Contains(out, s) {
			ts.Fatalf("the output holds the secret %q", s)
		}
	}
	if strings.Contains(out, "Authorization") || strings.Contains(out, "Bearer ") || strings.Contains(out, "Basic ") {
		ts.Fatalf("the output shows an Authorization header")
	}
}

// cmdEnvEsc sets a variable to a value written with Go's escapes (\r, \n,
// \x1b...), which testscript's env cannot write.
//
//	envesc NAME VALUE
func cmdEnvEsc(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: envesc NAME VALUE")
	}
	value, err := strconv.Unquote(`"` + strings.ReplaceAll(args[1], `"`, `\"`) + `"`)
	ts.Check(err)
	ts.Setenv(args[0], value)
}
