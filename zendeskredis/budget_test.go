package zendeskredis_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendeskredis"
)

// The tests below make time spans of hours, so that the real time passing
// between two round trips (milliseconds) can never blur what they assert:
// a wait is checked to lie within half an hour of its exact value.
const slack = 30 * time.Minute

// within asserts that got is want, less at most slack of time passing.
func within(t *testing.T, want, got time.Duration, msgAndArgs ...any) {
	t.Helper()
	assert.LessOrEqual(t, got, want, msgAndArgs...)
	assert.Greater(t, got, want-slack, msgAndArgs...)
}

func TestPacingIsSharedBetweenReplicas(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	// 100 per 99 hours: a burst of 1 (1% of the budget), then one an hour.
	limits := zendeskredis.WithLimits(zendesk.RateLimits{CreateReply: 100, CreateReplyWindow: 99 * time.Hour})
	a, b := replica(t, ns, limits), replica(t, ns, limits)
	ctx := context.Background()
	// Configured pacing is not bounded by MaxWait: only announced pauses are.
	at := attempt(zendesk.BudgetCreateReply, time.Minute)
	for i := range 6 {
		c := a
		if i%2 == 1 {
			c = b
		}
		wait, err := c.Admit(ctx, at)
		require.NoError(t, err)
		if i == 0 {
			assert.Zero(t, wait, "the first attempt goes at once")
			continue
		}
		within(t, time.Duration(i)*time.Hour, wait, "attempt %d, alternating between two replicas", i)
	}

	// A fleet in another namespace shares nothing with this one.
	other := replica(t, namespace(t), limits)
	wait, err := other.Admit(ctx, at)
	require.NoError(t, err)
	assert.Zero(t, wait)

	// Plan requests do not draw on the Create/Reply budget.
	wait, err = a.Admit(ctx, attempt(zendesk.BudgetPlan, time.Minute))
	require.NoError(t, err)
	assert.Zero(t, wait)
}

func TestPlanPacingAppliesToCreateAndReply(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	// 2 a minute: a burst of 1, then one a minute. A Create/Reply waits
	// behind a plan request of another replica.
	limits := zendeskredis.WithLimits(zendesk.RateLimits{PerMinute: 2})
	a, b := replica(t, ns, limits), replica(t, ns, limits)
	ctx := context.Background()
	wait, err := a.Admit(ctx, attempt(zendesk.BudgetPlan, 0))
	require.NoError(t, err)
	assert.Zero(t, wait)
	wait, err = b.Admit(ctx, attempt(zendesk.BudgetCreateReply, 0))
	require.NoError(t, err)
	assert.LessOrEqual(t, wait, time.Minute)
	assert.Greater(t, wait, 30*time.Second, "a Create/Reply draws on the plan's budget too")
}

func TestPauseIsSeenByEveryReplica(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	a, b := replica(t, ns), replica(t, ns)
	ctx := context.Background()

	cr := attempt(zendesk.BudgetCreateReply, 2*time.Hour)
	wait, err := a.Admit(ctx, cr)
	require.NoError(t, err)
	require.Zero(t, wait)
	a.Done(ctx, cr, zendesk.Answer{Status: 429, Rate: noRate, RetryAfter: time.Hour})

	wait, err = b.Admit(ctx, cr)
	require.NoError(t, err)
	within(t, time.Hour, wait, "a 429's Retry-After met by one replica pauses the others")

	wait, err = b.Admit(ctx, attempt(zendesk.BudgetCreateReply, 30*time.Minute))
	require.NoError(t, err)
	assert.Zero(t, wait, "a pause longer than MaxWait admits at once")

	wait, err = b.Admit(ctx, attempt(zendesk.BudgetPlan, 2*time.Hour))
	require.NoError(t, err)
	assert.Zero(t, wait, "a pause of the Create/Reply budget leaves other requests alone")

	// A used-up plan budget reported by an answer pauses every request,
	// Create and Reply included, until its reset.
	plan := attempt(zendesk.BudgetPlan, 3*time.Hour)
	_, err = a.Admit(ctx, plan)
	require.NoError(t, err)
	a.Done(ctx, plan, zendesk.Answer{Status: 200, Rate: zendesk.RateLimit{Limit: 700, Remaining: 0, Reset: 2 * time.Hour}})
	wait, err = b.Admit(ctx, plan)
	require.NoError(t, err)
	within(t, 2*time.Hour, wait, "ratelimit-remaining: 0 until the reset")
	wait, err = b.Admit(ctx, attempt(zendesk.BudgetCreateReply, 3*time.Hour))
	require.NoError(t, err)
	within(t, 2*time.Hour, wait, "Create and Reply draw on the plan's budget")
}

func TestReportedBudgetIsSpreadOverItsWindow(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	a, b := replica(t, ns), replica(t, ns)
	ctx := context.Background()
	at := attempt(zendesk.BudgetPlan, 24*time.Hour)

	// Zendesk reports 10 requests left for the next 10 hours: one an hour,
	// across the replicas, each attempt counted in flight until Done.
	_, err := a.Admit(ctx, at)
	require.NoError(t, err)
	a.Done(ctx, at, zendesk.Answer{Status: 200, Rate: zendesk.RateLimit{Limit: 700, Remaining: 10, Reset: 10 * time.Hour}})
	for i := range 10 {
		c := a
		if i%2 == 1 {
			c = b
		}
		wait, err := c.Admit(ctx, at)
		require.NoError(t, err)
		if i == 0 {
			assert.Zero(t, wait)
			continue
		}
		within(t, time.Duration(i)*time.Hour, wait, "attempt %d", i)
	}
	// All 10 are in flight: the next waits for the reset.
	wait, err := b.Admit(ctx, at)
	require.NoError(t, err)
	within(t, 10*time.Hour, wait, "the reported budget is spoken for")
	b.Done(ctx, at, zendesk.Answer{Rate: noRate})

	// An attempt done frees its place: the answer's own count (9 left)
	// then applies, with 9 in flight.
	a.Done(ctx, at, zendesk.Answer{Status: 200, Rate: noRate})
	wait, err = b.Admit(ctx, at)
	require.NoError(t, err)
	assert.Less(t, wait, 10*time.Hour-slack, "a freed place is usable before the reset")
}

func TestInFlightOfACrashedReplicaExpires(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	ttl := zendeskredis.WithInFlightTTL(20 * time.Millisecond)
	a, b := replica(t, ns, ttl), replica(t, ns, ttl)
	ctx := context.Background()
	at := attempt(zendesk.BudgetPlan, 3*time.Hour)

	_, err := a.Admit(ctx, at)
	require.NoError(t, err)
	a.Done(ctx, at, zendesk.Answer{Status: 200, Rate: zendesk.RateLimit{Limit: 700, Remaining: 1, Reset: 2 * time.Hour}})
	// a admits the last request and crashes: no Done.
	wait, err := a.Admit(ctx, at)
	require.NoError(t, err)
	require.Zero(t, wait)

	wait, err = b.Admit(ctx, at)
	require.NoError(t, err)
	within(t, 2*time.Hour, wait, "the crashed replica's attempt is in flight")
	b.Done(ctx, at, zendesk.Answer{Rate: noRate})

	eventually(t, "the crashed replica's attempt stops counting", func() bool {
		wait, err := b.Admit(ctx, at)
		require.NoError(t, err)
		b.Done(ctx, at, zendesk.Answer{Rate: noRate})
		return wait == 0
	})
}

func TestAnswersOfAnOlderWindowDoNotRewindIt(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	a := replica(t, ns)
	ctx := context.Background()
	at := attempt(zendesk.BudgetPlan, 3*time.Hour)
	// Answers only: no attempt is admitted before the last one.
	report := func(remaining int, reset time.Duration) {
		a.Done(ctx, at, zendesk.Answer{Status: 200, Rate: zendesk.RateLimit{Limit: 700, Remaining: remaining, Reset: reset}})
	}
	report(0, time.Hour)       // used up until the reset in an hour
	report(5, 2*time.Hour)     // a new window, 5 left
	report(0, time.Hour)       // a late answer of the old window
	report(7, 2*time.Hour+500) // the same window: the lowest count stands
	wait, err := a.Admit(ctx, at)
	require.NoError(t, err)
	assert.Zero(t, wait, "the newer window stands, with 5 left")
}

func TestCreateReplySlotsFollowTheSendTimesUnderACongestedPlan(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	// The plan allows 2 a minute: a burst of 1, then one a minute.
	// Create/Reply allows 10 per 10 hours: a burst of 1, then one every
	// 4,000 s. 300 plan attempts book the plan 5 hours ahead; the
	// Create/Reply attempts after them wait for the plan, and no 10 hours
	// may see more than 10 of them sent.
	const window = 10 * time.Hour
	c := replica(t, ns, zendeskredis.WithLimits(zendesk.RateLimits{PerMinute: 2, CreateReply: 10, CreateReplyWindow: window}))
	ctx := context.Background()
	start := time.Now()
	for range 300 {
		_, err := c.Admit(ctx, attempt(zendesk.BudgetPlan, 0))
		require.NoError(t, err)
	}
	var sends []time.Duration
	for range 25 {
		wait, err := c.Admit(ctx, attempt(zendesk.BudgetCreateReply, 0))
		require.NoError(t, err)
		// When the attempt is sent, from the start; the milliseconds that
		// pass between two round trips are nothing beside 4,000 s.
		sends = append(sends, time.Since(start)+wait)
	}
	most := 0
	for i, from := range sends {
		n := 0
		for _, at := range sends[i:] {
			if at < from+window {
				n++
			}
		}
		most = max(most, n)
	}
	assert.LessOrEqual(t, most, 10, "Create/Reply attempts sent in one window of %s; send times %v", window, sends)
	assert.GreaterOrEqual(t, most, 9, "the budget is used to its end")
}
