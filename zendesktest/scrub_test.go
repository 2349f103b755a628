package zendesktest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"

	"github.com/sideconv/zendesk/zendesktest"
)

// scripted is a transport under a recorder that answers without network.
type scripted func(*http.Request) (*http.Response, error)

func (f scripted) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func scriptedResponse(req *http.Request, status int, header http.Header, body string) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{
		StatusCode: status, Status: fmt.Sprint(status), Header: header, Request: req, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)),
	}
}

// scrubRecorder records into a new cassette in a temporary directory
// through Scrub, with next as the real transport. It returns the recorder
// and the cassette's name.
func scrubRecorder(t *testing.T, next http.RoundTripper, opts ...zendesktest.ScrubOption) (*recorder.Recorder, string) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "cassette")
	rec, err := recorder.New(name, zendesktest.Scrub(opts...),
		recorder.WithMode(recorder.ModeRecordOnly), recorder.WithRealTransport(next), recorder.WithSkipRequestLatency(true))
	require.NoError(t, err)
	return rec, name
}

// stopAndLoad saves the cassette and reads it back, with its text.
func stopAndLoad(t *testing.T, rec *recorder.Recorder, name string) (*cassette.Cassette, string) {
	t.Helper()
	require.NoError(t, rec.Stop())
	data, err := os.ReadFile(name + ".yaml")
	require.NoError(t, err)
	cas, err := cassette.Load(name)
	require.NoError(t, err)
	return cas, string(data)
}

func TestScrubRules(t *testing.T) {
	t.Parallel()
	const bearer = "Bearer oauth-access-t0ken-0123456789"
	responseBody := `{
	  "side_conversation": {
	    "url": "https://proxy.internal:8443/api/v2/tickets/1/side_conversations/abc",
	    "brand_url": "https://SUPPORT.acme.test/hc",
	    "unrelated": "https://notsupport.acme.test/x and support.acme.test.evil.test",
	    "participants": [
	      {"user_id": 7, "name": "Jane Doe", "email": "Jane.Doe@Acme-Corp.com"},
	      {"user_id": 8, "name": "Jane Doe", "email": "jane.doe@acme-corp.com"},
	      {"user_id": null, "name": "Bob", "email": "bob@example.com"},
	      {"slack_channel_id": "C1", "name": "#billing"}
	    ],
	    "preview_text": "Ask <b>jane.doe@acme-corp.com</b> or carol@acme.test, not logo@2x.png",
	    "credentials": {"Token": "t1", "ACCESS_TOKEN": "t2", "refresh_token": "t3", "password": "p",
	      "api_token": "t4", "Secret": {"nested": 1}, "upload_token": "t5", "client_secret": "s", "kept": "visible", "empty": null},
	    "content_url": "https://proxy.internal:8443/attachments/token/AbCdEf123/?name=a.png",
	    "link": "https://proxy.internal:8443/x?page=2&access_token=abc&per_page=1",
	    "echo": "` + bearer + `",
	    "big": 12345678901234567890
	  }
	}`
	var forwarded *http.Request
	next := scripted(func(req *http.Request) (*http.Response, error) {
		forwarded = req
		// go-vcr records the request body as the transport reads it.
		if _, err := io.Copy(io.Discard, req.Body); err != nil {
			return nil, err
		}
		h := http.Header{}
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("X-Zendesk-Request-Id", "req-1")
		h.Set("Retry-After", "7")
		h.Set("X-Rate-Limit", "700")
		h.Set("X-Rate-Limit-Remaining", "699")
		h.Set("ratelimit-remaining", "99")
		h.Set("Set-Cookie", "session=secret-cookie")
		h.Set("X-Other", "dropped")
		return scriptedResponse(req, http.StatusOK, h, responseBody), nil
	})
	rec, name := scrubRecorder(t, next, zendesktest.ScrubHost("support.acme.test", ""), zendesktest.ScrubString("Acme Corp", "Example Co"), zendesktest.ScrubString("", "ignored"), nil)

	reqBody := `{"message":{"body":"From Acme Corp: write to jane.doe@acme-corp.com","to":[{"email":"carol@acme.test"}]},"password":"hunter2"}`
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost,
		"https://user:pass@proxy.internal:8443/api/v2/tickets/1/side_conversations?email=jane.doe%40acme-corp.com&api_token=abc&page=2#frag", strings.NewReader(reqBody))
	require.NoError(t, err)
	req.Header.Set("Authorization", bearer)
	req.Header.Set("Cookie", "session=secret-cookie")
	req.Header.Set("Content-Type", "application/json")

	resp, err := rec.RoundTrip(req)
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	assert.Same(t, req, forwarded)
	assert.Equal(t, bearer, req.Header.Get("Authorization"), "the live request keeps its header")
	assert.Equal(t, "session=secret-cookie", req.Header.Get("Cookie"))
	// The caller gets the answer as captured: scrubbed of secrets and
	// people, still naming the host it asked, so that links work.
	assert.Contains(t, string(got), `"email": "user1@example.com"`)
	assert.Contains(t, string(got), `"url": "https://proxy.internal:8443/api/v2/tickets/1/side_conversations/abc"`)
	assert.NotContains(t, string(got), "oauth-access-t0ken")
	assert.Equal(t, "7", resp.Header.Get("Retry-After"))
	assert.Empty(t, resp.Header.Get("Set-Cookie"))

	cas, saved := stopAndLoad(t, rec, name)
	require.Len(t, cas.Interactions, 1)
	it := cas.Interactions[0]
	assert.Equal(t, http.MethodPost, it.Request.Method)
	assert.Equal(t, "https://example.zendesk.com/api/v2/tickets/1/side_conversations?api_token=%5BREDACTED%5D&email=user1%40example.com&page=2", it.Request.URL)
	assert.Equal(t, url.Values{"email": {"user1@example.com"}, "api_token": {"[REDACTED]"}, "page": {"2"}}, it.Request.Form)
	assert.Equal(t, http.Header{"Content-Type": {"application/json"}}, it.Request.Headers, "Content-Type only")
	assert.Equal(t, "example.zendesk.com", it.Request.Host)
	assert.JSONEq(t, `{"message":{"body":"From Example Co: write to user1@example.com","to":[{"email":"user2@example.com"}]},"password":"[REDACTED]"}`,
		it.Request.Body)
	assert.Equal(t, int64(len(it.Request.Body)), it.Request.ContentLength)

	assert.Equal(t, http.StatusOK, it.Response.Code)
	assert.Equal(t, http.Header{
		"Content-Type":           {"application/json; charset=utf-8"},
		"X-Zendesk-Request-Id":   {"req-1"},
		"Retry-After":            {"7"},
		"X-Rate-Limit":           {"700"},
		"X-Rate-Limit-Remaining": {"699"},
		"Ratelimit-Remaining":    {"99"},
	}, it.Response.Headers)
	assert.JSONEq(t, `{
	  "side_conversation": {
	    "url": "https://example.zendesk.com/api/v2/tickets/1/side_conversations/abc",
	    "brand_url": "https://example.zendesk.com/hc",
	    "unrelated": "https://notsupport.acme.test/x and support.acme.test.evil.test",
	    "participants": [
	      {"user_id": 7, "name": "Person 1", "email": "user1@example.com"},
	      {"user_id": 8, "name": "Person 1", "email": "user1@example.com"},
	      {"user_id": null, "name": "Person 2", "email": "bob@example.com"},
	      {"slack_channel_id": "C1", "name": "#billing"}
	    ],
	    "preview_text": "Ask <b>user1@example.com</b> or user2@example.com, not logo@2x.png",
	    "credentials": {"Token": "[REDACTED]", "ACCESS_TOKEN": "[REDACTED]", "refresh_token": "[REDACTED]", "password": "[REDACTED]",
	      "api_token": "[REDACTED]", "Secret": "[REDACTED]", "upload_token": "[REDACTED]", "client_secret": "[REDACTED]", "kept": "visible", "empty": null},
	    "content_url": "https://example.zendesk.com/attachments/token/REDACTED/?name=a.png",
	    "link": "https://example.zendesk.com/x?page=2&access_token=REDACTED&per_page=1",
	    "echo": "[REDACTED]",
	    "big": 12345678901234567890
	  }
	}`, it.Response.Body)
	assert.Contains(t, it.Response.Body, `"preview_text": "Ask <b>`, "HTML characters stay readable")
	assert.Contains(t, it.Response.Body, `12345678901234567890`, "numbers keep their digits")
	assert.Equal(t, int64(len(it.Response.Body)), it.Response.ContentLength)

	for _, leak := range []string{"oauth-access-t0ken", "secret-cookie", "hunter2", "acme-corp", "Acme Corp", "proxy.internal", "user:pass", "Jane Doe", "dropped", "frag"} {
		assert.NotContains(t, saved, leak)
	}
}

func TestScrubBodyForms(t *testing.T) {
	t.Parallel()
	binary := []byte{0xff, 0xd8, 0xff, 0x00, 'a', '@', 'b'}
	answers := map[string]struct {
		ct   string
		body []byte
	}{
		"/text":    {"text/plain", []byte("Too many requests from jane@acme.test; retry later")},
		"/encoded": {"text/plain", []byte("Contact jane%40acme-corp.com, JANE%40ACME-CORP.COM or jane@acme-corp.com; also x%zz%40acme-corp.com.")},
		"/binary":  {"image/jpeg", binary},
		"/empty":   {"", nil},
		"/scalar":  {"application/json", []byte(`"just a string"`)},
	}
	paths := []string{"/text", "/encoded", "/binary", "/empty", "/scalar"}
	rec, name := scrubRecorder(t, scripted(func(req *http.Request) (*http.Response, error) {
		a := answers[req.URL.Path]
		h := http.Header{}
		if a.ct != "" {
			h.Set("Content-Type", a.ct)
		}
		return scriptedResponse(req, http.StatusTooManyRequests, h, string(a.body)), nil
	}))
	client := &http.Client{Transport: rec}
	for _, p := range paths {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://acme.zendesk.com"+p, nil)
		require.NoError(t, err)
		resp, err := client.Do(req)
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, resp.Body)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
	}
	cas, _ := stopAndLoad(t, rec, name)
	require.Len(t, cas.Interactions, len(paths))
	bodies := map[string]string{}
	for _, it := range cas.Interactions {
		u, err := url.Parse(it.Request.URL)
		require.NoError(t, err)
		bodies[u.Path] = it.Response.Body
		assert.Equal(t, http.StatusTooManyRequests, it.Response.Code)
		assert.Empty(t, it.Request.Body)
	}
	assert.Equal(t, map[string]string{
		"/text":    "Too many requests from user1@example.com; retry later",
		"/encoded": "Contact user2%40example.com, user2%40example.com or user2@example.com; also user3%40example.com.",
		"/binary":  string(binary),
		"/empty":   "",
		"/scalar":  `"just a string"`,
	}, bodies)
}

func TestScrubConcurrentUse(t *testing.T) {
	t.Parallel()
	rec, name := scrubRecorder(t, scripted(func(req *http.Request) (*http.Response, error) {
		body := fmt.Sprintf(`{"who":"shared@acme.test","own":"%s@acme.test"}`, req.URL.Query().Get("n"))
		return scriptedResponse(req, http.StatusOK, nil, body), nil
	}))
	client := &http.Client{Transport: rec}
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, fmt.Sprintf("https://acme.zendesk.com/api/v2/x?n=%d", i), nil)
			if err != nil {
				errs <- err
				return
			}
			resp, err := client.Do(req)
			if err != nil {
				errs <- err
				return
			}
			_, err = io.Copy(io.Discard, resp.Body)
			errs <- errors.Join(err, resp.Body.Close())
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	cas, _ := stopAndLoad(t, rec, name)
	require.Len(t, cas.Interactions, n)
	shared := map[string]bool{}
	own := map[string]bool{}
	for _, it := range cas.Interactions {
		assert.Contains(t, it.Request.URL, "https://example.zendesk.com/api/v2/x?n=")
		var m map[string]string
		require.NoError(t, json.Unmarshal([]byte(it.Response.Body), &m))
		shared[m["who"]] = true
		own[m["own"]] = true
	}
	assert.Len(t, shared, 1, "one address, one replacement: %v", shared)
	assert.Len(t, own, n, "distinct addresses, distinct replacements")
	for addr := range own {
		assert.Regexp(t, `^user\d+@example\.com$`, addr)
	}
}

func TestScrubNumbersEachRecorderAfresh(t *testing.T) {
	t.Parallel()
	// One option value used for two recorders: each cassette starts at
	// user1, so neither depends on the other.
	opt := zendesktest.Scrub()
	answer := scripted(func(req *http.Request) (*http.Response, error) {
		return scriptedResponse(req, http.StatusOK, nil, req.URL.Query().Get("who")+"@acme.test"), nil
	})
	var bodies []string
	for _, who := range []string{"ann", "bob"} {
		name := filepath.Join(t.TempDir(), "cassette")
		rec, err := recorder.New(name, opt, recorder.WithMode(recorder.ModeRecordOnly), recorder.WithRealTransport(answer))
		require.NoError(t, err)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "https://acme.zendesk.com/x?who="+who, nil)
		require.NoError(t, err)
		resp, err := rec.RoundTrip(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		cas, _ := stopAndLoad(t, rec, name)
		require.Len(t, cas.Interactions, 1)
		bodies = append(bodies, cas.Interactions[0].Response.Body)
	}
	assert.Equal(t, []string{"user1@example.com", "user1@example.com"}, bodies)
}
