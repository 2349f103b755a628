package zendesk

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A Retry-After given to one call holds the client's other calls of the
// same budget, instead of letting them run into the same refusal.
func TestAnnouncedPauseIsShared(t *testing.T) {
	t.Parallel()
	c, mt, w := newMockClient(t, WithoutRetries())
	created := reply(201, string(fixture(t, "responses/create_side_conversation.json")))
	creates := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations", reply(429, "", "Retry-After", "5"), created)
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, reply(200, string(fixture(t, "responses/show_side_conversation.json"))))

	_, _, err := createOn(c)
	require.ErrorIs(t, err, ErrRateLimited)
	require.Empty(t, w.all())

	w.advance(2 * time.Second)
	_, _, err = c.SideConversations.Show(context.Background(), 42, convID, nil)
	require.NoError(t, err)
	assert.Empty(t, w.all(), "a create/reply pause does not hold other requests")

	_, _, err = createOn(c)
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{3 * time.Second}, w.all(), "the second create waited out the rest of the pause before its first attempt")
	assert.Len(t, creates.calls(), 2, "one refusal, one create: the second call did not run into a 429")
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
	assert.Equal(t, 9*time.Second, waits[0])
}

// A pause longer than MaxRetryAfter is not slept through: the request goes
// out and Zendesk's 429 tells the caller when to come back.
func TestLongPauseIsNotWaited(t *testing.T) {
	t.Parallel()
	w := &waits{}
	c, mt, _ := newMockClient(t, WithRetryPolicy(RetryPolicy{Wait: w.wait, MaxRetryAfter: 30 * time.Second}))
	w.attach(c)
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
	w.attach(c)
	rec := register(mt, http.MethodPost, testRoot+"tickets/42/side_conversations", reply(201, string(fixture(t, "responses/create_side_conversation.json"))))
	for range 4 {
		_, _, err := createOn(c)
		require.NoError(t, err)
	}
	assert.Len(t, rec.calls(), 4)
	waits := w.all()
	assert.Equal(t, []time.Duration{10 * time.Second, 10 * time.Second, 10 * time.Second}, waits,
		"one at once, then one every 10 s: no 10 s hold more than 2")
}

func TestWithRateLimitPerMinute(t *testing.T) {
	t.Parallel()
	w := &waits{}
	c, mt, _ := newMockClient(t, WithRetryPolicy(RetryPolicy{Wait: w.wait}), WithRateLimit(RateLimits{PerMinute: 60}))
	w.attach(c)
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations", reply(200, `{"side_conversations":[]}`))
	for range 61 {
		_, _, err := c.SideConversations.List(context.Background(), 42, nil)
		require.NoError(t, err)
	}
	got := w.all()
	require.Len(t, got, 60, "one at once, then each one waits its turn")
	for _, d := range got {
		assert.Equal(t, time.Minute/59, d, "60 a minute: one, then 59 spread over the minute")
	}

	// A burst of a hundredth of the limit goes at once.
	w2 := &waits{}
	c2, mt2, _ := newMockClient(t, WithRetryPolicy(RetryPolicy{Wait: w2.wait}), WithRateLimit(RateLimits{PerMinute: 700}))
	w2.attach(c2)
	register(mt2, http.MethodGet, testRoot+"tickets/42/side_conversations", reply(200, `{"side_conversations":[]}`))
	for range 8 {
		_, _, err := c2.SideConversations.List(context.Background(), 42, nil)
		require.NoError(t, err)
	}
	assert.Equal(t, []time.Duration{time.Minute / 693}, w2.all(), "7 at once, the 8th after one interval")
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
	assert.Equal(t, 9*time.Second, waits[0])
}

func budgetAnswer(remaining, reset int) Answer {
	return Answer{Status: http.StatusCreated, Rate: RateLimit{Limit: 300, Remaining: remaining, Reset: time.Duration(reset) * time.Second}}
}

var (
	planAttempt   = Attempt{Account: "acme.zendesk.com", Budget: BudgetPlan, MaxWait: time.Minute}
	createAttempt = Attempt{Account: "acme.zendesk.com", Budget: BudgetCreateReply, MaxWait: time.Minute}
	noAnswer      = Answer{Rate: RateLimit{Limit: -1, Remaining: -1}}
)

// admitNow admits a on l and returns the wait it was given.
func admitNow(t *testing.T, l *localCoordinator, a Attempt) time.Duration {
	t.Helper()
	d, err := l.Admit(context.Background(), a)
	require.NoError(t, err)
	return d
}

// The requests in flight count against what Zendesk said remains, so
// concurrent callers do not overrun the budget between two answers.
func TestLocalCoordinatorCountsRequestsInFlight(t *testing.T) {
	t.Parallel()
	w := &waits{}
	l := newLocalCoordinator(RateLimits{})
	l.now = w.nowFunc
	ctx := context.Background()
	assert.Zero(t, admitNow(t, l, createAttempt), "nothing known: go")
	l.Done(ctx, createAttempt, budgetAnswer(2, 10))

	assert.Zero(t, admitNow(t, l, createAttempt))
	assert.Zero(t, admitNow(t, l, createAttempt))
	assert.Equal(t, 10*time.Second, admitNow(t, l, createAttempt), "the budget is used up by those in flight: wait for the reset")
	assert.Zero(t, admitNow(t, l, planAttempt), "the plan is not held by the create budget")
	l.Done(ctx, planAttempt, noAnswer)

	// Two in-flight requests fail without an answer: room for one again.
	l.Done(ctx, createAttempt, noAnswer)
	l.Done(ctx, createAttempt, noAnswer)
	assert.Zero(t, admitNow(t, l, createAttempt))
	w.advance(4 * time.Second)
	assert.Equal(t, 6*time.Second, admitNow(t, l, createAttempt))

	// A longer wait than the caller accepts is not waited.
	short := createAttempt
	short.MaxWait = time.Second
	assert.Zero(t, admitNow(t, l, short))
}

func TestLocalCoordinatorKeepsTheLowestCountOfAWindow(t *testing.T) {
	t.Parallel()
	w := &waits{}
	l := newLocalCoordinator(RateLimits{})
	l.now = w.nowFunc
	ctx := context.Background()
	admitNow(t, l, planAttempt)
	admitNow(t, l, planAttempt)
	l.Done(ctx, planAttempt, budgetAnswer(0, 30))
	l.Done(ctx, planAttempt, budgetAnswer(5, 30)) // overtaken: an older answer
	assert.Equal(t, 30*time.Second, admitNow(t, l, planAttempt))
	l.Done(ctx, planAttempt, noAnswer)

	// A reset well after the known one is a new window.
	admitNow(t, l, planAttempt)
	l.Done(ctx, planAttempt, budgetAnswer(5, 45))
	assert.Zero(t, admitNow(t, l, planAttempt))
}

// A local coordinator keeps the accounts it serves apart.
func TestLocalCoordinatorKeepsAccountsApart(t *testing.T) {
	t.Parallel()
	w := &waits{}
	l := newLocalCoordinator(RateLimits{})
	l.now = w.nowFunc
	ctx := context.Background()
	admitNow(t, l, planAttempt)
	l.Done(ctx, planAttempt, Answer{Status: http.StatusTooManyRequests, Rate: noAnswer.Rate, RetryAfter: 20 * time.Second})
	assert.Equal(t, 20*time.Second, admitNow(t, l, planAttempt))
	other := planAttempt
	other.Account = "other.zendesk.com"
	assert.Zero(t, admitNow(t, l, other))
}

// When the plan budget holds creates back, the create budget is charged
// when they are sent: no window of the create budget admits more than its
// limit, wherever the plan's pacing puts them.
func TestPacedCreatesNeverBurstPastTheirBudget(t *testing.T) {
	t.Parallel()
	w := &waits{}
	l := newLocalCoordinator(RateLimits{PerMinute: 600, CreateReply: 10, CreateReplyWindow: 10 * time.Second})
	l.now = w.nowFunc
	ctx := context.Background()
	start := w.nowFunc()
	for range 100 {
		admitNow(t, l, planAttempt) // the plan's burst, used up
	}
	var sends []time.Duration
	for range 25 {
		d, err := l.Admit(ctx, createAttempt)
		require.NoError(t, err)
		sends = append(sends, w.nowFunc().Add(d).Sub(start))
	}
	for i := range sends {
		in := 0
		for _, s := range sends {
			if s >= sends[i] && s < sends[i]+10*time.Second {
				in++
			}
		}
		assert.LessOrEqual(t, in, 10, "creates sent in the 10 s from %s", sends[i])
	}
}
