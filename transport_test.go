package zendesk

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// carelessVerb prints a *http.Response with %s, as a careless log line
// does. It is a variable so that the printf checks let the test do it.
var carelessVerb = "%s"

// The request a caller can reach through Response carries no credentials,
// for every kind of credentials, through a real transport.
func TestResponseRequestCarriesNoCredentials(t *testing.T) {
	t.Parallel()
	var seen atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			seen.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/missing") {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":"RecordNotFound","description":"Not found"}`)
			return
		}
		_, _ = io.WriteString(w, `{"side_conversation":{"id":"sc-1"}}`)
	}))
	t.Cleanup(srv.Close)
	// Cleanup runs after the parallel subtests.
	t.Cleanup(func() { assert.EqualValues(t, 6, seen.Load(), "every request reached the server authorized") })
	creds := map[string]struct {
		c      Credentials
		secret string
	}{
		"api token": {APIToken(testEmail, testToken), testToken},
		"bearer":    {BearerToken(testBearer), testBearer},
		"oauth":     {OAuth(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testOAuth})), testOAuth},
	}
	for name, cr := range creds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient("", cr.c, WithBaseURL(srv.URL))
			require.NoError(t, err)
			_, resp, err := c.SideConversations.Show(context.Background(), 1, "sc-1", nil)
			require.NoError(t, err)
			_, errResp, showErr := c.SideConversations.Show(context.Background(), 1, "missing", nil)
			require.ErrorIs(t, showErr, ErrNotFound)
			for _, r := range []*Response{resp, errResp} {
				dump, err := httputil.DumpRequest(r.Request, false)
				require.NoError(t, err)
				careless := fmt.Sprintf(carelessVerb, r.Response)
				for _, printed := range []string{
					fmt.Sprint(r.Request), careless, fmt.Sprintf("%+v", r), fmt.Sprintf("%#v", r.Request.Header),
					string(dump), showErr.Error(),
				} {
					assert.NotContains(t, printed, cr.secret)
					assert.NotContains(t, printed, "Authorization")
				}
			}
		})
	}
}

// A request with a body never follows a redirect: the 3xx comes back as an
// *APIError, the body is not sent anywhere else, and no POST becomes a GET.
func TestNoRedirectForRequestsWithABody(t *testing.T) {
	t.Parallel()
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"side_conversation":{"id":""}}`)
	}))
	t.Cleanup(other.Close)
	t.Cleanup(func() { assert.Zero(t, elsewhere.Load(), "nothing was sent to where the redirects pointed") })
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			var posts atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				posts.Add(1)
				http.Redirect(w, r, other.URL+"/api/v2/tickets/1/side_conversations", status)
			}))
			t.Cleanup(srv.Close)
			c, err := NewClient("", APIToken(testEmail, testToken), WithBaseURL(srv.URL))
			require.NoError(t, err)
			res, _, err := c.SideConversations.Create(context.Background(), 1, CreateRequest{Message: emailMessage})
			assert.Nil(t, res)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, status, apiErr.StatusCode)
			assert.NotErrorIs(t, err, ErrMaybeSent)
			_, _, err = c.SideConversations.Update(context.Background(), 1, "sc-1", UpdateRequest{State: StateClosed})
			require.ErrorAs(t, err, &apiErr)
			assert.EqualValues(t, 2, posts.Load())
		})
	}
}

// A success body that is not a JSON object, or an answer without the
// object its envelope must hold, is not a result. What the object holds is
// decoded tolerantly.
func TestSuccessBodiesThatAreNotAnswers(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`null`, ` null `, `[]`, `"x"`, `7`, `{}`, `{"side_conversation":null}`, `{"side_conversation":"x"}`} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			c, mt, _ := newMockClient(t)
			register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations", reply(201, body))
			register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, reply(200, body))
			register(mt, http.MethodPost, testRoot+"tickets/side_conversations/attachments", reply(201, body))
			res, _, err := createOn(c)
			assert.Nil(t, res)
			require.ErrorIs(t, err, ErrInvalidResponse)
			assert.ErrorIs(t, err, ErrMaybeSent, "the create was accepted, so it may have been made")
			sc, _, err := c.SideConversations.Show(context.Background(), 42, convID, nil)
			assert.Nil(t, sc)
			require.ErrorIs(t, err, ErrInvalidResponse)
			assert.NotErrorIs(t, err, ErrMaybeSent)
			if !strings.HasPrefix(strings.TrimSpace(body), "{") {
				up, _, err := c.SideConversations.UploadAttachment(context.Background(), "a.txt", strings.NewReader("a"))
				assert.Nil(t, up)
				require.ErrorIs(t, err, ErrInvalidResponse)
			}
		})
	}

	c, mt, _ := newMockClient(t)
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, reply(200, `{"side_conversation":{"id":null,"subject":"kept"}}`))
	sc, _, err := c.SideConversations.Show(context.Background(), 42, convID, nil)
	require.NoError(t, err, "a null inside the object is decoded, not refused")
	assert.Equal(t, "kept", sc.Subject)
}

// An APIError keeps 64 KiB of the body in a slice of its own, not the
// megabyte read to parse it.
func TestAPIErrorKeepsOnlyItsBody(t *testing.T) {
	t.Parallel()
	body := []byte(strings.Repeat("x", errorBodyReadLimit))
	var e APIError
	e.parseErrorBody(body)
	assert.Len(t, e.Body, errorBodyKeep)
	body[0] = 'y'
	assert.Equal(t, byte('x'), e.Body[0], "the kept body does not share the read buffer")

	c, mt, _ := newMockClient(t, WithoutRetries())
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, reply(500, string(body)))
	_, _, err := c.SideConversations.Show(context.Background(), 42, convID, nil)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Len(t, apiErr.Body, errorBodyKeep)
}

// idleCounter is a transport that counts calls of CloseIdleConnections.
type idleCounter struct {
	http.RoundTripper
	closed atomic.Int32
}

func (i *idleCounter) CloseIdleConnections() { i.closed.Add(1) }

// A failed call leaves the idle connections of the transport under the
// client alone: they belong to the rest of the program too.
func TestFailedCallsKeepIdleConnections(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	tr := &idleCounter{RoundTripper: mt}
	c, err := NewClient("acme", APIToken(testEmail, testToken), WithHTTPClient(&http.Client{Transport: tr}),
		WithRetryPolicy(RetryPolicy{Wait: (&waits{}).wait}))
	require.NoError(t, err)
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, reply(500, ""))
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations", reply(200, `{"side_conversations":[`))
	_, _, err = c.SideConversations.Show(context.Background(), 42, convID, nil)
	require.ErrorIs(t, err, ErrServer)
	_, _, err = c.SideConversations.List(context.Background(), 42, nil)
	require.ErrorIs(t, err, ErrInvalidResponse)
	assert.Zero(t, tr.closed.Load())
}

// A CheckRedirect of the caller's that returns http.ErrUseLastResponse,
// even wrapped, gets the 3xx as an *APIError.
func TestUserRedirectPolicyUseLastResponse(t *testing.T) {
	t.Parallel()
	for name, policy := range map[string]func(*http.Request, []*http.Request) error{
		"sentinel": func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		"wrapped":  func(*http.Request, []*http.Request) error { return fmt.Errorf("stop: %w", http.ErrUseLastResponse) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "/elsewhere", http.StatusFound)
			}))
			t.Cleanup(srv.Close)
			c, err := NewClient("", APIToken(testEmail, testToken), WithBaseURL(srv.URL), WithHTTPClient(&http.Client{CheckRedirect: policy}))
			require.NoError(t, err)
			_, _, err = c.SideConversations.Show(context.Background(), 1, "sc-1", nil)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, http.StatusFound, apiErr.StatusCode)
		})
	}
}

// One classification decides both what is resent and what matches
// ErrMaybeSent: a POST is resent exactly when it was certainly not
// processed, and its failure matches ErrMaybeSent exactly when it may have
// been.
func TestOneClassificationOfStatuses(t *testing.T) {
	t.Parallel()
	p := DefaultRetryPolicy()
	for code := 400; code <= 599; code++ {
		for _, hasRA := range []bool{false, true} {
			resp := &http.Response{StatusCode: code}
			retried := p.shouldRetry(http.MethodPost, resp, nil, 0, hasRA)
			maybe := (&APIError{StatusCode: code, Method: http.MethodPost, hasRetryAfter: hasRA}).Is(ErrMaybeSent)
			assert.False(t, retried && maybe, "%d (Retry-After %v) is both resent and maybe sent", code, hasRA)
			if code >= 500 && code != 501 && code != 505 && (code != 503 || !hasRA) {
				assert.True(t, maybe, "%d (Retry-After %v) may have been processed", code, hasRA)
				assert.True(t, p.shouldRetry(http.MethodGet, resp, nil, 0, hasRA), "a GET is retried after %d", code)
			}
		}
	}
	assert.True(t, p.shouldRetry(http.MethodPost, &http.Response{StatusCode: 429}, nil, 0, false))
	assert.True(t, p.shouldRetry(http.MethodPost, &http.Response{StatusCode: 503}, nil, 0, true))
	assert.False(t, (&APIError{StatusCode: 524, Method: http.MethodGet}).Is(ErrMaybeSent), "a GET has nothing to send twice")
}

// A client built without WithHTTPClient has connections of its own: the
// rest of the program closing http.DefaultTransport's idle connections
// (as httptest.Server.Close does) leaves its requests alone, and the
// other way round.
func TestOwnTransportByDefault(t *testing.T) {
	t.Parallel()
	c, err := NewClient("acme", APIToken(testEmail, testToken))
	require.NoError(t, err)
	base := c.http.Transport.(*authTransport).base
	own, ok := base.(*http.Transport)
	require.True(t, ok)
	assert.NotSame(t, http.DefaultTransport, own)
	assert.NotNil(t, own.Proxy, "the default transport's proxy settings are kept")
	assert.Equal(t, defaultTimeout, c.http.Timeout)

	// Given a client, its transport is used as it is.
	mt := httpmock.NewMockTransport()
	c, err = NewClient("acme", APIToken(testEmail, testToken), WithHTTPClient(&http.Client{Transport: mt}))
	require.NoError(t, err)
	assert.Same(t, mt, c.http.Transport.(*authTransport).base)
}

// A failure after a redirect names the request's own URL: the URL it was
// redirected to, such as a signed file-storage link, reaches no error, log
// line or RetryInfo.
func TestRedirectTargetStaysOutOfErrorsAndLogs(t *testing.T) {
	t.Parallel()
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close() // the connection breaks: no answer
		}
	}))
	t.Cleanup(storage.Close)
	account := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, storage.URL+"/file?X-Amz-Signature=SIGSECRET", http.StatusFound)
	}))
	t.Cleanup(account.Close)
	var logs bytes.Buffer
	var infos []string
	c, err := NewClient("", APIToken(testEmail, testToken), WithBaseURL(account.URL), WithHTTPClient(account.Client()),
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithRetryPolicy(RetryPolicy{MaxRetries: 1, Wait: (&waits{}).wait, OnRetry: func(i RetryInfo) { infos = append(infos, fmt.Sprint(i.Err)) }}))
	require.NoError(t, err)
	_, _, err = c.SideConversations.DownloadAttachment(context.Background(),
		Attachment{ContentURL: account.URL + "/api/v2/tickets/1/side_conversations/sc/attachments/s3-1/download/a.txt"}, io.Discard)
	require.Error(t, err)
	require.Len(t, infos, 1, "the broken download was retried once")
	for _, text := range append(infos, err.Error(), logs.String()) {
		assert.NotContains(t, text, "SIGSECRET")
	}
	assert.Contains(t, logs.String(), "zendesk request")
}

// redactingTransport rewrites the Authorization value in place after
// passing the request on, as a careless logging middleware might.
type redactingTransport struct{ next http.RoundTripper }

func (r redactingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if v := req.Header["Authorization"]; len(v) > 0 {
		v[0] = "redacted"
	}
	return resp, err
}

// A transport that rewrites header values in place cannot spoil the
// credentials of later requests.
func TestCredentialsSurviveInPlaceRewrites(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	c, err := NewClient("acme", APIToken(testEmail, testToken), WithHTTPClient(&http.Client{Transport: redactingTransport{mt}}),
		WithRetryPolicy(RetryPolicy{Wait: (&waits{}).wait}))
	require.NoError(t, err)
	rec := register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, reply(200, string(fixture(t, "responses/show_side_conversation.json"))))
	for range 2 {
		_, _, err := c.SideConversations.Show(context.Background(), 42, convID, nil)
		require.NoError(t, err)
	}
	for _, call := range rec.calls() {
		assert.Equal(t, testBasic, call.Header.Get("Authorization"))
	}
}
