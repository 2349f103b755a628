package zendesktest

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// manualClock is a clock the test moves by hand.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func send(t *testing.T, s *Server, method, path, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL()+path, bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(DefaultEmail+"/token:"+DefaultAPIToken)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	return resp
}

// TestRateLimitWindows checks the window arithmetic exactly, on a clock
// the test moves: fixed windows from the server's start, both budgets, and
// which one the headers report.
func TestRateLimitWindows(t *testing.T) {
	t.Parallel()
	clock := &manualClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := NewServer(WithRateLimit(10), WithCreateReplyLimit(2, 10*time.Minute), WithRateClock(clock.Now))
	defer s.Close()
	const list = "/api/v2/tickets/1/side_conversations"
	create := `{"message":{"body":"b","to":[{"email":"x@example.com"}]}}`
	header := func(r *http.Response) []string {
		return []string{r.Header.Get("X-Rate-Limit"), r.Header.Get("X-Rate-Limit-Remaining"),
			r.Header.Get("ratelimit-limit"), r.Header.Get("ratelimit-remaining"), r.Header.Get("ratelimit-reset")}
	}

	r := send(t, s, http.MethodPost, list, create)
	require.Equal(t, http.StatusCreated, r.StatusCode)
	assert.Equal(t, []string{"10", "9", "2", "1", "600"}, header(r), "Create reports the create/reply budget in ratelimit-*")

	clock.Advance(15 * time.Second)
	r = send(t, s, http.MethodGet, list, "")
	assert.Equal(t, []string{"10", "8", "10", "8", "45"}, header(r), "other requests report the plan-wide budget")

	clock.Advance(4 * time.Minute) // 4:15: a new minute window, the same 10-minute window
	r = send(t, s, http.MethodPost, list, create)
	require.Equal(t, http.StatusCreated, r.StatusCode)
	assert.Equal(t, []string{"10", "9", "2", "0", "345"}, header(r))

	clock.Advance(500 * time.Millisecond)
	r = send(t, s, http.MethodPost, list, create)
	require.Equal(t, http.StatusTooManyRequests, r.StatusCode)
	assert.Equal(t, "345", r.Header.Get("Retry-After"), "344.5 s rounded up")
	assert.Equal(t, []string{"10", "9", "2", "0", "345"}, header(r), "a refused request is not charged")

	clock.Advance(5*time.Minute + 44*time.Second + 500*time.Millisecond) // 10:00 exactly: the next window
	r = send(t, s, http.MethodPost, list, create)
	require.Equal(t, http.StatusCreated, r.StatusCode)
	assert.Equal(t, []string{"10", "9", "2", "1", "600"}, header(r))

	// The plan-wide budget refuses Create too, with its own Retry-After.
	for range 9 {
		send(t, s, http.MethodGet, list, "")
	}
	clock.Advance(20 * time.Second)
	r = send(t, s, http.MethodPost, list, create)
	require.Equal(t, http.StatusTooManyRequests, r.StatusCode)
	assert.Equal(t, "40", r.Header.Get("Retry-After"))
	assert.Equal(t, "0", r.Header.Get("X-Rate-Limit-Remaining"))
	assert.Equal(t, "1", r.Header.Get("ratelimit-remaining"), "the create/reply budget was not charged")
	assert.Len(t, s.SentMessages(), 3)
}

func TestPathMatches(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern, path string
		want          bool
	}{
		{"/api/v2/tickets/*/side_conversations", "/api/v2/tickets/1/side_conversations", true},
		{"/api/v2/tickets/*/side_conversations", "/api/v2/tickets/1/side_conversations/x", false},
		{"/api/v2/tickets/*/side_conversations", "/api/v2/tickets/side_conversations", false},
		{"/api/v2/tickets/*/side_conversations/*/reply", "/api/v2/tickets/7/side_conversations/abc/reply", true},
		{"/api/v2/tickets/1/side_conversations", "/api/v2/tickets/2/side_conversations", false},
		{"api/v2/tickets/1/side_conversations/", "/api/v2/tickets/1/side_conversations", true},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, pathMatches(tc.pattern, tc.path), "%s ~ %s", tc.pattern, tc.path)
	}
}

func TestTextHelpers(t *testing.T) {
	t.Parallel()
	assert.Equal(t, `<div class="zd-comment"><p>a &amp; b</p><p>c<br>d</p></div>`, htmlFromBody("a & b\r\n \r\nc\nd\n"))
	assert.Equal(t, "a b c", preview("  a\n b\tc ", 10))
	assert.Equal(t, "ab", preview("abc", 2))
	assert.Equal(t, int64(1), ceilSeconds(time.Millisecond))
	assert.Equal(t, int64(2), ceilSeconds(1001*time.Millisecond))
	assert.Equal(t, time.Millisecond, scaled(time.Minute, 1e-9), "windows are at least a millisecond")
	assert.Equal(t, "FaultDelay", FaultDelay.String())
	assert.Equal(t, "FaultLateCommit", FaultLateCommit.String())
	assert.Equal(t, "FaultKind(42)", FaultKind(42).String())
}

// TestLateCommitChargesRateLimits: the 504 of a FaultLateCommit is charged
// to no budget; the late processing is, and is refused like any request
// once the budget is spent.
func TestLateCommitChargesRateLimits(t *testing.T) {
	t.Parallel()
	clock := &manualClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := NewServer(WithCreateReplyLimit(1, 10*time.Minute), WithRateClock(clock.Now))
	defer s.Close()
	const list = "/api/v2/tickets/1/side_conversations"
	create := `{"message":{"body":"b","to":[{"email":"x@example.com"}]}}`
	applied := make(chan struct{}, 2)
	s.InjectFault(Fault{Kind: FaultLateCommit, Times: 2, Applied: applied})

	r := send(t, s, http.MethodPost, list, create)
	require.Equal(t, http.StatusGatewayTimeout, r.StatusCode)
	assert.Empty(t, r.Header.Get("ratelimit-remaining"), "the gateway's answer reports no budget")
	waitApplied(t, applied)
	require.Len(t, s.SentMessages(), 1, "the late processing used the budget")

	r = send(t, s, http.MethodPost, list, create)
	require.Equal(t, http.StatusGatewayTimeout, r.StatusCode)
	waitApplied(t, applied)
	assert.Len(t, s.SentMessages(), 1, "the second late processing was over budget")

	r = send(t, s, http.MethodPost, list, create)
	assert.Equal(t, http.StatusTooManyRequests, r.StatusCode, "the budget is spent")
}

// waitApplied blocks until the late processing reports it is done. The
// timeout only turns a hang into a failure.
func waitApplied(t *testing.T, applied <-chan struct{}) {
	t.Helper()
	select {
	case <-applied:
	case <-time.After(time.Minute):
		t.Fatal("the late processing never finished")
	}
}
