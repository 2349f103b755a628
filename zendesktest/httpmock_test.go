package zendesktest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"

	"github.com/sideconv/zendesk/zendesktest"
)

// mockCassette is a hand-made cassette: two answers to the same list
// request, one to a show, one to an upload with a body.
func mockCassette() *cassette.Cassette {
	c := cassette.New("hand-made")
	add := func(method, url, reqBody string, code int, status, body string) {
		c.AddInteraction(&cassette.Interaction{
			Request: cassette.Request{Method: method, URL: url, Body: reqBody},
			Response: cassette.Response{Code: code, Status: status, Body: body,
				Headers: http.Header{"Content-Type": {"application/json"}, "X-Zendesk-Request-Id": {"req"}}},
		})
	}
	const list = "https://example.zendesk.com/api/v2/tickets/1/side_conversations"
	add(http.MethodGet, list+"?b=2&a=1", "", http.StatusTooManyRequests, "429 Too Many Requests", `{"error":"slow down"}`)
	add(http.MethodGet, list+"?b=2&a=1", "", http.StatusOK, "", `{"next_page":"https://example.zendesk.com/api/v2/tickets/1/side_conversations?page=2"}`)
	add(http.MethodGet, list+"/a%20b", "", http.StatusOK, "200 OK", "show")
	add(http.MethodPost, "https://example.zendesk.com/api/v2/upload", `{"name":"user1@example.com"}`, http.StatusCreated, "201 Created", "\x00\x01\x02")
	return c
}

// mockCall sends one request through rt and returns status and body.
func mockCall(t *testing.T, rt http.RoundTripper, method, rawURL string, body io.Reader) (int, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, rawURL, body)
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Same(t, req, resp.Request)
	assert.Equal(t, int64(len(b)), resp.ContentLength)
	return resp.StatusCode, string(b), nil
}

func TestRegisterCassette(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	// A base URL ending in /api/v2, as zendesk.WithBaseURL accepts it.
	require.NoError(t, zendesktest.RegisterCassette(mt, mockCassette(), "https://mock.test/api/v2/"))
	const list = "https://mock.test/api/v2/tickets/1/side_conversations"

	// Query order does not matter; repeated requests get the recorded
	// answers in order, each once.
	status, body, err := mockCall(t, mt, http.MethodGet, list+"?a=1&b=2", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusTooManyRequests, status)
	assert.JSONEq(t, `{"error":"slow down"}`, body)
	status, body, err = mockCall(t, mt, http.MethodGet, list+"?b=2&a=1", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status, "a status without text is made from the code")
	assert.JSONEq(t, `{"next_page":"https://mock.test/api/v2/tickets/1/side_conversations?page=2"}`, body, "links point at the base URL")
	_, _, err = mockCall(t, mt, http.MethodGet, list+"?a=1&b=2", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "zendesktest: the cassette has no interaction left for GET "+list+"?a=1&b=2")

	status, body, err = mockCall(t, mt, http.MethodGet, list+"/a%20b", nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "show", body)

	// Bodies are compared as Matcher compares them.
	_, _, err = mockCall(t, mt, http.MethodPost, "https://mock.test/api/v2/upload", strings.NewReader(`{"name":"other@acme.test","x":1}`))
	require.Error(t, err)
	status, body, err = mockCall(t, mt, http.MethodPost, "https://mock.test/api/v2/upload", strings.NewReader(`{"name":"jane@acme.test"}`))
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, status)
	assert.Equal(t, "\x00\x01\x02", body)

	// A recorded request without a query does not answer another query,
	// although httpmock would hand it to the responder.
	_, _, err = mockCall(t, mt, http.MethodPost, "https://mock.test/api/v2/upload?x=1", strings.NewReader(`{"name":"jane@acme.test"}`))
	require.Error(t, err)
	_, _, err = mockCall(t, mt, http.MethodGet, list+"?a=1", nil)
	require.Error(t, err)

	info := mt.GetCallCountInfo()
	assert.Equal(t, 4, info["GET "+list], "one responder for the list, whatever the query: %v", info)
	assert.Len(t, info, 3, "one responder per method and path: %v", info)
}

func TestRegisterCassetteErrors(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	require.ErrorContains(t, zendesktest.RegisterCassette(nil, mockCassette(), "https://mock.test"), "needs a transport and a cassette")
	require.ErrorContains(t, zendesktest.RegisterCassette(mt, nil, "https://mock.test"), "needs a transport and a cassette")
	for _, base := range []string{"", "mock.test", "/api/v2", "https://%zz"} {
		err := zendesktest.RegisterCassette(mt, mockCassette(), base)
		require.Error(t, err, base)
		assert.Contains(t, err.Error(), "is not an absolute URL", base)
	}
	bad := cassette.New("bad")
	bad.AddInteraction(&cassette.Interaction{Request: cassette.Request{Method: http.MethodGet, URL: "https://example.zendesk.com/%zz"}})
	require.ErrorContains(t, zendesktest.RegisterCassette(mt, bad, "https://mock.test"), "interaction 0")
	assert.Zero(t, mt.NumResponders(), "nothing was registered")
}
