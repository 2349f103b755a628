package zendesk

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestErrorBodyShapes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		status      int
		body        string
		contentType string
		code, desc  string
		details     string
		items       []ErrorItem
		sentinel    error
	}{
		{
			name: "record not found", status: 404,
			body: `{"error":"RecordNotFound","description":"Not found"}`,
			code: "RecordNotFound", desc: "Not found", sentinel: ErrNotFound,
		},
		{
			name: "record invalid with details", status: 422,
			body: `{"error":"RecordInvalid","description":"Record validation errors","details":{"to":[{"description":"Participants must be of one type"}]}}`,
			code: "RecordInvalid", desc: "Record validation errors",
			details:  `{"to":[{"description":"Participants must be of one type"}]}`,
			sentinel: ErrUnprocessable,
		},
		{
			name: "error object", status: 403,
			body: `{"error":{"title":"Forbidden","message":"You do not have access to this page."}}`,
			code: "Forbidden", desc: "You do not have access to this page.", sentinel: ErrForbidden,
		},
		{
			name: "errors array", status: 400,
			body: `{"errors":[{"code":"InvalidParameter","title":"Invalid parameter","detail":"to is required"}]}`,
			code: "InvalidParameter", desc: "to is required",
			items: []ErrorItem{{Code: "InvalidParameter", Title: "Invalid parameter", Detail: "to is required"}}, sentinel: ErrBadRequest,
		},
		{
			name: "invalid parameter", status: 400,
			body: `{"error":"InvalidParameter","description":"Invalid parameter: to is required"}`,
			code: "InvalidParameter", desc: "Invalid parameter: to is required", sentinel: ErrBadRequest,
		},
		{
			name: "unauthorized", status: 401,
			body: `{"error":"Couldn't authenticate you"}`,
			code: "Couldn't authenticate you", sentinel: ErrUnauthorized,
		},
		{
			name: "conflict", status: 409,
			body: `{"error":"Conflict","description":"The record was changed by another request"}`,
			code: "Conflict", desc: "The record was changed by another request", sentinel: ErrConflict,
		},
		{
			name: "plain text rate limit", status: 429, contentType: "text/plain",
			body: "Too Many Requests\n", sentinel: ErrRateLimited,
		},
		{
			name: "html error page", status: 502, contentType: "text/html",
			body: "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>", sentinel: ErrServer,
		},
		{
			name: "empty body", status: 404, sentinel: ErrNotFound,
		},
		{
			name: "json that is not an object", status: 500, body: `["boom"]`, sentinel: ErrServer,
		},
		{
			name: "broken json", status: 422, body: `{"error":"RecordInvalid",`, sentinel: ErrUnprocessable,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mt, _ := newMockClient(t, WithoutRetries())
			headers := []string{"X-Zendesk-Request-Id", "rid-9"}
			if tc.contentType != "" {
				headers = append(headers, "Content-Type", tc.contentType)
			}
			register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, reply(tc.status, tc.body, headers...))

			sc, resp, err := c.SideConversations.Show(context.Background(), 42, convID, nil)
			assert.Nil(t, sc)
			require.NotNil(t, resp)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.Equal(t, http.MethodGet, apiErr.Method)
			assert.Equal(t, testRoot+"tickets/42/side_conversations/"+convID, apiErr.URL)
			assert.Equal(t, tc.code, apiErr.Code)
			assert.Equal(t, tc.desc, apiErr.Description)
			assert.Equal(t, "rid-9", apiErr.RequestID)
			assert.Equal(t, tc.body, string(apiErr.Body))
			assert.Equal(t, tc.items, apiErr.Errors)
			if tc.details != "" {
				assert.JSONEq(t, tc.details, string(apiErr.Details))
			} else {
				assert.Nil(t, apiErr.Details)
			}
			assert.ErrorIs(t, err, tc.sentinel)
			for _, other := range []error{ErrNotFound, ErrUnauthorized, ErrForbidden, ErrConflict, ErrUnprocessable, ErrRateLimited, ErrServer, ErrBadRequest} {
				if !errors.Is(other, tc.sentinel) {
					assert.NotErrorIs(t, err, other)
				}
			}
			assert.NotErrorIs(t, err, ErrInvalidRequest, "an answer from Zendesk is not a client-side refusal")

			msg := err.Error()
			assert.Contains(t, msg, "rid-9")
			assert.Contains(t, msg, http.StatusText(tc.status))
			if tc.code != "" {
				assert.Contains(t, msg, tc.code)
			}
			if tc.desc != "" {
				assert.Contains(t, msg, tc.desc)
			}
		})
	}
}

// Text bodies appear in the message as one readable line.
func TestAPIErrorTextBodyInMessage(t *testing.T) {
	t.Parallel()
	e := &APIError{StatusCode: 429, Method: "GET", URL: "u", Body: []byte("Too Many\n  Requests"), RetryAfter: 7 * time.Second}
	assert.Equal(t, "zendesk: GET u: 429 Too Many Requests: Too Many Requests (retry after 7s)", e.Error())
}

func TestErrorBodyIsBounded(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t, WithoutRetries())
	huge := `{"error":"X","description":"` + strings.Repeat("a", 3<<20) + `"}`
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, reply(500, huge))
	_, _, err := c.SideConversations.Show(context.Background(), 42, convID, nil)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Len(t, apiErr.Body, errorBodyKeep)
	// The JSON was cut at 1 MiB, so it did not parse; the text is kept.
	assert.Empty(t, apiErr.Code)
	assert.Less(t, len(err.Error()), 2000)
}

func TestValidationErrorShape(t *testing.T) {
	t.Parallel()
	err := error(invalid("message.to", "needs at least one recipient"))
	assert.Equal(t, "zendesk: invalid request: message.to: needs at least one recipient", err.Error())
	assert.ErrorIs(t, err, ErrInvalidRequest)
	assert.NotErrorIs(t, err, ErrMixedParticipants)
	assert.NotErrorIs(t, err, ErrNotFound)
}

func TestDecodeErrorsOnSuccess(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body, want string
		calls            int
	}{
		// A body that broke off may come whole next time: a GET is retried.
		{"empty", "", "the body is empty", 4},
		{"truncated", `{"side_conversation":{"id":"x"`, "could not be decoded", 4},
		{"html", `<html>ok</html>`, "could not be decoded", 4},
		// The wrong shape will not change: no retry.
		{"wrong types", `{"side_conversation":{"id":42}}`, "could not be decoded", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mt, _ := newMockClient(t)
			rec := register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, reply(200, tc.body, "X-Zendesk-Request-Id", "rid-2"))
			sc, resp, err := c.SideConversations.Show(context.Background(), 42, convID, nil)
			assert.Nil(t, sc)
			require.NotNil(t, resp)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidResponse)
			assert.NotErrorIs(t, err, ErrMaybeSent, "a GET changes nothing")
			assert.Contains(t, err.Error(), tc.want)
			assert.Contains(t, err.Error(), "rid-2")
			assert.Len(t, rec.calls(), tc.calls)
			assert.Equal(t, tc.calls, resp.Attempts)
		})
	}
}

// A retried read starts from an empty value: nothing of the broken body
// stays behind.
func TestRetriedDecodeStartsClean(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID,
		reply(200, `{"side_conversation":{"id":"a","subject":"stale","external_ids":{"k":"v"},"participants":[{"email":"x@example.com"}`),
		reply(200, `{"side_conversation":{"id":"a"}}`))
	sc, resp, err := c.SideConversations.Show(context.Background(), 42, convID, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts)
	assert.Equal(t, SideConversation{ID: "a"}, *sc)
}

// A POST that succeeded but whose answer cannot be read took effect: the
// error says so.
func TestUnreadableCreateAnswerIsMaybeSent(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations", reply(201, `{"side_conversation":`))
	_, _, err := c.SideConversations.Create(context.Background(), 42, CreateRequest{Message: Message{Body: "x", To: []Participant{Email("a@example.com")}}})
	assert.ErrorIs(t, err, ErrInvalidResponse)
	assert.ErrorIs(t, err, ErrMaybeSent)
	assert.Contains(t, err.Error(), "took effect")
	assert.Len(t, rec.calls(), 1)
}

func TestResponseSizeLimit(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t, WithMaxResponseBytes(1024))
	big := `{"side_conversation":{"id":"x","subject":"` + strings.Repeat("s", 4096) + `"}}`
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, reply(200, big))
	_, _, err := c.SideConversations.Show(context.Background(), 42, convID, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrInvalidResponse)
	assert.Contains(t, err.Error(), "1024-byte limit")

	// Exactly at the limit is fine.
	exact := `{"side_conversation":{"id":"x","subject":"` + strings.Repeat("s", 1024-45) + `"}}`
	require.Len(t, exact, 1024)
	c2, mt2, _ := newMockClient(t, WithMaxResponseBytes(1024))
	register(mt2, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, reply(200, exact))
	sc, _, err := c2.SideConversations.Show(context.Background(), 42, convID, nil)
	require.NoError(t, err)
	assert.Len(t, sc.Subject, 1024-45)
}

func TestAPIErrorMaybeSentOnlyForAmbiguousPosts(t *testing.T) {
	t.Parallel()
	cases := []struct {
		method string
		status int
		retry  bool
		want   bool
	}{
		{"POST", 500, false, true},
		{"POST", 502, false, true},
		{"POST", 504, false, true},
		{"POST", 503, false, true},
		{"POST", 503, true, false},
		{"POST", 429, true, false},
		{"POST", 422, false, false},
		{"POST", 501, false, false},
		{"GET", 500, false, false},
		{"PUT", 502, false, false},
	}
	for _, tc := range cases {
		e := &APIError{Method: tc.method, StatusCode: tc.status, hasRetryAfter: tc.retry}
		assert.Equal(t, tc.want, errors.Is(e, ErrMaybeSent), "%s %d retry-after=%v", tc.method, tc.status, tc.retry)
	}
}

func TestErrorItemJSON(t *testing.T) {
	t.Parallel()
	var items []ErrorItem
	require.NoError(t, json.Unmarshal([]byte(`[{"code":"a","title":"b","detail":"c"}]`), &items))
	assert.Equal(t, []ErrorItem{{Code: "a", Title: "b", Detail: "c"}}, items)
}
