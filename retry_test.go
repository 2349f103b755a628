package zendesk

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var emailMessage = Message{Subject: "s", Body: "b", To: []Participant{Email("someone@example.com")}}

func createOn(c *Client) (*SideConversationResult, *Response, error) {
	return c.SideConversations.Create(context.Background(), 42, CreateRequest{Message: emailMessage})
}

func fail(err error) func(*http.Request) (*http.Response, error) {
	return func(*http.Request) (*http.Response, error) { return nil, err }
}

var (
	dialRefused = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	readReset   = &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
)

func TestRetry429ThenCreatedOnPost(t *testing.T) {
	t.Parallel()
	c, mt, w := newMockClient(t)
	created := string(fixture(t, "responses/create_side_conversation.json"))
	rec := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations",
		reply(429, "Too Many Requests", "Retry-After", "7", "Content-Type", "text/plain"),
		reply(201, created))

	res, resp, err := createOn(c)
	require.NoError(t, err)
	assert.Equal(t, convID, res.SideConversation.ID)
	assert.Len(t, rec.calls(), 2)
	assert.Equal(t, 2, resp.Attempts)
	assert.Equal(t, []time.Duration{7 * time.Second}, w.all(), "the wait is Zendesk's Retry-After")
	calls := rec.calls()
	assert.Equal(t, calls[0].Body, calls[1].Body, "the retry sends the same bytes")
	assert.Equal(t, testBasic, calls[1].Header.Get("Authorization"))
}

func TestNoRetryOf500OnPost(t *testing.T) {
	t.Parallel()
	c, mt, w := newMockClient(t)
	rec := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations",
		reply(500, `{"error":"InternalError"}`), reply(201, string(fixture(t, "responses/create_side_conversation.json"))))

	res, resp, err := createOn(c)
	assert.Nil(t, res)
	assert.Len(t, rec.calls(), 1)
	assert.Empty(t, w.all())
	require.NotNil(t, resp)
	assert.Equal(t, 1, resp.Attempts)
	assert.ErrorIs(t, err, ErrServer)
	assert.ErrorIs(t, err, ErrMaybeSent)
}

func TestRetry502TwiceThenOKOnGet(t *testing.T) {
	t.Parallel()
	c, mt, w := newMockClient(t)
	rec := register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID,
		reply(502, "<html>Bad Gateway</html>"), reply(502, "<html>Bad Gateway</html>"),
		reply(200, string(fixture(t, "responses/show_side_conversation.json"))))

	sc, resp, err := c.SideConversations.Show(context.Background(), 42, convID, nil)
	require.NoError(t, err)
	assert.Equal(t, convID, sc.ID)
	assert.Len(t, rec.calls(), 3)
	assert.Equal(t, 3, resp.Attempts)
	waits := w.all()
	require.Len(t, waits, 2)
	for _, d := range waits {
		assert.GreaterOrEqual(t, d, 500*time.Millisecond)
		assert.LessOrEqual(t, d, 30*time.Second)
	}
}

func TestRetryAfterAboveCapFailsAtOnce(t *testing.T) {
	t.Parallel()
	c, mt, w := newMockClient(t, WithRetryPolicy(RetryPolicy{MaxRetryAfter: 10 * time.Second, Wait: func(context.Context, time.Duration) error {
		return errors.New("must not wait")
	}}))
	rec := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations",
		reply(429, `{"error":"TooManyRequests"}`, "Retry-After", "120"))

	_, resp, err := createOn(c)
	assert.Len(t, rec.calls(), 1)
	assert.Empty(t, w.all())
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 120*time.Second, apiErr.RetryAfter)
	assert.ErrorIs(t, err, ErrRateLimited)
	assert.NotErrorIs(t, err, ErrMaybeSent, "a 429 was not processed")
	assert.Equal(t, 1, resp.Attempts)
	assert.Contains(t, err.Error(), "retry after 2m0s")
}

func TestRetryRules(t *testing.T) {
	t.Parallel()
	ok := reply(200, string(fixture(t, "responses/show_side_conversation.json")))
	created := reply(201, string(fixture(t, "responses/create_side_conversation.json")))
	cases := []struct {
		name      string
		method    string
		first     func(*http.Request) (*http.Response, error)
		wantCalls int
		maybeSent bool
	}{
		{"GET 429 without Retry-After", "GET", reply(429, ""), 2, false},
		{"GET 500", "GET", reply(500, ""), 2, false},
		{"GET 501 is final", "GET", reply(501, ""), 1, false},
		{"GET 503 without Retry-After", "GET", reply(503, ""), 2, false},
		{"GET 504", "GET", reply(504, ""), 2, false},
		{"GET 404 is final", "GET", reply(404, `{"error":"RecordNotFound","description":"Not found"}`), 1, false},
		{"GET 409 is final", "GET", reply(409, ""), 1, false},
		{"GET reset", "GET", fail(readReset), 2, false},
		{"GET dial refused", "GET", fail(dialRefused), 2, false},
		{"PUT 502", "PUT", reply(502, ""), 2, false},
		{"PUT reset", "PUT", fail(readReset), 2, false},
		{"POST 429", "POST", reply(429, "", "Retry-After", "1"), 2, false},
		{"POST 503 with Retry-After", "POST", reply(503, "", "Retry-After", "2"), 2, false},
		{"POST 503 without Retry-After", "POST", reply(503, ""), 1, true},
		{"POST 500", "POST", reply(500, ""), 1, true},
		{"POST 502", "POST", reply(502, ""), 1, true},
		{"POST 504", "POST", reply(504, ""), 1, true},
		{"POST 422", "POST", reply(422, `{"error":"RecordInvalid"}`), 1, false},
		{"POST reset after write", "POST", fail(readReset), 1, true},
		{"POST unexpected EOF", "POST", fail(io.ErrUnexpectedEOF), 1, true},
		{"POST dial refused", "POST", fail(dialRefused), 2, false},
		{"POST DNS failure", "POST", fail(&net.DNSError{Err: "no such host", Name: "acme.zendesk.com"}), 2, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mt, _ := newMockClient(t)
			var rec *recorder
			var err error
			switch tc.method {
			case "POST":
				rec = register(mt, "POST", testRoot+"tickets/42/side_conversations", tc.first, created)
				_, _, err = createOn(c)
			case "PUT":
				rec = register(mt, "PUT", testRoot+"tickets/42/side_conversations/"+convID, tc.first, ok)
				_, _, err = c.SideConversations.Update(context.Background(), 42, convID, UpdateRequest{State: StateClosed})
			default:
				rec = register(mt, "GET", testRoot+"tickets/42/side_conversations/"+convID, tc.first, ok)
				_, _, err = c.SideConversations.Show(context.Background(), 42, convID, nil)
			}
			assert.Len(t, rec.calls(), tc.wantCalls)
			if tc.wantCalls == 2 {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tc.maybeSent, errors.Is(err, ErrMaybeSent), "%v", err)
			if tc.maybeSent {
				assert.Contains(t, err.Error(), "may have reached Zendesk")
			}
		})
	}
}

func TestRetriesExhausted(t *testing.T) {
	t.Parallel()
	w := &waits{}
	c, mt, _ := newMockClient(t, WithRetryPolicy(RetryPolicy{MaxRetries: 2, Wait: w.wait}))
	w.attach(c)
	rec := register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID,
		reply(503, `{"error":"DatabaseTimeout","description":"try again"}`, "Retry-After", "3", "X-Zendesk-Request-Id", "last"))
	_, resp, err := c.SideConversations.Show(context.Background(), 42, convID, nil)
	assert.Len(t, rec.calls(), 3)
	assert.Equal(t, []time.Duration{3 * time.Second, 3 * time.Second}, w.all())
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 503, apiErr.StatusCode)
	assert.Equal(t, "DatabaseTimeout", apiErr.Code)
	assert.Equal(t, "last", apiErr.RequestID)
	assert.Equal(t, 3*time.Second, apiErr.RetryAfter)
	assert.Equal(t, 3, resp.Attempts)
}

func TestWithoutRetries(t *testing.T) {
	t.Parallel()
	c, mt, w := newMockClient(t, WithoutRetries())
	rec := register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, reply(502, ""))
	_, resp, err := c.SideConversations.Show(context.Background(), 42, convID, nil)
	assert.ErrorIs(t, err, ErrServer)
	assert.Len(t, rec.calls(), 1)
	assert.Empty(t, w.all())
	assert.Equal(t, 1, resp.Attempts)
}

// A cancelled context ends a wait at once, with the context's error.
func TestContextCancelDuringWait(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	started := make(chan struct{})
	c, err := NewClient("acme", APIToken(testEmail, testToken), WithHTTPClient(&http.Client{Transport: mt}),
		WithRetryPolicy(RetryPolicy{MinWait: time.Hour, MaxWait: time.Hour, OnRetry: func(RetryInfo) { close(started) }}))
	require.NoError(t, err)
	rec := register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, reply(502, ""))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := c.SideConversations.Show(ctx, 42, convID, nil)
		done <- err
	}()
	<-started
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
		assert.NotErrorIs(t, err, ErrMaybeSent)
		assert.Len(t, rec.calls(), 1)
	case <-time.After(time.Minute): // only turns a hang into a failure
		t.Fatal("the call did not return after its context was cancelled")
	}
}

func TestCancelledContextSendsNothing(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations", reply(201, "{}"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := c.SideConversations.Create(ctx, 42, CreateRequest{Message: emailMessage})
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, ErrMaybeSent, "nothing was sent")
	assert.Empty(t, rec.calls())
}

func TestOnRetryAndLogger(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var mu sync.Mutex
	var infos []RetryInfo
	mt := httpmock.NewMockTransport()
	w := &waits{}
	c, err := NewClient("acme", APIToken(testEmail, testToken),
		WithHTTPClient(&http.Client{Transport: mt}),
		WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithRetryPolicy(RetryPolicy{Wait: w.wait, OnRetry: func(i RetryInfo) { mu.Lock(); infos = append(infos, i); mu.Unlock() }}))
	require.NoError(t, err)
	register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations",
		reply(429, "", "Retry-After", "4", "X-Zendesk-Request-Id", "r429"),
		reply(201, string(fixture(t, "responses/create_side_conversation.json"))))
	_, _, err = createOn(c)
	require.NoError(t, err)

	require.Len(t, infos, 1)
	assert.Equal(t, RetryInfo{Method: "POST", URL: testRoot + "tickets/42/side_conversations", Attempt: 1, StatusCode: 429, RequestID: "r429", Wait: 4 * time.Second}, infos[0])
	out := logs.String()
	assert.Contains(t, out, `"msg":"zendesk retry"`)
	assert.Contains(t, out, `"status":429`)
	assert.Contains(t, out, `"wait":4000000000`)
	assert.Contains(t, out, `"msg":"zendesk request"`)
	assert.Contains(t, out, `"attempts":2`)
	assert.NotContains(t, out, testToken)
	assert.NotContains(t, out, testBasic[len("Basic "):])
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{" 30 ", 30 * time.Second, true},
		{"Fri, 27 Nov 2026 12:01:30 GMT", 90 * time.Second, true},
		{"Friday, 27-Nov-26 12:00:10 GMT", 10 * time.Second, true},
		{"Fri Nov 27 12:00:05 2026", 5 * time.Second, true},
		{"Fri, 27 Nov 2026 11:00:00 GMT", 0, true},
		{"99999999999999999999999", maxRetryAfter, true},
		{"", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
	}
	for _, tc := range cases {
		got, ok := parseRetryAfter(tc.in, now)
		assert.Equal(t, tc.ok, ok, "%q", tc.in)
		assert.Equal(t, tc.want, got, "%q", tc.in)
	}
}

func TestRetryAfterAsHTTPDate(t *testing.T) {
	t.Parallel()
	c, mt, w := newMockClient(t)
	when := w.nowFunc().Add(20 * time.Second).UTC().Format(http.TimeFormat)
	register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations",
		reply(429, "", "Retry-After", when), reply(201, string(fixture(t, "responses/create_side_conversation.json"))))
	_, _, err := createOn(c)
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{20 * time.Second}, w.all())
}

func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	p := DefaultRetryPolicy()
	for attempt := range 40 {
		ceiling := min(p.MaxWait, p.MinWait<<min(attempt, 31))
		if attempt >= 31 {
			ceiling = p.MaxWait
		}
		for range 50 {
			d := p.backoff(attempt)
			assert.GreaterOrEqual(t, d, p.MinWait)
			assert.LessOrEqual(t, d, ceiling, "attempt %d", attempt)
		}
	}
	// Jitter: the waits of one attempt are not all the same.
	seen := map[time.Duration]bool{}
	for range 20 {
		seen[p.backoff(3)] = true
	}
	assert.Greater(t, len(seen), 1)
}

func TestRetryPolicyValidation(t *testing.T) {
	t.Parallel()
	for _, p := range []RetryPolicy{
		{MinWait: -1}, {MaxWait: -1}, {MaxRetryAfter: -1}, {MinWait: 2 * time.Second, MaxWait: time.Second},
	} {
		_, err := NewClient("acme", APIToken(testEmail, testToken), WithRetryPolicy(p))
		assert.Error(t, err, "%+v", p)
	}
	d := RetryPolicy{}.withDefaults()
	assert.Equal(t, 3, d.MaxRetries)
	assert.Equal(t, 500*time.Millisecond, d.MinWait)
	assert.Equal(t, 30*time.Second, d.MaxWait)
	assert.Equal(t, 60*time.Second, d.MaxRetryAfter)
	assert.Equal(t, 0, RetryPolicy{MaxRetries: -1}.withDefaults().MaxRetries)
	assert.Equal(t, time.Minute, RetryPolicy{MinWait: time.Minute}.withDefaults().MaxWait)
}
