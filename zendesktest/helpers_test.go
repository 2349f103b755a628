package zendesktest_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

// noWait makes the client's retries immediate, so no test sleeps.
func noWait() zendesk.Option {
	return zendesk.WithRetryPolicy(zendesk.RetryPolicy{
		Wait: func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	})
}

// fixedClock returns a clock that starts at start and moves a second on
// every reading, so that created_at values differ and are predictable.
func fixedClock(start time.Time) func() time.Time {
	var mu sync.Mutex
	next := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t := next
		next = next.Add(time.Second)
		return t
	}
}

// oneAttempt makes every call a single attempt that never sleeps, not
// even for the pauses the client learns from rate-limit headers.
func oneAttempt() zendesk.Option {
	return zendesk.WithRetryPolicy(zendesk.RetryPolicy{
		MaxRetries: -1,
		Wait:       func(ctx context.Context, _ time.Duration) error { return ctx.Err() },
	})
}

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589_000_000, time.UTC)

func ctx(t *testing.T) context.Context { return t.Context() }

// basicAuth is the Authorization header for the default credentials.
func basicAuth() string {
	raw := zendesktest.DefaultEmail + "/token:" + zendesktest.DefaultAPIToken
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(raw))
}

// answer is a raw HTTP answer.
type answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map.
func (a answer) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(a.Body, &m), "body: %s", a.Body)
	return m
}

// call sends a request with the default credentials (unless header sets
// Authorization) and reads the whole answer.
func call(t *testing.T, srv *zendesktest.Server, method, path string, body []byte, header http.Header) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx(t), method, srv.URL()+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", basicAuth())
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if vs, ok := header["Authorization"]; ok && len(vs) == 1 && vs[0] == "" {
		req.Header.Del("Authorization")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func get(t *testing.T, srv *zendesktest.Server, path string) answer {
	t.Helper()
	return call(t, srv, http.MethodGet, path, nil, nil)
}

func post(t *testing.T, srv *zendesktest.Server, path, body string) answer {
	t.Helper()
	return call(t, srv, http.MethodPost, path, []byte(body), nil)
}

// emailCreate is a Create request to one e-mail address.
func emailCreate(subject, body, to string) zendesk.CreateRequest {
	return zendesk.CreateRequest{Message: zendesk.Message{
		Subject: subject,
		Body:    body,
		To:      []zendesk.Participant{zendesk.Email(to)},
	}}
}

// mustCreate creates an e-mail side conversation on ticket 1 through the
// client and returns it.
func mustCreate(t *testing.T, c *zendesk.Client, ticketID int64, subject string) zendesk.SideConversation {
	t.Helper()
	res, _, err := c.SideConversations.Create(ctx(t), ticketID, emailCreate(subject, "Body of "+subject, "someone@example.com"))
	require.NoError(t, err)
	return res.SideConversation
}

func fixture(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"..", "testdata"}, parts...)...))
	require.NoError(t, err)
	return b
}

// assertZendeskError checks the shape of an error answer.
func assertZendeskError(t *testing.T, a answer, status int, code string) map[string]any {
	t.Helper()
	require.Equal(t, status, a.Status, "body: %s", a.Body)
	require.Equal(t, "application/json; charset=utf-8", a.Header.Get("Content-Type"))
	require.NotEmpty(t, a.Header.Get("X-Zendesk-Request-Id"))
	m := a.JSON(t)
	require.Equal(t, code, m["error"], "body: %s", a.Body)
	return m
}

// detailKeys returns the keys of "details" of a RecordInvalid answer, each
// with a non-empty description.
func detailKeys(t *testing.T, m map[string]any) map[string]string {
	t.Helper()
	require.Equal(t, "RecordInvalid", m["error"])
	require.Equal(t, "Record validation errors", m["description"])
	details, ok := m["details"].(map[string]any)
	require.True(t, ok, "details: %v", m["details"])
	out := map[string]string{}
	for k, v := range details {
		list, ok := v.([]any)
		require.True(t, ok && len(list) > 0, "details.%s: %v", k, v)
		first, ok := list[0].(map[string]any)
		require.True(t, ok)
		desc, _ := first["description"].(string)
		require.NotEmpty(t, desc, "details.%s", k)
		out[k] = desc
	}
	return out
}
