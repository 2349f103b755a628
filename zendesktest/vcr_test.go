package zendesktest_test

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"

	"github.com/sideconv/zendesk/zendesktest"
)

type failingBody struct{}

func (failingBody) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestMatcher(t *testing.T) {
	t.Parallel()
	const (
		list     = "https://example.zendesk.com/api/v2/tickets/1/side_conversations"
		liveList = "http://127.0.0.1:4242/api/v2/tickets/1/side_conversations"
		token    = "live-api-token-0123456789"
	)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("jane@acme.test/token:"+token))
	multipart := func(boundary, content string) string {
		return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n" + content + "\r\n--" + boundary + "--\r\n"
	}
	type live struct {
		method, url, contentType, body string
		bodyReader                     io.Reader
	}
	cases := []struct {
		name     string
		live     live
		recorded cassette.Request
		opts     []zendesktest.ScrubOption
		want     bool
	}{
		{"same request, other host and query order",
			live{method: "GET", url: liveList + "?per_page=2&include=events"},
			cassette.Request{Method: "GET", URL: list + "?include=events&per_page=2"}, nil, true},
		{"an empty method is GET",
			live{url: liveList}, cassette.Request{Method: "GET", URL: list}, nil, true},
		{"another method",
			live{method: "POST", url: liveList}, cassette.Request{Method: "GET", URL: list}, nil, false},
		{"another path",
			live{method: "GET", url: liveList + "/abc"}, cassette.Request{Method: "GET", URL: list}, nil, false},
		{"an escaped path compares decoded",
			live{method: "GET", url: liveList + "/a%20b"}, cassette.Request{Method: "GET", URL: list + "/a%20b"}, nil, true},
		{"another query",
			live{method: "GET", url: liveList + "?page=2"}, cassette.Request{Method: "GET", URL: list + "?page=3"}, nil, false},
		{"an extra parameter",
			live{method: "GET", url: liveList + "?page=2&x=1"}, cassette.Request{Method: "GET", URL: list + "?page=2"}, nil, false},
		{"repeated parameters in any order",
			live{method: "GET", url: liveList + "?a=2&a=1"}, cassette.Request{Method: "GET", URL: list + "?a=1&a=2"}, nil, true},
		{"addresses and secrets in the query are stand-ins",
			live{method: "GET", url: liveList + "?email=jane%40acme.test&api_token=abc"},
			cassette.Request{Method: "GET", URL: list + "?api_token=%5BREDACTED%5D&email=user1%40example.com"}, nil, true},
		{"a recorded URL that does not parse",
			live{method: "GET", url: liveList}, cassette.Request{Method: "GET", URL: "%zz"}, nil, false},
		{"queries that do not parse compare as text",
			live{method: "GET", url: liveList + "?q=%zz"}, cassette.Request{Method: "GET", URL: list + "?q=%zz"}, nil, true},
		{"JSON as values",
			live{method: "POST", url: liveList, contentType: "application/json", body: `{"message":{"subject":"Hi","body":"b"}}`},
			cassette.Request{Method: "POST", URL: list, Body: "{\n  \"message\": {\n    \"body\": \"b\",\n    \"subject\": \"Hi\"\n  }\n}\n"}, nil, true},
		{"JSON with other values",
			live{method: "POST", url: liveList, body: `{"message":{"subject":"Hi","body":"b"}}`},
			cassette.Request{Method: "POST", URL: list, Body: `{"message":{"subject":"Hello","body":"b"}}`}, nil, false},
		{"JSON with another number",
			live{method: "POST", url: liveList, body: `{"support_group_id":7}`},
			cassette.Request{Method: "POST", URL: list, Body: `{"support_group_id":8}`}, nil, false},
		{"people, addresses and credentials are stand-ins",
			live{method: "POST", url: liveList, body: `{"to":[{"email":"bob@partner.test","name":"Bob Smith"}],"body":"from jane@acme.test, key ` + token + `"}`},
			cassette.Request{Method: "POST", URL: list, Body: `{"to":[{"email":"user2@example.com","name":"Person 1"}],"body":"from user1@example.com, key [REDACTED]"}`}, nil, true},
		{"the live host in a body",
			live{method: "POST", url: liveList, body: `{"link":"http://127.0.0.1:4242/hc"}`},
			cassette.Request{Method: "POST", URL: list, Body: `{"link":"https://example.zendesk.com/hc"}`}, nil, true},
		{"a string the recording replaced, without the option",
			live{method: "POST", url: liveList, body: `{"body":"Acme Corp asks"}`},
			cassette.Request{Method: "POST", URL: list, Body: `{"body":"Example Co asks"}`}, nil, false},
		{"a string the recording replaced, with the option",
			live{method: "POST", url: liveList, body: `{"body":"Acme Corp asks"}`},
			cassette.Request{Method: "POST", URL: list, Body: `{"body":"Example Co asks"}`},
			[]zendesktest.ScrubOption{zendesktest.ScrubString("Acme Corp", "Example Co")}, true},
		{"multipart with another boundary",
			live{method: "POST", url: liveList, contentType: "multipart/form-data; boundary=abc123", body: multipart("abc123", "Call jane@acme.test")},
			cassette.Request{Method: "POST", URL: list, Body: multipart("zendesktest-recorded-boundary", "Call user1@example.com")}, nil, true},
		{"multipart with other content",
			live{method: "POST", url: liveList, contentType: "multipart/form-data; boundary=abc123", body: multipart("abc123", "other")},
			cassette.Request{Method: "POST", URL: list, Body: multipart("zendesktest-recorded-boundary", "content")}, nil, false},
		{"a body where none was recorded",
			live{method: "POST", url: liveList, body: `{}`}, cassette.Request{Method: "POST", URL: list}, nil, false},
		{"text as it is",
			live{method: "POST", url: liveList, body: "plain"}, cassette.Request{Method: "POST", URL: list, Body: "plain"}, nil, true},
		{"a body that cannot be read",
			live{method: "POST", url: liveList, bodyReader: failingBody{}}, cassette.Request{Method: "POST", URL: list}, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var body io.Reader = strings.NewReader(tc.live.body)
			if tc.live.bodyReader != nil {
				body = tc.live.bodyReader
			} else if tc.live.body == "" {
				body = nil
			}
			req, err := http.NewRequestWithContext(t.Context(), tc.live.method, tc.live.url, body)
			require.NoError(t, err)
			req.Header.Set("Authorization", basic)
			if tc.live.contentType != "" {
				req.Header.Set("Content-Type", tc.live.contentType)
			}
			assert.Equal(t, tc.want, zendesktest.Matcher(tc.opts...)(req, tc.recorded))
			if tc.live.body != "" {
				again, err := io.ReadAll(req.Body)
				require.NoError(t, err)
				assert.Equal(t, tc.live.body, string(again), "the body is put back for the transport")
			}
		})
	}
}

func TestVCRReplaysEachInteractionOnceInOrder(t *testing.T) {
	t.Parallel()
	answers := []string{`{"n":1}`, `{"n":2}`}
	calls := 0
	name := filepath.Join(t.TempDir(), "repeat")
	rec, err := recorder.New(name, zendesktest.VCR(), recorder.WithMode(recorder.ModeRecordOnly),
		recorder.WithRealTransport(scripted(func(req *http.Request) (*http.Response, error) {
			calls++
			return scriptedResponse(req, http.StatusOK, nil, answers[calls-1]), nil
		})))
	require.NoError(t, err)
	get := func(rt http.RoundTripper) (string, error) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://acme.zendesk.com/api/v2/x", nil)
		require.NoError(t, err)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			return "", err
		}
		defer func() { _ = resp.Body.Close() }()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	for range answers {
		_, err := get(rec)
		require.NoError(t, err)
	}
	require.NoError(t, rec.Stop())

	replay, err := recorder.New(name, zendesktest.VCR(), recorder.WithMode(recorder.ModeReplayOnly))
	require.NoError(t, err)
	for _, want := range []string{"{\n  \"n\": 1\n}\n", "{\n  \"n\": 2\n}\n"} {
		got, err := get(replay)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err = get(replay)
	require.ErrorIs(t, err, cassette.ErrInteractionNotFound, "each interaction answers once")
	assert.Equal(t, 2, calls, "replay reached no transport")
}

// TestVCRSilencesDebugLog: go-vcr's debug log prints the headers of the
// requests it matches, Authorization included; VCR turns it off even when
// VCR_DEBUG asks for it.
//
//nolint:paralleltest // t.Setenv and the swapped os.Stderr do not mix with parallel tests
func TestVCRSilencesDebugLog(t *testing.T) {
	t.Setenv("VCR_DEBUG", "1")
	const secret = "Bearer debug-log-secret-0123456789"
	name := filepath.Join(t.TempDir(), "debug")
	require.NoError(t, os.WriteFile(name+".yaml", []byte(`---
version: 2
interactions:
  - id: 0
    request:
      method: GET
      url: https://example.zendesk.com/api/v2/x
    response:
      code: 200
      body: ok
`), 0o600))

	replayLog := func(opts ...recorder.Option) string {
		logFile := filepath.Join(t.TempDir(), "stderr")
		f, err := os.Create(logFile)
		require.NoError(t, err)
		stderr := os.Stderr
		os.Stderr = f
		rec, err := recorder.New(name, append(opts, recorder.WithMode(recorder.ModeReplayOnly))...)
		os.Stderr = stderr
		require.NoError(t, err)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://example.zendesk.com/api/v2/x", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", secret)
		resp, err := rec.RoundTrip(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		require.NoError(t, f.Close())
		b, err := os.ReadFile(logFile)
		require.NoError(t, err)
		return string(b)
	}
	assert.Contains(t, replayLog(zendesktest.Scrub(), recorder.WithMatcher(zendesktest.Matcher())), secret,
		"without VCR, go-vcr's debug log shows the header")
	assert.Empty(t, replayLog(zendesktest.VCR()))
}
