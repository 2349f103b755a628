package zdsc

import (
	"fmt"
	"strings"
)

const globalFlagsHelp = `
--demo               use the demo account: an in-memory Zendesk with ticket 1,
                     nothing leaves this machine
--json               print JSON: one object, or one object per line for lists
--debug              log every request to stderr (never a credential)
--subdomain NAME     the account NAME.zendesk.com             [ZENDESK_SUBDOMAIN]
--email ADDRESS      the agent the API token belongs to       [ZENDESK_EMAIL]
--token TOKEN        an API token                             [ZENDESK_API_TOKEN]
--oauth-token TOKEN  an OAuth access token                    [ZENDESK_OAUTH_TOKEN]
--base-url URL       another API root, such as a proxy        [ZENDESK_BASE_URL]
`

// topHelp is the text of "zdsc --help".
func topHelp() string {
	var b strings.Builder
	b.WriteString(`zdsc works with the side conversations of Zendesk tickets: e-mail threads,
Slack and Microsoft Teams channels, and child tickets.

Usage: zdsc [global flags] COMMAND ARGUMENTS [flags]

Commands:
`)
	for _, c := range commands() {
		use := c.name
		if c.args != "" {
			use += " " + c.args
		}
		fmt.Fprintf(&b, "  %-30s %s\n", use, c.summary)
	}
	b.WriteString(`
Global flags (before or after the command):
`)
	b.WriteString(indent(globalFlagsHelp))
	b.WriteString(`
Configuration:
  Flags override the environment variables in brackets. Prefer the variables
  for tokens: a flag's value shows in the process list and the shell history.
  With both an OAuth token and an API token set, the OAuth token is used.
  zdsc never prints a token, not even with --debug.

Output:
  Tables for people, --json for scripts. Colour, shortened table cells and
  the progress line of export appear only on a terminal, and neither colour
  nor progress when NO_COLOR is set or TERM is dumb. For people, control
  characters in Zendesk's text (subjects, messages, names) are shown as
  escapes such as \x1b, so they cannot act on the terminal; --json keeps
  the text as it is.

Exit codes:
  0  success
  1  an error from Zendesk or the network
  2  bad usage, or input refused before anything was sent (such as a --key
     used before for a different message), or Ctrl-C while reading stdin
  3  a request may have reached Zendesk without an answer: a message may have
     been sent. Look (zdsc list, zdsc events) before running the command again.

  Ctrl-C stops what zdsc waits for; a second Ctrl-C ends it at once.

Examples:
  zdsc --demo list 1
  zdsc --demo show 1 5c000000-0000-4000-8000-000000000001 --events
  export ZENDESK_SUBDOMAIN=acme ZENDESK_EMAIL=agent@acme.com ZENDESK_API_TOKEN=...
  zdsc create 4711 --to "email:Ann Lee <ann@example.com>" --subject "Invoice" --body "Can you check it?"

Run 'zdsc COMMAND --help' for a command's flags and examples.
`)
	return b.String()
}
