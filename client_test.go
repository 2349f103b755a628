package zendesk

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

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

// idMethods calls every method that puts a conversation id into the path.
func idMethods(c *Client) map[string]func(context.Context, string) error {
	ev := []ImportEvent{{CreatedAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Message: emailMessage}}
	return map[string]func(context.Context, string) error{
		"Show": func(ctx context.Context, id string) error {
			_, _, err := c.SideConversations.Show(ctx, 42, id, nil)
			return err
		},
		"Update": func(ctx context.Context, id string) error {
			_, _, err := c.SideConversations.Update(ctx, 42, id, UpdateRequest{State: StateClosed})
			return err
		},
		"Reply": func(ctx context.Context, id string) error {
			_, _, err := c.SideConversations.Reply(ctx, 42, id, ReplyRequest{Message: emailMessage})
			return err
		},
		"ImportEvents": func(ctx context.Context, id string) error {
			_, _, err := c.SideConversations.ImportEvents(ctx, 42, id, ev)
			return err
		},
		"ListEvents": func(ctx context.Context, id string) error {
			_, _, err := c.SideConversations.ListEvents(ctx, 42, id, nil)
			return err
		},
		"ListEventsIter": func(ctx context.Context, id string) error {
			for _, err := range c.SideConversations.ListEventsIter(ctx, 42, id, nil) {
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// An id that would have to be escaped to stay one path segment, or that is
// a dot segment, is refused with the reason, and nothing is sent.
func TestPathIDsAreRefused(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"":               "is empty",
		".":              "dot segment",
		"..":             "dot segment",
		"a/b":            `contains '/' at byte 1`,
		"../../users/me": `contains '/' at byte 2`,
		`..\..\users`:    `contains '\\' at byte 2`,
		"%2e%2e":         `contains '%' at byte 0`,
		"x?admin=1":      `contains '?' at byte 1`,
		"x#frag":         `contains '#' at byte 1`,
		"a b":            `contains ' ' at byte 1`,
		"a\tb":           `contains '\t' at byte 1`,
		"a\x00b":         `contains '\x00' at byte 1`,
		"a\x7fb":         `contains '\x7f' at byte 1`,
		"caf\u00e9":      `contains 'é' at byte 3`,
		"a\u2028b":       `contains '\u2028' at byte 1`,
		"[::1]":          `contains '[' at byte 0`,
		"a\"b":           `contains '"' at byte 1`,
		"<id>":           `contains '<' at byte 0`,
	}
	c, mt, _ := newMockClient(t)
	for name, call := range idMethods(c) {
		for id, reason := range cases {
			err := call(context.Background(), id)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve, "%s(%q)", name, id)
			assert.ErrorIs(t, err, ErrInvalidRequest)
			assert.Equal(t, "id", ve.Field, "%s(%q)", name, id)
			assert.Contains(t, ve.Reason, reason, "%s(%q)", name, id)
		}
	}
	noCalls(t, mt)
}

// Every character RFC 3986 allows in a path segment unescaped is accepted,
// and the id reaches the server as one segment that decodes to itself.
func TestPathIDsAllowed(t *testing.T) {
	t.Parallel()
	for _, id := range []string{
		convID,
		"abcXYZ019",
		"-._~",
		"!$&'()*+,;=:@",
		"...",
		"s3-abc_DEF.1~x",
	} {
		c, mt, _ := newMockClient(t)
		var paths []string
		mt.RegisterNoResponder(func(req *http.Request) (*http.Response, error) {
			paths = append(paths, req.URL.Path)
			return httpmock.NewStringResponse(200, `{"side_conversation":{"id":"x"},"events":[]}`), nil
		})
		for name, call := range idMethods(c) {
			paths = nil
			require.NoError(t, call(context.Background(), id), "%s(%q)", name, id)
			require.Len(t, paths, 1, "%s(%q)", name, id)
			rest, ok := strings.CutPrefix(paths[0], "/api/v2/tickets/42/side_conversations/")
			require.True(t, ok, paths[0])
			seg, _, _ := strings.Cut(rest, "/")
			assert.Equal(t, id, seg, "%s: the id is one segment", name)
		}
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
