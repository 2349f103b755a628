package zendesktest

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
)

// Corners that go-vcr does not reach: it fails to capture a request whose
// query does not parse, and always records a method.

func TestScrubberURLCorners(t *testing.T) {
	t.Parallel()
	s := newScrubber(scrubConfig{}, false)
	assert.Equal(t, "/x?q=%zz&api_token=REDACTED", s.url("/x?q=%zz&api_token=abc"), "a query that does not parse is scrubbed as text")
	assert.Equal(t, "%zz user1@example.com", s.url("%zz jane@acme.test"), "a URL that does not parse is scrubbed as text")
	assert.Nil(t, s.hostsInValues(nil))
}

func TestDecodeJSONValue(t *testing.T) {
	t.Parallel()
	for in, ok := range map[string]bool{
		`{"a":1}`: true, ` [1] `: true, `{"a":1} {}`: false, `{"a":`: false, `"s"`: false, ``: false, `{"a":1} x`: false,
	} {
		_, got := decodeJSONValue(in)
		assert.Equal(t, ok, got, in)
	}
}

func TestReplaceHostOverlaps(t *testing.T) {
	t.Parallel()
	// A host that ends in ':' is no real host; the second occurrence of
	// each pair is left because its scheme overlaps the first.
	assert.Equal(t, "Odd host: example.zendesk.com//http: and example.zendesk.com//http:",
		replaceHost("Odd host: http://http: and http://http:", "http:"))
}

func TestMatchesWithoutMethod(t *testing.T) {
	t.Parallel()
	u, err := url.Parse("https://h.test/api/v2/x")
	require.NoError(t, err)
	req := &http.Request{URL: u, Header: http.Header{}}
	assert.True(t, matches(scrubConfig{}, req, cassette.Request{Method: http.MethodGet, URL: "https://example.zendesk.com/api/v2/x"}),
		"a request without a method is a GET")

	g := &mockGroup{root: "https://h.test", items: []*cassette.Interaction{{
		Request:  cassette.Request{Method: http.MethodGet, URL: "https://example.zendesk.com/api/v2/x"},
		Response: cassette.Response{Code: http.StatusNoContent},
	}}}
	resp, err := g.respond(req)
	require.NoError(t, err)
	assert.Equal(t, "204 No Content", resp.Status)
	assert.Equal(t, http.Header{}, resp.Header, "a response without headers gets an empty header")
	assert.NoError(t, resp.Body.Close())
	_, err = g.respond(req)
	assert.EqualError(t, err, "zendesktest: the cassette has no interaction left for GET https://h.test/api/v2/x")
}
