package zendesktest_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

func TestPlanRateLimit(t *testing.T) {
	t.Parallel()
	// 0.9-second windows, on a clock the test moves.
	clock := zendesktest.NewManualClock(t0)
	srv := zendesktest.Start(t, zendesktest.WithRateLimit(3), zendesktest.WithTimeScale(0.015), zendesktest.WithRateClock(clock.Now))
	path := "/api/v2/tickets/1/side_conversations"
	for i := range 3 {
		a := get(t, srv, path)
		require.Equal(t, http.StatusOK, a.Status)
		assert.Equal(t, "3", a.Header.Get("X-Rate-Limit"))
		assert.Equal(t, strconv.Itoa(2-i), a.Header.Get("X-Rate-Limit-Remaining"))
		assert.Equal(t, "3", a.Header.Get("ratelimit-limit"))
		assert.Equal(t, strconv.Itoa(2-i), a.Header.Get("ratelimit-remaining"))
		assert.Equal(t, "1", a.Header.Get("ratelimit-reset"), "seconds to the window's end, rounded up")
	}

	a := get(t, srv, path)
	assertZendeskError(t, a, http.StatusTooManyRequests, "TooManyRequests")
	assert.Equal(t, "1", a.Header.Get("Retry-After"))
	assert.Equal(t, "0", a.Header.Get("X-Rate-Limit-Remaining"))

	// Over budget nothing is processed, and the client sees why.
	c := srv.Client(oneAttempt())
	_, resp, err := c.SideConversations.Create(ctx(t), 1, emailCreate("s", "b", "x@example.com"))
	require.ErrorIs(t, err, zendesk.ErrRateLimited)
	assert.Equal(t, 3, resp.Rate.Limit)
	assert.Equal(t, 0, resp.Rate.Remaining)
	var apiErr *zendesk.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, time.Second, apiErr.RetryAfter)
	assert.Empty(t, srv.SentMessages())
	assert.Empty(t, srv.SideConversations(1))
	// 401s count too: every request does.
	assert.Equal(t, http.StatusTooManyRequests,
		call(t, srv, http.MethodGet, path, nil, http.Header{"Authorization": {""}}).Status)

	clock.Advance(899 * time.Millisecond)
	a = get(t, srv, path)
	require.Equal(t, http.StatusTooManyRequests, a.Status, "the last millisecond of the window")
	assert.Equal(t, "1", a.Header.Get("Retry-After"), "rounded up to a second")
	clock.Advance(time.Millisecond)
	a = get(t, srv, path)
	require.Equal(t, http.StatusOK, a.Status, "a fresh window")
	assert.Equal(t, "2", a.Header.Get("X-Rate-Limit-Remaining"))
	a = get(t, srv, path)
	require.Equal(t, http.StatusOK, a.Status)
	assert.Equal(t, "1", a.Header.Get("X-Rate-Limit-Remaining"))
}

func TestCreateReplyRateLimit(t *testing.T) {
	t.Parallel()
	// Zendesk's 10-minute window, scaled to 1.2 seconds, on a clock the
	// test moves.
	clock := zendesktest.NewManualClock(t0)
	srv := zendesktest.Start(t, zendesktest.WithCreateReplyLimit(2, 10*time.Minute), zendesktest.WithTimeScale(0.002),
		zendesktest.WithRateClock(clock.Now))
	c := srv.Client(oneAttempt())

	first, resp, err := c.SideConversations.Create(ctx(t), 1, emailCreate("one", "b", "x@example.com"))
	require.NoError(t, err)
	assert.Equal(t, "2", resp.Header.Get("ratelimit-limit"))
	assert.Equal(t, "1", resp.Header.Get("ratelimit-remaining"))
	assert.Empty(t, resp.Header.Get("X-Rate-Limit"), "no plan-wide budget configured")
	assert.Equal(t, 2, resp.Rate.Limit)

	_, resp, err = c.SideConversations.Reply(ctx(t), 1, first.SideConversation.ID, zendesk.ReplyRequest{Message: zendesk.Message{
		Body: "reply", To: []zendesk.Participant{zendesk.Email("x@example.com")},
	}})
	require.NoError(t, err)
	assert.Equal(t, "0", resp.Header.Get("ratelimit-remaining"), "Create and Reply share the budget")

	_, _, err = c.SideConversations.Create(ctx(t), 1, emailCreate("three", "b", "x@example.com"))
	require.ErrorIs(t, err, zendesk.ErrRateLimited)
	_, _, err = c.SideConversations.Reply(ctx(t), 1, first.SideConversation.ID, zendesk.ReplyRequest{Message: zendesk.Message{
		Body: "again", To: []zendesk.Participant{zendesk.Email("x@example.com")},
	}})
	require.ErrorIs(t, err, zendesk.ErrRateLimited)
	assert.Len(t, srv.SentMessages(), 2)

	// Other endpoints are not limited, and carry no rate-limit headers.
	a := get(t, srv, "/api/v2/tickets/1/side_conversations")
	require.Equal(t, http.StatusOK, a.Status)
	assert.Empty(t, a.Header.Get("ratelimit-limit"))
	_, _, err = c.SideConversations.Update(ctx(t), 1, first.SideConversation.ID, zendesk.UpdateRequest{State: zendesk.StateClosed})
	require.NoError(t, err)
	_, _, err = c.SideConversations.Import(ctx(t), 1, zendesk.ImportRequest{Events: importEvents(t0)})
	require.NoError(t, err)

	clock.Advance(1199 * time.Millisecond)
	_, resp, err = c.SideConversations.Create(ctx(t), 1, emailCreate("too early", "b", "x@example.com"))
	require.ErrorIs(t, err, zendesk.ErrRateLimited)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	clock.Advance(time.Millisecond)
	_, resp, err = c.SideConversations.Create(ctx(t), 1, emailCreate("later", "b", "x@example.com"))
	require.NoError(t, err, "the next window")
	assert.Equal(t, "1", resp.Header.Get("ratelimit-remaining"))
	assert.Equal(t, "2", resp.Header.Get("ratelimit-reset"), "1.2 s rounded up")
	assert.Len(t, srv.SentMessages(), 3)
}
