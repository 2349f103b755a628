package zendesk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Sentinel errors. Test for them with errors.Is; reach the details with
// errors.As and *APIError or *ValidationError.
var (
	// ErrInvalidRequest is matched by every client-side validation error:
	// the request was refused before anything was sent.
	ErrInvalidRequest = errors.New("zendesk: invalid request")
	// ErrMixedParticipants is matched when one message mixes participant types
	// (e-mail, Slack, child ticket, Microsoft Teams). It matches
	// ErrInvalidRequest too.
	ErrMixedParticipants = fmt.Errorf("%w: participant types are mixed", ErrInvalidRequest)

	// ErrBadRequest is matched by an *APIError with status 400.
	ErrBadRequest = errors.New("zendesk: bad request")
	// ErrUnauthorized is matched by an *APIError with status 401.
	ErrUnauthorized = errors.New("zendesk: unauthorized")
	// ErrForbidden is matched by an *APIError with status 403.
	ErrForbidden = errors.New("zendesk: forbidden")
	// ErrNotFound is matched by an *APIError with status 404.
	ErrNotFound = errors.New("zendesk: not found")
	// ErrConflict is matched by an *APIError with status 409 (a concurrent change).
	ErrConflict = errors.New("zendesk: conflict")
	// ErrUnprocessable is matched by an *APIError with status 422; resending
	// the same request will not help.
	ErrUnprocessable = errors.New("zendesk: unprocessable entity")
	// ErrRateLimited is matched by an *APIError with status 429. Its
	// RetryAfter says when Zendesk accepts requests again.
	ErrRateLimited = errors.New("zendesk: rate limited")
	// ErrServer is matched by an *APIError with a 5xx status.
	ErrServer = errors.New("zendesk: server error")

	// ErrInvalidResponse is matched when Zendesk answered with a success
	// status but a body that could not be decoded (empty, truncated, of the
	// wrong shape, or larger than the client's limit).
	ErrInvalidResponse = errors.New("zendesk: invalid response")
)

// ValidationError reports input refused before anything was sent. Field names
// the offending field by its JSON path, such as "message.to[1].slack_channel_id".
// Every ValidationError matches ErrInvalidRequest with errors.Is.
type ValidationError struct {
	Field  string
	Reason string

	// kind is a more precise sentinel (ErrMixedParticipants) or nil.
	kind error
}

// Error names the field and the reason.
func (e *ValidationError) Error() string {
	if e.Field == "" {
		return "zendesk: invalid request: " + e.Reason
	}
	return "zendesk: invalid request: " + e.Field + ": " + e.Reason
}

// Unwrap returns the sentinel the error matches: ErrMixedParticipants (which
// itself matches ErrInvalidRequest) or ErrInvalidRequest.
func (e *ValidationError) Unwrap() error {
	if e.kind != nil {
		return e.kind
	}
	return ErrInvalidRequest
}

func invalid(field, reason string) *ValidationError {
	return &ValidationError{Field: field, Reason: reason}
}

func invalidf(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ErrorItem is one entry of an "errors" array in a Zendesk error body.
type ErrorItem struct {
	Code   string `json:"code,omitempty"`
	Title  string `json:"title,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// APIError is returned for every response with a status outside 2xx.
type APIError struct {
	StatusCode int
	Method     string
	// URL is the request URL. It never carries credentials: the client sends
	// them only in the Authorization header.
	URL string
	// Code and Description are Zendesk's "error" and "description" (for
	// example "RecordNotFound" and "Not found"), or the "title" and "message"
	// of an error object, or the first entry of an "errors" array.
	Code        string
	Description string
	// Details holds Zendesk's "details" object as it came, such as the
	// per-field reasons of a RecordInvalid answer.
	Details json.RawMessage
	Errors  []ErrorItem
	// RequestID is the X-Zendesk-Request-Id header: quote it to Zendesk support.
	RequestID string
	// RetryAfter is the wait the server asked for (429, 503), or zero.
	RetryAfter time.Duration
	// Body is the start of the raw body (at most 64 KiB), kept for bodies
	// that are not JSON, such as text/plain or an HTML error page.
	Body []byte

	hasRetryAfter bool
}

// Error gives the method, URL, status, Zendesk's code and description (or
// the start of a text body), the Retry-After and the request id.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("zendesk: ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.URL)
	b.WriteString(": ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	if text := http.StatusText(e.StatusCode); text != "" {
		b.WriteByte(' ')
		b.WriteString(text)
	}
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	switch {
	case e.Description != "":
		b.WriteString(": ")
		b.WriteString(e.Description)
	case e.Code == "" && len(e.Body) > 0:
		b.WriteString(": ")
		b.WriteString(bodyExcerpt(e.Body, 200))
	}
	if e.RetryAfter > 0 {
		b.WriteString(" (retry after ")
		b.WriteString(e.RetryAfter.String())
		b.WriteByte(')')
	}
	if e.Is(ErrMaybeSent) {
		b.WriteString(": the request may have reached Zendesk, so it was not resent")
	}
	if e.RequestID != "" {
		b.WriteString(" [request id ")
		b.WriteString(e.RequestID)
		b.WriteByte(']')
	}
	return b.String()
}

// Is maps the status code onto the sentinels ErrBadRequest, ErrUnauthorized,
// ErrForbidden, ErrNotFound, ErrConflict, ErrUnprocessable, ErrRateLimited
// and ErrServer. A POST answered with a 5xx status other than 501, 505 and
// a 503 with Retry-After also matches ErrMaybeSent: Zendesk may have acted
// on it.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrMaybeSent:
		return !idempotent(e.Method) && statusOutcome(e.StatusCode, e.hasRetryAfter) == maybeProcessed
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrUnprocessable:
		return e.StatusCode == http.StatusUnprocessableEntity
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServer:
		return e.StatusCode >= 500 && e.StatusCode <= 599
	}
	return false
}

const (
	// errorBodyReadLimit bounds how much of an error body is read at all.
	errorBodyReadLimit = 1 << 20
	// errorBodyKeep bounds how much of it an APIError keeps.
	errorBodyKeep = 64 << 10
)

// parseErrorBody fills the Zendesk fields of e from body, which may be any of
// the shapes Zendesk answers with, or not JSON at all.
func (e *APIError) parseErrorBody(body []byte) {
	// A copy of what is kept: the error may live long, the read buffer
	// (up to errorBodyReadLimit) must not live with it.
	e.Body = bytes.Clone(body[:min(len(body), errorBodyKeep)])
	if firstByte(body) != '{' {
		return
	}
	var wire struct {
		Error       json.RawMessage `json:"error"`
		Description json.RawMessage `json:"description"`
		Message     json.RawMessage `json:"message"`
		Details     json.RawMessage `json:"details"`
		Errors      json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &wire) != nil {
		return
	}
	var title struct {
		Title   string `json:"title"`
		Message string `json:"message"`
	}
	switch {
	case decodeString(wire.Error, &e.Code):
	case json.Unmarshal(wire.Error, &title) == nil && (title.Title != "" || title.Message != ""):
		e.Code, e.Description = title.Title, title.Message
	}
	if e.Description == "" && !decodeString(wire.Description, &e.Description) {
		decodeString(wire.Message, &e.Description)
	}
	if len(wire.Details) > 0 && string(wire.Details) != "null" {
		e.Details = wire.Details
	}
	if len(wire.Errors) > 0 && json.Unmarshal(wire.Errors, &e.Errors) == nil && len(e.Errors) > 0 {
		first := e.Errors[0]
		if e.Code == "" {
			e.Code = first.Code
			if e.Code == "" {
				e.Code = first.Title
			}
		}
		if e.Description == "" {
			e.Description = first.Detail
			if e.Description == "" && first.Title != e.Code {
				e.Description = first.Title
			}
		}
	}
}

// decodeString reports whether raw is a JSON string, storing it in dst.
func decodeString(raw json.RawMessage, dst *string) bool {
	if len(raw) == 0 || raw[0] != '"' {
		return false
	}
	return json.Unmarshal(raw, dst) == nil
}

// bodyExcerpt returns the start of a non-JSON body as one readable line.
func bodyExcerpt(body []byte, limit int) string {
	s := string(body[:min(len(body), limit*4)])
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) > limit {
		r := []rune(s)
		s = string(r[:limit]) + "…"
	}
	return s
}
