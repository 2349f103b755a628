package zendesktest

import (
	"net/http"
	"strconv"
	"time"
)

// budget is a fixed-window request budget. Windows start when the server
// starts and follow each other without gaps.
type budget struct {
	limit  int
	window time.Duration
	index  int64 // the window used counts in
	used   int
}

// scaled returns d multiplied by f, at least a millisecond.
func scaled(d time.Duration, f float64) time.Duration {
	return max(time.Duration(float64(d)*f), time.Millisecond)
}

// roll moves the budget into the window elapsed falls in.
func (b *budget) roll(elapsed time.Duration) {
	if idx := int64(elapsed / b.window); idx != b.index {
		b.index, b.used = idx, 0
	}
}

// resetIn is the time left in the current window.
func (b *budget) resetIn(elapsed time.Duration) time.Duration {
	return time.Duration(b.index+1)*b.window - elapsed
}

func (b *budget) remaining() int { return max(b.limit-b.used, 0) }

// ceilSeconds rounds d up to whole seconds, at least 1.
func ceilSeconds(d time.Duration) int64 {
	return max(int64((d+time.Second-1)/time.Second), 1)
}

// rateLimited charges the request to the budgets that apply to it, sets the
// rate-limit headers, and answers 429 when a budget is spent. The caller
// holds s.mu.
//
// X-Rate-Limit and X-Rate-Limit-Remaining always report the plan-wide
// budget; ratelimit-limit, ratelimit-remaining and ratelimit-reset report
// the budget that governs the request: the create/reply budget for Create
// and Reply when it is configured, else the plan-wide one.
func (s *Server) rateLimited(rt route, resp *response) bool {
	plan := s.plan
	var endpoint *budget
	if rt.isCreateOrReply() {
		endpoint = s.createReply
	}
	if plan == nil && endpoint == nil {
		return false
	}
	elapsed := s.cfg.rateClock().Sub(s.started)
	var retryAfter time.Duration
	limited := false
	for _, b := range []*budget{plan, endpoint} {
		if b == nil {
			continue
		}
		b.roll(elapsed)
		if b.used >= b.limit {
			limited = true
			retryAfter = max(retryAfter, b.resetIn(elapsed))
		}
	}
	if !limited {
		for _, b := range []*budget{plan, endpoint} {
			if b != nil {
				b.used++
			}
		}
	}

	h := resp.header
	if plan != nil {
		h.Set("X-Rate-Limit", strconv.Itoa(plan.limit))
		h.Set("X-Rate-Limit-Remaining", strconv.Itoa(plan.remaining()))
	}
	governing := endpoint
	if governing == nil {
		governing = plan
	}
	h.Set("ratelimit-limit", strconv.Itoa(governing.limit))
	h.Set("ratelimit-remaining", strconv.Itoa(governing.remaining()))
	h.Set("ratelimit-reset", strconv.FormatInt(ceilSeconds(governing.resetIn(elapsed)), 10))

	if !limited {
		return false
	}
	wait := ceilSeconds(retryAfter)
	h.Set("Retry-After", strconv.FormatInt(wait, 10))
	resp.fail(http.StatusTooManyRequests, "TooManyRequests",
		"Rate limit exceeded: too many requests in this window. Retry after "+strconv.FormatInt(wait, 10)+" seconds")
	return true
}
