package zdsc

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

// result is what a run of Main left behind.
type result struct {
	stdout, stderr string
	code           int
}

// runMain runs Main with args and the variables in vars, stdout and stderr
// counted as terminals when terminal is set.
func runMain(t *testing.T, vars map[string]string, terminal bool, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), args, Env{
		Stdout:         &stdout,
		Stderr:         &stderr,
		StdoutTerminal: terminal,
		StderrTerminal: terminal,
		Getenv:         func(k string) string { return vars[k] },
	})
	return result{stdout.String(), stderr.String(), code}
}

func TestParseRecipient(t *testing.T) {
	t.Parallel()
	valid := map[string]zendesk.Participant{
		"email:ann@example.com":                   zendesk.Email("ann@example.com"),
		"email:Ann Lee <ann@example.com>":         zendesk.NamedEmail("ann@example.com", "Ann Lee"),
		`email:"Lee, Ann" <ann@example.com>`:      zendesk.NamedEmail("ann@example.com", "Lee, Ann"),
		"agent:123":                               zendesk.Agent(123),
		"slack:T01/C02":                           zendesk.SlackChannel("T01", "C02"),
		"group:360":                               zendesk.SupportGroup(360),
		"group:360/agent:77":                      zendesk.SupportAgent(360, 77),
		"teams:19:abc@thread.tacv2":               zendesk.TeamsChannel("19:abc@thread.tacv2"),
		"email: bob@example.com ":                 zendesk.Email("bob@example.com"),
		"email:Johnny Agent <johnny@example.com>": zendesk.NamedEmail("johnny@example.com", "Johnny Agent"),
	}
	for in, want := range valid {
		got, err := parseRecipient(in)
		if err != nil || got != want {
			t.Errorf("parseRecipient(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	invalid := map[string]string{
		"ann@example.com":         "write email:ann@example.com",
		"ann":                     "has no type",
		"fax:123":                 `unknown type "fax"`,
		"email:":                  "the address is missing",
		"email:not an address":    "is not an e-mail address",
		"agent:x":                 `must be a positive number, not "x"`,
		"agent:0":                 "must be a positive number",
		"slack:T01":               "slack:WORKSPACE_ID/CHANNEL_ID",
		"slack:/C02":              "slack:WORKSPACE_ID/CHANNEL_ID",
		"slack:T01/C02/x":         "slack:WORKSPACE_ID/CHANNEL_ID",
		"group:-1":                "the group id must be a positive number",
		"group:360/77":            "group:GROUP_ID/agent:AGENT_ID",
		"group:360/agent:":        "the agent id must be a positive number",
		"teams:":                  "teams:CHANNEL_ID",
		"Email:ann@example.com":   `unknown type "Email"`,
		"email:a@b.c, c@d.e":      "is not an e-mail address",
		"group:360/agent:77/more": "the agent id must be a positive number",
	}
	for in, want := range invalid {
		_, err := parseRecipient(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseRecipient(%q) error = %v; want one containing %q", in, err, want)
		}
	}
}

func TestParseSince(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	cases := map[string]time.Time{
		"2026-11-20T09:00:00Z":      time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC),
		"2026-11-20T10:00:00+01:00": time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC),
		"2026-11-20":                time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		"1763629200":                time.Unix(1763629200, 0),
		"36h":                       now.Add(-36 * time.Hour),
		"90m":                       now.Add(-90 * time.Minute),
		"7d":                        now.AddDate(0, 0, -7),
	}
	for in, want := range cases {
		got, err := parseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "yesterday", "-5h", "0d", "2026-13-01", "-1", "5x"} {
		if got, err := parseSince(in, now); err == nil {
			t.Errorf("parseSince(%q) = %v, want an error", in, got)
		}
	}
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	validation := zendesk.CreateRequest{}.Validate()
	notFound := &zendesk.APIError{StatusCode: 404, Method: "GET"}
	postFailed := &zendesk.APIError{StatusCode: 500, Method: "POST"}
	cases := []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errHelpShown, ExitOK},
		{usagef(nil, "bad"), ExitUsage},
		{inputErrorf("--attach x: %w", errors.New("missing")), ExitUsage},
		{validation, ExitUsage},
		{fmt.Errorf("wrapped: %w", validation), ExitUsage},
		{notFound, ExitError},
		{postFailed, ExitMaybeSent},
		{fmt.Errorf("create: %w", zendesk.ErrMaybeSent), ExitMaybeSent},
		{&stepError{step: "uploading a.txt", err: postFailed, noMessage: true}, ExitError},
		{context.Canceled, ExitError},
		{fmt.Errorf("create: %w", zendesk.ErrIdempotencyKeyReused), ExitUsage},
	}
	for _, c := range cases {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("exitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

func TestErrorLine(t *testing.T) {
	t.Parallel()
	invalid := &zendesk.APIError{
		StatusCode:  422,
		Method:      "POST",
		URL:         "https://acme.zendesk.com/api/v2/tickets/1/side_conversations",
		Code:        "RecordInvalid",
		Description: "Record validation errors",
		Details:     []byte(`{"to": [{"description": "to is required"}], "body": [{"description": "is\nempty"}]}`),
		RequestID:   "req-1",
	}
	want := "POST https://acme.zendesk.com/api/v2/tickets/1/side_conversations: 422 Unprocessable Entity: " +
		"RecordInvalid: Record validation errors (body: is empty; to: to is required) [request id req-1]"
	if got := errorLine(invalid, createCommand); got != want {
		t.Errorf("errorLine =\n%s\nwant\n%s", got, want)
	}

	maybe := &zendesk.APIError{StatusCode: 502, Method: "POST", URL: "https://acme.zendesk.com/api/v2/x", Body: []byte("<html>bad gateway</html>")}
	got := errorLine(&stepError{step: "create", err: maybe}, createCommand)
	for _, part := range []string{"create: POST", "502 Bad Gateway: <html>bad gateway</html>", "may have reached Zendesk", "look at the side conversations before running the command again"} {
		if !strings.Contains(got, part) {
			t.Errorf("errorLine = %q, want it to contain %q", got, part)
		}
	}

	mixed := zendesk.CreateRequest{Message: zendesk.Message{Body: "x", To: []zendesk.Participant{zendesk.Email("a@example.com"), zendesk.SlackChannel("T", "C")}}}.Validate()
	if got := errorLine(mixed, createCommand); got != mixed.Error()+" (set --to)" {
		t.Errorf("errorLine(mixed) = %q, want the SDK's message and the flag", got)
	}
}

func TestTableOutput(t *testing.T) {
	t.Parallel()
	newTable := func() *table {
		t := conversationsTable()
		t.add("id-1", "open", strings.Repeat("s", 50), "email", "Ann", "-")
		t.add("id-2", "closed", "short", "slack", "", "-")
		return t
	}
	print := func(terminal bool, vars map[string]string) string {
		var out bytes.Buffer
		a := &app{env: Env{Stdout: &out, StdoutTerminal: terminal, Getenv: func(k string) string { return vars[k] }}}
		if err := a.printTable(newTable()); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}

	pipe := print(false, nil)
	if strings.Contains(pipe, "\x1b[") || !strings.Contains(pipe, strings.Repeat("s", 50)) {
		t.Errorf("through a pipe the table has colour or shortened cells:\n%s", pipe)
	}
	if strings.Contains(pipe, " \n") {
		t.Errorf("a line ends in spaces:\n%q", pipe)
	}
	terminal := print(true, nil)
	for _, want := range []string{sgrBold + "ID" + sgrReset, sgrGreen + "open" + sgrReset, sgrGrey + "closed" + sgrReset, strings.Repeat("s", 39) + "…"} {
		if !strings.Contains(terminal, want) {
			t.Errorf("on a terminal the table lacks %q:\n%s", want, terminal)
		}
	}
	for _, vars := range []map[string]string{{"NO_COLOR": "1"}, {"TERM": "dumb"}} {
		if got := print(true, vars); strings.Contains(got, "\x1b[") {
			t.Errorf("with %v the table has colour:\n%s", vars, got)
		}
	}
}

func TestProgress(t *testing.T) {
	t.Parallel()
	clock := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	var out bytes.Buffer
	p := newProgress(&out, now)
	at := time.Date(2026, 11, 20, 9, 14, 5, 0, time.UTC)
	clock = clock.Add(100 * time.Millisecond)
	p.add(at) // too soon after the first line to draw
	if got := out.String(); got != "\r\x1b[Kexported 0 events" {
		t.Fatalf("progress drew %q before its interval", got)
	}
	clock = clock.Add(100 * time.Millisecond)
	p.add(at)
	clock = clock.Add(800 * time.Millisecond)
	p.add(at.Add(time.Second))
	p.finish()
	p.add(at) // after finish nothing more is drawn
	want := "\r\x1b[Kexported 0 events" +
		"\r\x1b[Kexported 2 events, 10/s, at 2026-11-20 09:14 UTC" +
		"\r\x1b[Kexported 3 events, 3/s, at 2026-11-20 09:14 UTC" +
		"\r\x1b[Kexported 3 events, 3/s, at 2026-11-20 09:14 UTC; resume with --since 2026-11-20T09:14:06Z\n"
	if got := out.String(); got != want {
		t.Errorf("progress =\n%q\nwant\n%q", got, want)
	}
	var none *progress
	none.add(at)
	none.finish()
}

func TestExportProgressOnlyOnTerminals(t *testing.T) {
	t.Parallel()
	onTerminal := runMain(t, nil, true, "--demo", "export", "--since", "2026-11-22")
	if onTerminal.code != ExitOK || !strings.Contains(onTerminal.stderr, "exported 2 events") {
		t.Errorf("export on a terminal: exit %d, stderr %q; want the progress line", onTerminal.code, onTerminal.stderr)
	}
	for name, r := range map[string]result{
		"pipe":     runMain(t, nil, false, "--demo", "export", "--since", "2026-11-22"),
		"NO_COLOR": runMain(t, map[string]string{"NO_COLOR": "1"}, true, "--demo", "export", "--since", "2026-11-22"),
	} {
		if r.code != ExitOK || strings.Contains(r.stderr, "exported") {
			t.Errorf("export through a %s: exit %d, stderr %q; want no progress", name, r.code, r.stderr)
		}
		if n := strings.Count(r.stdout, "\n"); n != 2 {
			t.Errorf("export through a %s printed %d lines, want 2:\n%s", name, n, r.stdout)
		}
	}
}

// TestDebugKeepsSecrets runs commands with --debug against a server, with
// API-token and with OAuth credentials, from flags and from the
// environment, successful and failing, and looks for the secrets in
// everything printed.
func TestDebugKeepsSecrets(t *testing.T) {
	t.Parallel()
	const (
		email    = "admin@example.com"
		apiToken = "api-token-6f1c2e9a"
		oauth    = "oauth-token-93b7d4e0"
	)
	srv := zendesktest.Start(t, zendesktest.WithCredentials(email, apiToken), zendesktest.WithBearerToken(oauth))
	secrets := []string{
		apiToken, oauth,
		base64.StdEncoding.EncodeToString([]byte(email + "/token:" + apiToken)),
		"Bearer " + oauth,
	}
	runs := map[string]struct {
		vars map[string]string
		args []string
	}{
		"api token from env": {
			map[string]string{"ZENDESK_BASE_URL": srv.URL(), "ZENDESK_EMAIL": email, "ZENDESK_API_TOKEN": apiToken},
			[]string{"--debug", "list", "1"},
		},
		"api token from flags": {
			nil,
			[]string{"--debug", "--base-url", srv.URL(), "--email", email, "--token", apiToken, "show", "1", "missing"},
		},
		"oauth from env": {
			map[string]string{"ZENDESK_BASE_URL": srv.URL(), "ZENDESK_OAUTH_TOKEN": oauth},
			[]string{"list", "1", "--debug", "--json"},
		},
		"oauth from flags, refused": {
			nil,
			[]string{"--debug", "--base-url", srv.URL(), "--oauth-token", oauth + "-wrong", "list", "1"},
		},
		"create": {
			map[string]string{"ZENDESK_BASE_URL": srv.URL(), "ZENDESK_OAUTH_TOKEN": oauth},
			[]string{"--debug", "create", "1", "--to", "email:ann@example.com", "--body", "hello"},
		},
	}
	for name, run := range runs {
		r := runMain(t, run.vars, false, run.args...)
		if !strings.Contains(r.stderr, `msg="zendesk request"`) || !strings.Contains(r.stderr, "credentials.token=[REDACTED]") {
			t.Errorf("%s: --debug logged no request or no redacted credentials:\n%s", name, r.stderr)
		}
		for _, s := range secrets {
			if strings.Contains(r.stdout+r.stderr, s) {
				t.Errorf("%s: the output holds the secret %q:\n%s%s", name, s, r.stdout, r.stderr)
			}
		}
	}
}

func TestDemoList(t *testing.T) {
	t.Parallel()
	r := runMain(t, nil, false, "--demo", "list", "1")
	want := "" +
		"ID                                    STATE   SUBJECT                             CHANNEL       PARTICIPANTS                                  LAST MESSAGE\n" +
		"5c000000-0000-4000-8000-000000000001  closed  Invoice INV-2041 was charged twice  email         Zendesktest Agent, Ann Lee                    2026-11-20 11:02 UTC\n" +
		"5c000000-0000-4000-8000-000000000002  open    Are EU card payments failing?       slack         Zendesktest Agent, slack:T0DEMO01/C0PAYMENTS  2026-11-21 08:41 UTC\n" +
		"5c000000-0000-4000-8000-000000000003  open    Replace the fuser of printer 3      child_ticket  Zendesktest Agent, group:360/agent:77         2026-11-22 16:20 UTC\n"
	if r.code != ExitOK || r.stdout != want || r.stderr != "" {
		t.Errorf("zdsc --demo list 1: exit %d\nstdout:\n%s\nstderr:\n%s\nwant stdout:\n%s", r.code, r.stdout, r.stderr, want)
	}
}

func TestFlagErrorText(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"flag provided but not defined: -bogus":                "unknown flag --bogus",
		"flag needs an argument: -to":                          "flag needs an argument: --to",
		`invalid value "-x" for flag -page: parse error`:       `invalid value "-x" for flag --page: parse error`,
		`invalid boolean value "maybe" for -json: parse error`: `invalid boolean value "maybe" for --json: parse error`,
	}
	for in, want := range cases {
		if got := flagErrorText(errors.New(in)); got != want {
			t.Errorf("flagErrorText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAttachmentNames(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"invoice.pdf": "",
		".hidden":     "",
		"a..b":        "",
		"":            "is empty",
		" ":           "is empty",
		"../evil.txt": "holds a directory",
		`..\evil.txt`: "holds a directory",
		"/etc/passwd": "holds a directory",
		".":           "is only dots",
		"..":          "is only dots",
		"...":         "is only dots",
		"bad\x00name": "holds control characters",
		"line\nbreak": "holds control characters",
	} {
		if got := unsafeName(name); got != want {
			t.Errorf("unsafeName(%q) = %q, want %q", name, got, want)
		}
	}
	taken := map[string]bool{}
	var got []string
	for _, name := range []string{"a.txt", "a.txt", "a.txt", "b", "b", "a-2.txt"} {
		n := freeName(name, taken)
		taken[n] = true
		got = append(got, n)
	}
	want := []string{"a.txt", "a-2.txt", "a-3.txt", "b", "b-2", "a-2-2.txt"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("freeName gave %v, want %v", got, want)
	}
}

func TestSafeLine(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"Invoice INV-2041":                    "Invoice INV-2041",
		"Grüße, 請求書 ✓":                        "Grüße, 請求書 ✓",
		"two\nlines\r\nand\ta tab":            "two lines  and a tab",
		"\x1b]0;owned\x07title":               `\x1b]0;owned\x07title`,
		"clear\x1b[2J\x1b[Hhome":              `clear\x1b[2J\x1b[Hhome`,
		"del\x7f nul\x00":                     `del\x7f nul\x00`,
		"c1 \u009b31m csi":                    `c1 \x9b31m csi`,
		"bidi \u202eevil\u202c \u2066x\u2069": `bidi \u202eevil\u202c \u2066x\u2069`,
		"bad \xff\xfe utf-8":                  "bad \ufffd\ufffd utf-8",
		`already \x1b escaped`:                `already \x1b escaped`,
	}
	for in, want := range cases {
		got := safeLine(in)
		if got != want {
			t.Errorf("safeLine(%q) = %q, want %q", in, got, want)
		}
		if again := safeLine(got); again != got {
			t.Errorf("safeLine(%q) = %q, a second pass changed it", got, again)
		}
	}
}

// TestErrorLineQuotesSafely checks that an error answer's text from
// Zendesk reaches stderr without its control characters.
func TestErrorLineQuotesSafely(t *testing.T) {
	t.Parallel()
	errs := []error{
		&zendesk.APIError{StatusCode: 422, Method: "POST", URL: "https://acme.zendesk.com/x",
			Code: "RecordInvalid\x1b[2J", Description: "bad \x1b]0;owned\x07 input\u202e",
			Details: []byte(`{"to": [{"description": "is \u001b[31mred"}]}`)},
		&zendesk.APIError{StatusCode: 500, Method: "GET", URL: "https://acme.zendesk.com/x", Body: []byte("oops\x1b[H\x9b")},
		&stepError{step: "uploading a.txt", err: errors.New("read \x1b[2J failed")},
	}
	for _, err := range errs {
		got := errorLine(err, createCommand)
		if i := strings.IndexFunc(got, unsafeRune); i >= 0 {
			t.Errorf("errorLine(%v) = %q: a control character at %d", err, got, i)
		}
		if !strings.Contains(got, `\x1b[`) {
			t.Errorf("errorLine(%v) = %q: the escape is not shown", err, got)
		}
	}
}

// TestOneLineAnswersQuoteSafely runs create with a subject that holds
// escape sequences: the answer quotes it with them made visible.
func TestOneLineAnswersQuoteSafely(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	vars := map[string]string{"ZENDESK_BASE_URL": srv.URL(), "ZENDESK_EMAIL": zendesktest.DefaultEmail, "ZENDESK_API_TOKEN": zendesktest.DefaultAPIToken}
	r := runMain(t, vars, true, "create", "1", "--to", "email:ann@example.com", "--subject", "\x1b]0;owned\x07Hi\u202e", "--body", "x")
	want := "Created side conversation 5c000000-0000-4000-8000-000000000001 on ticket 1: " + `\x1b]0;owned\x07Hi\u202e` + " (email, open)\n"
	if r.code != ExitOK || r.stdout != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want stdout %q", r.code, r.stdout, r.stderr, want)
	}
	r = runMain(t, vars, true, "create", "1", "--to", "email:ann@example.com", "--subject", "\x1b]0;owned\x07Hi", "--json")
	if r.code != ExitOK || !strings.Contains(r.stdout, `"subject": "\u001b]0;owned\u0007Hi"`) {
		t.Errorf("--json: exit %d, stdout %q; want the subject as it came, JSON-escaped", r.code, r.stdout)
	}
}

// firstWriteWatcher is a stdout that records how many requests had
// reached the server when zdsc first wrote to it.
type firstWriteWatcher struct {
	srv      *zendesktest.Server
	requests int // -1 until the first write
	out      bytes.Buffer
}

func (w *firstWriteWatcher) Write(p []byte) (int, error) {
	if w.requests < 0 {
		w.requests = len(w.srv.Requests())
	}
	return w.out.Write(p)
}

// TestListAllOutput checks what list's help says of --all: the table comes
// once the last page is in, while --json prints each page as it comes.
func TestListAllOutput(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t, zendesktest.WithTickets(DemoTicket))
	if err := SeedDemo(t.Context(), srv); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"ZENDESK_BASE_URL": srv.URL(), "ZENDESK_EMAIL": zendesktest.DefaultEmail, "ZENDESK_API_TOKEN": zendesktest.DefaultAPIToken}
	for _, tc := range []struct {
		json bool
		want int // requests made before the first write
	}{{json: false, want: 3}, {json: true, want: 1}} {
		srv.ResetRequests()
		args := []string{"list", "1", "--all", "--per-page", "1"}
		if tc.json {
			args = append(args, "--json")
		}
		w := &firstWriteWatcher{srv: srv, requests: -1}
		code := Main(t.Context(), args, Env{Stdout: w, Getenv: func(k string) string { return vars[k] }})
		if code != ExitOK || w.requests != tc.want || len(srv.Requests()) != 3 {
			t.Errorf("%v: exit %d, first write after %d of %d requests, want after %d\n%s",
				args, code, w.requests, len(srv.Requests()), tc.want, w.out.String())
		}
	}
}
