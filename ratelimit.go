package zendesk

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimits paces the client's own requests below Zendesk's limits, so a
// busy service spends its budget on work instead of on 429 answers. See
// WithRateLimit.
type RateLimits struct {
	// PerMinute is the account's plan-wide limit: Zendesk plans allow 200
	// to 2,500 requests a minute. Zero leaves requests unpaced.
	PerMinute int
	// CreateReply is the budget of Create and Reply calls per
	// CreateReplyWindow: Zendesk allows 300 per 10 minutes. Zero leaves them
	// unpaced (beyond PerMinute).
	CreateReply int
	// CreateReplyWindow is the window of CreateReply (default 10 minutes).
	CreateReplyWindow time.Duration
}

// WithRateLimit makes the client pace itself: every goroutine sharing the
// client draws from one token bucket per limit, refilled evenly over the
// window and holding at most one window's budget. Without it the client
// still honours what Zendesk announces: after a 429 or 503 with Retry-After,
// or a response reporting no requests remaining until a reset, every call
// of the client waits for that moment (if it is within
// RetryPolicy.MaxRetryAfter) instead of only the one that was refused.
func WithRateLimit(l RateLimits) Option {
	return func(cfg *clientConfig) error {
		switch {
		case l.PerMinute < 0 || l.CreateReply < 0:
			return errors.New("zendesk: WithRateLimit: limits must not be negative")
		case l.CreateReplyWindow < 0:
			return errors.New("zendesk: WithRateLimit: CreateReplyWindow must not be negative")
		}
		if l.CreateReplyWindow == 0 {
			l.CreateReplyWindow = 10 * time.Minute
		}
		cfg.rateLimits = &l
		return nil
	}
}

// bucket is the budget a request draws from.
type bucket uint8

const (
	bucketPlan        bucket = iota // every request
	bucketCreateReply               // Create and Reply, on top of the plan
	bucketCount
)

// pacer holds what every call of one client shares: the optional token
// buckets, the pauses Zendesk announced, and what Zendesk last said of each
// budget.
type pacer struct {
	limiters [bucketCount]*rate.Limiter

	mu          sync.Mutex
	closedUntil [bucketCount]time.Time
	budgets     [bucketCount]budgetState
}

// budgetState is one budget as the answers describe it. The requests in
// flight may not be in the count of the newest answer yet: the client holds
// back when they would use up what remains. Counting them all errs on the
// side of waiting, which costs a moment at the end of a window; erring the
// other way costs 429 answers.
type budgetState struct {
	remaining int
	resetAt   time.Time // zero until Zendesk described the budget
	inFlight  int
}

func newPacer(l *RateLimits) *pacer {
	p := &pacer{}
	if l == nil {
		return p
	}
	if l.PerMinute > 0 {
		p.limiters[bucketPlan] = rate.NewLimiter(rate.Every(time.Minute/time.Duration(l.PerMinute)), l.PerMinute)
	}
	if l.CreateReply > 0 {
		p.limiters[bucketCreateReply] = rate.NewLimiter(rate.Every(l.CreateReplyWindow/time.Duration(l.CreateReply)), l.CreateReply)
	}
	return p
}

// buckets returns the budgets a request of bucket b draws from.
func buckets(b bucket) []bucket {
	if b == bucketCreateReply {
		return []bucket{bucketPlan, bucketCreateReply}
	}
	return []bucket{bucketPlan}
}

// pause returns how long requests of bucket b should wait from now: until
// a pause Zendesk announced ends, or until the window of a budget that the
// requests in flight already use up resets. It is 0 when they may go.
func (p *pacer) pause(b bucket) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pauseLocked(b, time.Now())
}

func (p *pacer) pauseLocked(b bucket, now time.Time) time.Duration {
	var pause time.Duration
	for _, k := range buckets(b) {
		if d := p.closedUntil[k].Sub(now); d > pause {
			pause = d
		}
		st := &p.budgets[k]
		if d := st.resetAt.Sub(now); d > pause && st.remaining-st.inFlight <= 0 {
			pause = d
		}
	}
	return pause
}

// admit counts a request of bucket b as in flight, unless it should wait:
// then it returns the wait and counts nothing. force admits it whatever the
// wait, as does a wait longer than maxPause (the server will then answer
// 429, and the caller learns when to come back).
func (p *pacer) admit(b bucket, maxPause time.Duration, force bool) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !force {
		if d := p.pauseLocked(b, time.Now()); d > 0 && d <= maxPause {
			return d
		}
	}
	for _, k := range buckets(b) {
		p.budgets[k].inFlight++
	}
	return 0
}

// take waits for a token of every configured budget of bucket b.
func (p *pacer) take(ctx context.Context, b bucket, sleep func(context.Context, time.Duration) error) error {
	for _, k := range buckets(b) {
		lim := p.limiters[k]
		if lim == nil {
			continue
		}
		r := lim.Reserve()
		if d := r.Delay(); d > 0 {
			if err := sleep(ctx, d); err != nil {
				r.Cancel()
				return err
			}
		}
	}
	return nil
}

// answered learns from the answer to an admitted request of bucket b (resp
// is nil after a transport error): it is no longer in flight, and the
// ratelimit-* headers give what remains of the budget that governed it
// (Create and Reply their own, other requests the plan's) and until when.
// Answers overtake each other, so within a window the lowest count stands.
// A Retry-After on 429 or 503 pauses bucket b for every call.
func (p *pacer) answered(resp *http.Response, b bucket) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range buckets(b) {
		if st := &p.budgets[k]; st.inFlight > 0 {
			st.inFlight--
		}
	}
	if remaining, reset, ok := budgetHeaders(resp, b); ok {
		st := &p.budgets[b]
		resetAt := now.Add(reset)
		// A reset more than a second (the headers' precision) later
		// than the known one starts a new window.
		if resetAt.Sub(st.resetAt) > time.Second || remaining < st.remaining {
			st.remaining = remaining
		}
		st.resetAt = resetAt
	}
	if resp == nil {
		return
	}
	if ra, ok := retryAfterOf(resp); ok {
		if until := now.Add(ra); until.After(p.closedUntil[b]) {
			p.closedUntil[b] = until
		}
	}
}

// budgetHeaders reads what an answer says of the budget of bucket b.
func budgetHeaders(resp *http.Response, b bucket) (remaining int, reset time.Duration, ok bool) {
	if resp == nil {
		return 0, 0, false
	}
	h := resp.Header
	secs, ok := headerInt(h, "Ratelimit-Reset")
	if !ok || secs <= 0 {
		return 0, 0, false
	}
	remaining, ok = headerInt(h, "Ratelimit-Remaining")
	if !ok && b == bucketPlan {
		remaining, ok = headerInt(h, "X-Rate-Limit-Remaining")
	}
	return remaining, time.Duration(secs) * time.Second, ok
}
