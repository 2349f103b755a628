//go:build !race

package zendesktest_test

// The race detector makes reading a 50 MB body take seconds (its shadow
// memory is touched page by page), so this test runs without it only.

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sideconv/zendesk/zendesktest"
)

// TestRequestBodyTooLarge sends one byte more than Zendesk's 50 MB.
func TestRequestBodyTooLarge(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	const limit = 50 << 20
	req, err := http.NewRequestWithContext(ctx(t), http.MethodPost, srv.URL()+"/api/v2/tickets/side_conversations/attachments",
		io.LimitReader(covFiller{}, limit+1))
	require.NoError(t, err)
	req.ContentLength = limit + 1
	req.Header.Set("Authorization", basicAuth())
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	m := assertZendeskError(t, answer{Status: resp.StatusCode, Header: resp.Header, Body: b}, http.StatusRequestEntityTooLarge, "RequestTooLarge")
	assert.Contains(t, m["description"], "50 MB")
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	assert.Len(t, reqs[0].Body, limit, "the recorded body stops at the limit")
	assert.Empty(t, srv.Uploads(), "not processed")
}

type covFiller struct{}

// Read leaves p as it is: what the bytes are does not matter.
func (covFiller) Read(p []byte) (int, error) { return len(p), nil }
