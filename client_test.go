package zendesk

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSubdomainValidation(t *testing.T) {
	t.Parallel()
	creds := APIToken(testEmail, testToken)
	for _, ok := range []string{"acme", "a", "a-b", "0abc", "acme-support-2", strings.Repeat("a", 63)} {
		c, err := NewClient(ok, creds)
		require.NoError(t, err, ok)
		assert.Equal(t, "https://"+ok+".zendesk.com/api/v2/", c.BaseURL().String())
	}
	for _, bad := range []string{"", "-acme", "Acme", "acme.evil.com", "acme/x", "acme_x", "acme:80", "a b", "acme.", strings.Repeat("a", 64), "évil", "acme\n"} {
		_, err := NewClient(bad, creds)
		require.Error(t, err, "%q", bad)
		assert.Contains(t, err.Error(), "subdomain")
	}
}

func TestBaseURLIsACopy(t *testing.T) {
	t.Parallel()
	c, err := NewClient("acme", APIToken(testEmail, testToken))
	require.NoError(t, err)
	u := c.BaseURL()
	u.Host = "evil.example.com"
	assert.Equal(t, "https://acme.zendesk.com/api/v2/", c.BaseURL().String())
}

func TestWithBaseURL(t *testing.T) {
	t.Parallel()
	creds := APIToken(testEmail, testToken)
	cases := []struct {
		raw      string
		insecure bool
		want     string
		err      string
	}{
		{raw: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080/api/v2/"},
		{raw: "http://localhost:9/", want: "http://localhost:9/api/v2/"},
		{raw: "http://[::1]:9", want: "http://[::1]:9/api/v2/"},
		{raw: "https://proxy.example.com/zendesk", want: "https://proxy.example.com/zendesk/api/v2/"},
		{raw: "https://acme.zendesk.com/api/v2", want: "https://acme.zendesk.com/api/v2/"},
		{raw: "https://acme.zendesk.com/api/v2/", want: "https://acme.zendesk.com/api/v2/"},
		{raw: "http://zendesk.internal", insecure: true, want: "http://zendesk.internal/api/v2/"},
		{raw: "http://zendesk.internal", err: "refusing plain http"},
		{raw: "http://127.0.0.1.evil.com", err: "refusing plain http"},
		{raw: "ftp://acme.zendesk.com", err: "scheme"},
		{raw: "acme.zendesk.com", err: "scheme"},
		{raw: "https://", err: "no host"},
		{raw: "https://user:pass@acme.zendesk.com", err: "must not carry credentials"},
		{raw: "https://acme.zendesk.com?x=1", err: "query"},
		{raw: "https://acme.zendesk.com#frag", err: "fragment"},
		{raw: "", err: "scheme"},
		{raw: "http://[::1", err: "WithBaseURL"},
	}
	for _, tc := range cases {
		opts := []Option{WithBaseURL(tc.raw)}
		if tc.insecure {
			opts = append(opts, WithInsecureHTTP())
		}
		c, err := NewClient("", creds, opts...)
		if tc.err != "" {
			require.Error(t, err, tc.raw)
			assert.Contains(t, err.Error(), tc.err, tc.raw)
			assert.NotContains(t, err.Error(), "pass@", "credentials of a refused URL are not echoed")
			continue
		}
		require.NoError(t, err, tc.raw)
		assert.Equal(t, tc.want, c.BaseURL().String())
	}
	// A subdomain given with a base URL is still checked.
	_, err := NewClient("bad.sub", creds, WithBaseURL("https://proxy.example.com"))
	assert.Error(t, err)
}

func TestOptionErrors(t *testing.T) {
	t.Parallel()
	creds := APIToken(testEmail, testToken)
	for _, opt := range []Option{WithHTTPClient(nil), WithUserAgent("a\r\nX-Evil: 1"), WithMaxResponseBytes(0)} {
		_, err := NewClient("acme", creds, opt)
		assert.Error(t, err)
	}
	_, err := NewClient("acme", creds, nil, WithLogger(nil))
	assert.NoError(t, err, "nil options and a nil logger are harmless")
}

func TestWithUserAgentPrepends(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t, WithUserAgent("ticket-bot/2.1"))
	rec := register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations", reply(200, `{"side_conversations":[]}`))
	_, _, err := c.SideConversations.List(context.Background(), 42, nil)
	require.NoError(t, err)
	assert.Equal(t, "ticket-bot/2.1 sideconv-zendesk-go/"+Version, rec.last(t).Header.Get("User-Agent"))
}

// The caller's http.Client is used but never modified.
func TestWithHTTPClientNotMutated(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	hc := &http.Client{Transport: mt}
	c, err := NewClient("acme", APIToken(testEmail, testToken), WithHTTPClient(hc))
	require.NoError(t, err)
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations", reply(200, `{"side_conversations":[]}`))
	_, _, err = c.SideConversations.List(context.Background(), 42, nil)
	require.NoError(t, err)
	assert.Nil(t, hc.CheckRedirect)
	assert.Zero(t, hc.Timeout)
	assert.Equal(t, 1, mt.GetTotalCallCount(), "requests went through the given transport")
}

// Credentials follow a redirect only to the exact scheme and host of the API.
func TestRedirectsDropCredentialsOffOrigin(t *testing.T) {
	t.Parallel()
	cases := []struct {
		location string
		keep     bool
	}{
		{"https://acme.zendesk.com/api/v2/tickets/42/side_conversations?page=1", true},
		{"https://evil.example.com/steal", false},
		{"https://sub.acme.zendesk.com/api/v2/x", false},
		{"http://acme.zendesk.com/api/v2/x", false},
		{"https://acme.zendesk.com:8443/api/v2/x", false},
	}
	for _, tc := range cases {
		c, mt, _ := newMockClient(t)
		register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations", reply(302, "", "Location", tc.location))
		target := register(mt, http.MethodGet, strings.Split(tc.location, "?")[0], reply(200, `{"side_conversations":[]}`))
		if tc.keep {
			mt.RegisterResponder(http.MethodGet, tc.location, target.respond)
		}
		_, _, err := c.SideConversations.List(context.Background(), 42, nil)
		if !tc.keep {
			require.NoError(t, err, tc.location)
		}
		got := target.last(t).Header.Get("Authorization")
		if tc.keep {
			assert.Equal(t, testBasic, got, tc.location)
		} else {
			assert.Empty(t, got, tc.location)
		}
	}
}

func TestTooManyRedirectsIsNotRetried(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	rec := register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations", reply(302, "", "Location", testRoot+"tickets/42/side_conversations"))
	_, _, err := c.SideConversations.List(context.Background(), 42, nil)
	require.ErrorContains(t, err, "stopped after 10 redirects")
	assert.Len(t, rec.calls(), 10, "one attempt of ten requests; a broken redirect chain is not retried")
}

func TestPathIDsAreEscaped(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"a/b":            "a%2Fb",
		"../../users/1":  "..%2F..%2Fusers%2F1",
		"%2e%2e":         "%252e%252e",
		"x?admin=1":      "x%3Fadmin=1",
		"x#frag":         "x%23frag",
		"ok-uuid-123abc": "ok-uuid-123abc",
	}
	for id, want := range cases {
		c, mt, _ := newMockClient(t)
		var gotPath string
		mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
			gotPath = req.URL.EscapedPath()
			return httpmock.NewStringResponse(200, string(fixture(t, "responses/show_side_conversation.json"))), nil
		})
		_, _, err := c.SideConversations.Show(context.Background(), 42, id, nil)
		require.NoError(t, err, id)
		assert.Equal(t, "/api/v2/tickets/42/side_conversations/"+want, gotPath, id)
		assert.True(t, strings.HasPrefix(gotPath, "/api/v2/tickets/42/side_conversations/"))
		assert.Equal(t, 1, strings.Count(gotPath[len("/api/v2/tickets/42/side_conversations/"):], "/")+1, "the id stays one segment: %s", gotPath)
	}
}

// One client, many goroutines: run with -race.
func TestClientConcurrentUse(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	show := string(fixture(t, "responses/show_side_conversation.json"))
	var mu sync.Mutex
	seen := map[string]int{}
	mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
		mu.Lock()
		seen[req.URL.Path]++
		n := seen[req.URL.Path]
		mu.Unlock()
		if n == 1 {
			return httpmock.NewStringResponse(503, ""), nil // every path is retried once
		}
		return httpmock.NewStringResponse(200, show), nil
	})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			sc, resp, err := c.SideConversations.Show(context.Background(), int64(i+1), fmt.Sprintf("id-%d", i), nil)
			if err == nil && (sc.ID != convID || resp.Attempts != 2) {
				err = fmt.Errorf("goroutine %d: got %q after %d attempts", i, sc.ID, resp.Attempts)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Len(t, seen, 64)
	assert.Equal(t, 128, mt.GetTotalCallCount())
}
