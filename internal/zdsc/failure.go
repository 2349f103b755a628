package zdsc

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

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
	return oneLine(describe(err, cmd, true))
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
	s = oneLine(strings.TrimSpace(s))
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "..."
	}
	return s
}

// oneLine replaces line breaks and tabs with spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, s)
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
