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
// buckets, and the pauses Zendesk announced.
type pacer struct {
	limiters [bucketCount]*rate.Limiter

	mu          sync.Mutex
	closedUntil [bucketCount]time.Time
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

// pause returns how long Zendesk asked requests of bucket b to wait from
// now, or 0.
func (p *pacer) pause(b bucket) time.Duration {
	now := time.Now()
	var pause time.Duration
	p.mu.Lock()
	for _, k := range buckets(b) {
		if d := p.closedUntil[k].Sub(now); d > pause {
			pause = d
		}
	}
	p.mu.Unlock()
	return pause
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

// observe learns from a response: a Retry-After on 429 or 503, or the
// ratelimit-* headers (the budget that governed the request) saying nothing
// remains until a reset, pauses bucket b for every call. A plan-wide
// X-Rate-Limit-Remaining of 0 pauses the plan when no other budget answered.
func (p *pacer) observe(resp *http.Response, b bucket) {
	if resp == nil {
		return
	}
	var pause time.Duration
	h := resp.Header
	if ra, ok := retryAfterOf(resp); ok {
		pause = ra
	} else if reset, ok := headerInt(h, "Ratelimit-Reset"); ok && reset > 0 {
		remaining, ok := headerInt(h, "Ratelimit-Remaining")
		if !ok && b == bucketPlan {
			remaining, ok = headerInt(h, "X-Rate-Limit-Remaining")
		}
		if ok && remaining == 0 {
			pause = time.Duration(reset) * time.Second
		}
	}
	if pause <= 0 {
		return
	}
	until := time.Now().Add(pause)
	p.mu.Lock()
	if until.After(p.closedUntil[b]) {
		p.closedUntil[b] = until
	}
	p.mu.Unlock()
}
