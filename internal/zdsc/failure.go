package zdsc

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	zendesk "github.com/sideconv/zendesk"
)

// exitCode maps the error a command returned onto the documented exit
// codes.
func exitCode(err error) int {
	var ue *usageError
	var ie *inputError
	var se *stepError
	switch {
	case err == nil, errors.Is(err, errHelpShown):
		return ExitOK
	case errors.Is(err, errQuietUsage), errors.As(err, &ue), errors.As(err, &ie):
		return ExitUsage
	case errors.Is(err, zendesk.ErrInvalidRequest):
		// Refused by the SDK's validation: nothing was sent.
		return ExitUsage
	case errors.Is(err, zendesk.ErrIdempotencyKeyReused):
		// The --key belongs to another message: nothing was sent.
		return ExitUsage
	case errors.As(err, &se) && se.noMessage:
		// A step that sends no message (an upload) failed: whatever
		// reached Zendesk, no one was written to.
		return ExitError
	case errors.Is(err, zendesk.ErrMaybeSent):
		return ExitMaybeSent
	}
	return ExitError
}

// stepError names the step of a command that failed, such as an upload
// before a create.
type stepError struct {
	step string
	err  error
	// noMessage is set for steps that cannot send a message: their
	// ErrMaybeSent does not mean someone may have been written to.
	noMessage bool
}

func (e *stepError) Error() string { return e.step + ": " + e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// errorLine words err on one line: for an answer of Zendesk, the request,
// the status, Zendesk's code and description, the details of a validation
// answer and the request id.
func errorLine(err error, cmd *command) string {
	return safeLine(describe(err, cmd, true))
}

// maybeSentHint follows an error after which a message may have been sent.
const maybeSentHint = "; look at the side conversations before running the command again"

func describe(err error, cmd *command, hint bool) string {
	var se *stepError
	if errors.As(err, &se) {
		return se.step + ": " + describe(se.err, cmd, hint && !se.noMessage)
	}
	var ae *zendesk.APIError
	var ve *zendesk.ValidationError
	switch {
	case errors.As(err, &ve):
		line := err.Error()
		if cmd != nil {
			if f := cmd.flagOf(ve.Field); f != "" {
				line += " (" + f + ")"
			}
		}
		return line
	case errors.Is(err, zendesk.ErrIdempotencyKeyReused):
		return err.Error() + " (--key)"
	case errors.As(err, &ae):
		return apiErrorLine(ae, hint && errors.Is(err, zendesk.ErrMaybeSent))
	case hint && errors.Is(err, zendesk.ErrMaybeSent):
		return err.Error() + maybeSentHint
	}
	return err.Error()
}

// apiErrorLine words an answer of Zendesk outside 2xx.
func apiErrorLine(e *zendesk.APIError, hint bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d", e.Method, e.URL, e.StatusCode)
	if text := http.StatusText(e.StatusCode); text != "" {
		b.WriteString(" " + text)
	}
	if e.Code != "" {
		b.WriteString(": " + e.Code)
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	if d := detailsText(e.Details); d != "" {
		b.WriteString(" (" + d + ")")
	}
	if e.Code == "" && e.Description == "" && len(e.Body) > 0 {
		b.WriteString(": " + excerpt(string(e.Body), 200))
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter.Round(time.Second))
	}
	if errors.Is(e, zendesk.ErrMaybeSent) {
		b.WriteString(": the request may have reached Zendesk, so it was not resent")
		if hint {
			b.WriteString(maybeSentHint)
		}
	}
	if e.RequestID != "" {
		b.WriteString(" [request id " + e.RequestID + "]")
	}
	return b.String()
}

// detailsText words the details of a RecordInvalid answer
// ({"field": [{"description": "..."}]}), or else gives them as JSON.
func detailsText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var fields map[string][]struct {
		Description string `json:"description"`
	}
	if err := json.Unmarshal(raw, &fields); err == nil && len(fields) > 0 {
		names := make([]string, 0, len(fields))
		for name := range fields {
			names = append(names, name)
		}
		sort.Strings(names)
		var parts []string
		for _, name := range names {
			for _, d := range fields[name] {
				parts = append(parts, name+": "+d.Description)
			}
		}
		if len(parts) > 0 {
			return strings.Join(parts, "; ")
		}
	}
	return excerpt(string(raw), 300)
}

func excerpt(s string, n int) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > n {
		return safeLine(string(r[:n])) + "..."
	}
	return safeLine(s)
}

// safeLine makes text for people safe to print on one line of a terminal.
// Subjects, bodies, names and error descriptions come from Zendesk, and
// through it from anyone who writes to a side conversation: an escape
// sequence in them could set the terminal's title, clear it or move its
// cursor, and a bidirectional control could reorder what follows. Line
// breaks and tabs become spaces; other control characters (C0, DEL, C1)
// are written as \xNN and bidirectional controls as \uNNNN; bytes that
// are not UTF-8 become U+FFFD. What safeLine returns is left as it is by
// another pass.
func safeLine(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, unsafeRune) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case isBidiControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			// An invalid byte comes as utf8.RuneError, written as U+FFFD.
			b.WriteRune(r)
		}
	}
	return b.String()
}

// unsafeRune reports whether safeLine escapes r.
func unsafeRune(r rune) bool { return unicode.IsControl(r) || isBidiControl(r) }

// isBidiControl reports whether r is one of the embedding, override and
// isolate controls of the Unicode bidirectional algorithm (U+202A-U+202E,
// U+2066-U+2069).
func isBidiControl(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// flagOf names the flag behind a field of a request the SDK refused.
func (c *command) flagOf(field string) string {
	for _, m := range c.fieldFlags {
		if field == m[0] || strings.HasPrefix(field, m[0]+".") || strings.HasPrefix(field, m[0]+"[") {
			return m[1]
		}
	}
	return ""
}
