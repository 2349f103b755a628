package zendesk

import (
	"errors"
	"time"
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
// client draws from one pacer per limit, which lets a burst of a hundredth
// of the limit (at least one request) go at once and then one request every
// window/(limit-burst), so that no stretch of the window's length admits
// more than the limit; a request of Create or Reply waits for its turn in
// both of its budgets and is counted in both when it goes. It configures the
// default coordinator (NewLocalCoordinator); with WithCoordinator, give the
// limits to that coordinator instead. Without it the client still honours
// what Zendesk announces: after a 429 or 503 with Retry-After, or a response
// reporting no requests remaining until a reset, every call of the client
// waits for that moment (if it is within RetryPolicy.MaxRetryAfter) instead
// of only the one that was refused.
func WithRateLimit(l RateLimits) Option {
	return func(cfg *clientConfig) error {
		if err := l.validate(); err != nil {
			return err
		}
		l = l.withDefaults()
		cfg.rateLimits = &l
		return nil
	}
}

func (l RateLimits) validate() error {
	switch {
	case l.PerMinute < 0 || l.CreateReply < 0:
		return errors.New("zendesk: RateLimits: limits must not be negative")
	case l.CreateReplyWindow < 0:
		return errors.New("zendesk: RateLimits: CreateReplyWindow must not be negative")
	}
	return nil
}

func (l RateLimits) withDefaults() RateLimits {
	if l.CreateReplyWindow == 0 {
		l.CreateReplyWindow = 10 * time.Minute
	}
	return l
}
