package zendesk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func near(t *testing.T, want, got time.Duration) {
	t.Helper()
	assert.InDelta(t, float64(want), float64(got), float64(500*time.Millisecond), "want about %s, got %s", want, got)
}

// A Retry-After given to one call holds the client's other calls of the
// same budget, instead of letting them run into the same refusal.
func TestAnnouncedPauseIsShared(t *testing.T) {
	t.Parallel()
	c, mt, w := newMockClient(t)
	created := reply(201, string(fixture(t, "responses/create_side_conversation.json")))
	creates := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations", reply(429, "", "Retry-After", "5"), created)
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, reply(200, string(fixture(t, "responses/show_side_conversation.json"))))

	_, _, err := createOn(c)
	require.NoError(t, err)
	require.Equal(t, []time.Duration{5 * time.Second}, w.all())

	_, _, err = createOn(c)
	require.NoError(t, err)
	waits := w.all()
	require.Len(t, waits, 2, "the second create waited before its first attempt")
	near(t, 5*time.Second, waits[1])
	assert.Len(t, creates.calls(), 3, "one refusal, two creates: the second call did not run into a 429")

	_, _, err = c.SideConversations.Show(context.Background(), 42, convID, nil)
	require.NoError(t, err)
	assert.Len(t, w.all(), 2, "a create/reply pause does not hold other requests")
}

func TestRemainingZeroPausesUntilReset(t *testing.T) {
	t.Parallel()
	c, mt, w := newMockClient(t)
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations",
		reply(200, `{"side_conversations":[]}`, "X-Rate-Limit", "700", "X-Rate-Limit-Remaining", "0", "ratelimit-reset", "9"))
	_, _, err := c.SideConversations.List(context.Background(), 42, nil)
	require.NoError(t, err)
	assert.Empty(t, w.all())
	_, _, err = createOn(c) // fails: no responder; what matters is the wait before it
	require.Error(t, err)
	waits := w.all()
	require.Len(t, waits, 1, "the plan-wide pause holds a create too")
	near(t, 9*time.Second, waits[0])
}

// A pause longer than MaxRetryAfter is not slept through: the request goes
// out and Zendesk's 429 tells the caller when to come back.
func TestLongPauseIsNotWaited(t *testing.T) {
	t.Parallel()
	w := &waits{}
	c, mt, _ := newMockClient(t, WithRetryPolicy(RetryPolicy{Wait: w.wait, MaxRetryAfter: 30 * time.Second}))
	rec := register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations", reply(429, "", "Retry-After", "600"))
	for range 2 {
		_, _, err := c.SideConversations.List(context.Background(), 42, nil)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 600*time.Second, apiErr.RetryAfter)
	}
	assert.Empty(t, w.all())
	assert.Len(t, rec.calls(), 2)
}

func TestWithRateLimitPacesCreates(t *testing.T) {
	t.Parallel()
	w := &waits{}
	c, mt, _ := newMockClient(t,
		WithRetryPolicy(RetryPolicy{Wait: w.wait}),
		WithRateLimit(RateLimits{CreateReply: 2, CreateReplyWindow: 10 * time.Second}))
	rec := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations", reply(201, string(fixture(t, "responses/create_side_conversation.json"))))
	for range 4 {
		_, _, err := createOn(c)
		require.NoError(t, err)
	}
	assert.Len(t, rec.calls(), 4)
	waits := w.all()
	require.Len(t, waits, 2, "a burst of the whole budget, then one token every 5s")
	near(t, 5*time.Second, waits[0])
	near(t, 10*time.Second, waits[1])
}

func TestWithRateLimitPerMinute(t *testing.T) {
	t.Parallel()
	w := &waits{}
	c, mt, _ := newMockClient(t, WithRetryPolicy(RetryPolicy{Wait: w.wait}), WithRateLimit(RateLimits{PerMinute: 60}))
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations", reply(200, `{"side_conversations":[]}`))
	for range 61 {
		_, _, err := c.SideConversations.List(context.Background(), 42, nil)
		require.NoError(t, err)
	}
	waits := w.all()
	require.Len(t, waits, 1)
	near(t, time.Second, waits[0])
}

func TestRateLimitWaitCancelled(t *testing.T) {
	t.Parallel()
	cancelled := errors.New("stop")
	ctx, cancel := context.WithCancelCause(context.Background())
	c, mt, _ := newMockClient(t,
		WithRetryPolicy(RetryPolicy{Wait: func(ctx context.Context, d time.Duration) error { cancel(cancelled); return context.Cause(ctx) }}),
		WithRateLimit(RateLimits{CreateReply: 1}))
	rec := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations", reply(201, string(fixture(t, "responses/create_side_conversation.json"))))
	_, _, err := c.SideConversations.Create(ctx, 42, CreateRequest{Message: emailMessage})
	require.NoError(t, err)
	_, _, err = c.SideConversations.Create(ctx, 42, CreateRequest{Message: emailMessage})
	require.ErrorIs(t, err, cancelled)
	assert.NotErrorIs(t, err, ErrMaybeSent)
	assert.Contains(t, err.Error(), "not sent")
	assert.Len(t, rec.calls(), 1)
}

func TestWithRateLimitValidation(t *testing.T) {
	t.Parallel()
	for _, l := range []RateLimits{{PerMinute: -1}, {CreateReply: -1}, {CreateReplyWindow: -time.Second}} {
		_, err := NewClient("acme", APIToken(testEmail, testToken), WithRateLimit(l))
		assert.Error(t, err, "%+v", l)
	}
}

// On a Create, the ratelimit-* headers are the create/reply budget: an
// exhausted one holds the next create but not other requests, and the
// plan-wide numbers beside it do not pause the create budget.
func TestCreateReplyBudgetHeaders(t *testing.T) {
	t.Parallel()
	c, mt, w := newMockClient(t)
	created := string(fixture(t, "responses/create_side_conversation.json"))
	register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations",
		reply(201, created, "X-Rate-Limit", "700", "X-Rate-Limit-Remaining", "0", "ratelimit-limit", "300", "ratelimit-remaining", "5", "ratelimit-reset", "30"),
		reply(201, created, "X-Rate-Limit", "700", "X-Rate-Limit-Remaining", "650", "ratelimit-limit", "300", "ratelimit-remaining", "0", "ratelimit-reset", "9"),
		reply(201, created))
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, reply(200, string(fixture(t, "responses/show_side_conversation.json"))))

	_, resp, err := createOn(c)
	require.NoError(t, err)
	assert.Equal(t, RateLimit{Limit: 300, Remaining: 5, Reset: 30 * time.Second}, resp.Rate, "the governing budget")
	_, _, err = createOn(c)
	require.NoError(t, err)
	assert.Empty(t, w.all(), "budget left: no pause")

	_, _, err = c.SideConversations.Show(context.Background(), 42, convID, nil)
	require.NoError(t, err)
	assert.Empty(t, w.all(), "the create budget does not hold a read")

	_, _, err = createOn(c)
	require.NoError(t, err)
	waits := w.all()
	require.Len(t, waits, 1)
	near(t, 9*time.Second, waits[0])
}

func budgetAnswer(remaining, reset int) *http.Response {
	h := http.Header{}
	h.Set("Ratelimit-Limit", "300")
	h.Set("Ratelimit-Remaining", fmt.Sprint(remaining))
	h.Set("Ratelimit-Reset", fmt.Sprint(reset))
	return &http.Response{StatusCode: http.StatusCreated, Header: h}
}

// The requests in flight count against what Zendesk said remains, so
// concurrent callers do not overrun the budget between two answers.
func TestPacerCountsRequestsInFlight(t *testing.T) {
	t.Parallel()
	p := newPacer(nil)
	const maxPause = time.Minute
	assert.Zero(t, p.admit(bucketCreateReply, maxPause, false), "nothing known: go")
	p.answered(budgetAnswer(2, 10), bucketCreateReply)

	assert.Zero(t, p.admit(bucketCreateReply, maxPause, false))
	assert.Zero(t, p.admit(bucketCreateReply, maxPause, false))
	wait := p.admit(bucketCreateReply, maxPause, false)
	near(t, 10*time.Second, wait)
	assert.Zero(t, p.admit(bucketPlan, maxPause, false), "the plan is not held by the create budget")
	p.answered(nil, bucketPlan)

	// One in-flight request fails without an answer: room for one again.
	p.answered(nil, bucketCreateReply)
	assert.Zero(t, p.admit(bucketCreateReply, maxPause, false))
	near(t, 10*time.Second, p.admit(bucketCreateReply, maxPause, false))

	// A longer wait than the caller accepts is not waited.
	assert.Zero(t, p.admit(bucketCreateReply, time.Second, false))
	// force admits whatever the wait.
	assert.Zero(t, p.admit(bucketCreateReply, maxPause, true))
}

func TestPacerKeepsTheLowestCountOfAWindow(t *testing.T) {
	t.Parallel()
	p := newPacer(nil)
	p.admit(bucketPlan, time.Minute, true)
	p.admit(bucketPlan, time.Minute, true)
	p.answered(budgetAnswer(0, 30), bucketPlan)
	p.answered(budgetAnswer(5, 30), bucketPlan) // overtaken: an older answer
	near(t, 30*time.Second, p.pause(bucketPlan))

	// A reset well after the known one is a new window.
	p.admit(bucketPlan, time.Minute, true)
	p.answered(budgetAnswer(5, 45), bucketPlan)
	assert.Zero(t, p.pause(bucketPlan))
}
