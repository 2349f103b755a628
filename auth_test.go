package zendesk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

const (
	testBearer = "bearer-5ecr3t-access-token"
	testOAuth  = "oauth-5ecr3t-access-token"
)

// countingSource hands out a new, nearly expired token on every call, so a
// caching wrapper must come back to it for each attempt.
type countingSource struct {
	n   atomic.Int32
	err error
}

func (s *countingSource) Token() (*oauth2.Token, error) {
	if s.err != nil {
		return nil, s.err
	}
	n := s.n.Add(1)
	return &oauth2.Token{AccessToken: fmt.Sprintf("%s-%d", testOAuth, n), TokenType: "Bearer", Expiry: time.Now().Add(time.Second)}, nil
}

func TestCredentialHeaders(t *testing.T) {
	t.Parallel()
	cases := []struct {
		creds Credentials
		want  string
	}{
		{APIToken(testEmail, testToken), testBasic},
		{BearerToken(testBearer), "Bearer " + testBearer},
		{OAuth(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testOAuth})), "Bearer " + testOAuth},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(http.MethodGet, testRoot, nil)
		require.NoError(t, tc.creds.Authorize(req))
		assert.Equal(t, tc.want, req.Header.Get("Authorization"))
	}
}

// OAuth asks its source on every attempt, so a refreshed token is used by
// the retry.
func TestOAuthTokenPerAttempt(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	src := &countingSource{}
	w := &waits{}
	c, err := NewClient("acme", OAuth(src), WithHTTPClient(&http.Client{Transport: mt}), WithRetryPolicy(RetryPolicy{Wait: w.wait}))
	require.NoError(t, err)
	rec := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations",
		reply(429, "", "Retry-After", "1"), reply(201, string(fixture(t, "responses/create_side_conversation.json"))))
	_, _, err = createOn(c)
	require.NoError(t, err)
	calls := rec.calls()
	require.Len(t, calls, 2)
	assert.Equal(t, "Bearer "+testOAuth+"-1", calls[0].Header.Get("Authorization"))
	assert.Equal(t, "Bearer "+testOAuth+"-2", calls[1].Header.Get("Authorization"))
}

func TestCredentialFailuresSendNothing(t *testing.T) {
	t.Parallel()
	for _, creds := range []Credentials{
		APIToken("", testToken), APIToken(testEmail, ""), BearerToken(""), OAuth(nil),
		OAuth(&countingSource{err: errors.New("token endpoint said no")}),
		OAuth(oauth2.StaticTokenSource(&oauth2.Token{})),
	} {
		mt := httpmock.NewMockTransport()
		c, err := NewClient("acme", creds, WithHTTPClient(&http.Client{Transport: mt}))
		require.NoError(t, err)
		_, _, err = createOn(c)
		require.Error(t, err, "%v", creds)
		assert.Contains(t, err.Error(), "not sent")
		assert.NotErrorIs(t, err, ErrMaybeSent)
		assert.Zero(t, mt.GetTotalCallCount())
	}
}

func TestNewClientNeedsCredentials(t *testing.T) {
	t.Parallel()
	_, err := NewClient("acme", nil)
	assert.ErrorContains(t, err, "credentials are required")
}

// holder is how a user's configuration might carry credentials.
type holder struct {
	Name  string
	Creds Credentials
	inner Credentials
}

// No fmt verb, slog handler or reflection-based printing of credentials, a
// struct holding them, or the client shows the secret.
func TestSecretsNeverPrinted(t *testing.T) {
	t.Parallel()
	secrets := []string{testToken, testBearer, testOAuth, testBasic[len("Basic "):]}
	all := []Credentials{
		APIToken(testEmail, testToken),
		BearerToken(testBearer),
		OAuth(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testOAuth, RefreshToken: testOAuth + "-refresh"})),
	}
	for _, creds := range all {
		c, err := NewClient("acme", creds)
		require.NoError(t, err)
		values := []any{creds, &creds, holder{Name: "x", Creds: creds, inner: creds}, &holder{Creds: creds, inner: creds}, c}
		var out strings.Builder
		for _, v := range values {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%T", "%d"} {
				fmt.Fprintf(&out, verb+"\n", v)
			}
			fmt.Fprintln(&out, v)
		}
		var logs bytes.Buffer
		for _, h := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
			l := slog.New(h)
			l.Info("creds", "creds", creds, "holder", holder{Creds: creds}, "client", c)
			l.Info("group", slog.Any("c", creds))
		}
		for _, s := range secrets {
			assert.NotContains(t, out.String(), s)
			assert.NotContains(t, logs.String(), s)
		}
		assert.Contains(t, out.String(), redacted)
		assert.Contains(t, logs.String(), redacted)
	}
	assert.Equal(t, "zendesk.APIToken(agent@example.com, [REDACTED])", fmt.Sprint(all[0]))
}

// A panic whose value is the credentials shows no secret either.
func TestSecretsNotInPanicValue(t *testing.T) {
	t.Parallel()
	msg := func() (s string) {
		defer func() { s = fmt.Sprint(recover()) }()
		panic(APIToken(testEmail, testToken))
	}()
	assert.NotContains(t, msg, testToken)
}

// No error a client can return holds the secret: validation, transport,
// API and decoding errors.
func TestSecretsNotInErrors(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t, WithoutRetries())
	register(mt, http.MethodGet, testRoot+"tickets/1/side_conversations/a", reply(401, `{"error":"Couldn't authenticate you"}`))
	register(mt, http.MethodGet, testRoot+"tickets/1/side_conversations/b", fail(readReset))
	register(mt, http.MethodGet, testRoot+"tickets/1/side_conversations/c", reply(200, "{"))
	register(mt, http.MethodPost, testRoot+"tickets/1/side_conversations", reply(500, "oops"))
	ctx := context.Background()
	var errs []error
	for _, id := range []string{"a", "b", "c", ""} {
		_, _, err := c.SideConversations.Show(ctx, 1, id, nil)
		errs = append(errs, err)
	}
	_, _, err := c.SideConversations.Create(ctx, 1, CreateRequest{Message: emailMessage})
	errs = append(errs, err)
	for _, err := range errs {
		require.Error(t, err)
		for _, s := range []string{fmt.Sprint(err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			assert.NotContains(t, s, testToken)
			assert.NotContains(t, s, testBasic[len("Basic "):])
		}
	}
}

// The debug log of a client sees every request and retry, for every kind of
// credentials, and never their secret.
func TestSecretsNotInLogs(t *testing.T) {
	t.Parallel()
	all := map[string]Credentials{
		testToken:  APIToken(testEmail, testToken),
		testBearer: BearerToken(testBearer),
		testOAuth:  OAuth(&countingSource{}),
	}
	for secretValue, creds := range all {
		var logs bytes.Buffer
		mt := httpmock.NewMockTransport()
		w := &waits{}
		c, err := NewClient("acme", creds, WithHTTPClient(&http.Client{Transport: mt}),
			WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
			WithRetryPolicy(RetryPolicy{Wait: w.wait}))
		require.NoError(t, err)
		register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations",
			reply(429, "", "Retry-After", "1"), reply(500, `{"error":"InternalError"}`))
		register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, fail(readReset), reply(401, `{"error":"Couldn't authenticate you"}`))
		_, _, err = createOn(c)
		require.Error(t, err)
		_, _, err = c.SideConversations.Show(context.Background(), 42, convID, nil)
		require.Error(t, err)

		out := logs.String()
		assert.Contains(t, out, "zendesk retry")
		assert.Contains(t, out, "status=429")
		assert.Contains(t, out, "zendesk request")
		assert.NotContains(t, out, secretValue)
		assert.NotContains(t, out, "Authorization")
		assert.NotContains(t, out, testBasic[len("Basic "):])
	}
}
