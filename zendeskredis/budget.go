package zendeskredis

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sideconv/zendesk"
)

// admitScript admits one attempt against the budgets it draws on, in one
// round trip. Times are microseconds of the Redis server's clock, so the
// replicas' clocks need not agree.
//
// KEYS, four per budget: its pause ("closed until"), the state Zendesk's
// answers reported (hash: rem, reset), its GCRA state (the theoretical
// arrival time of the next attempt) and its in-flight set (members:
// attempts; scores: when they stop counting).
// ARGV: the longest announced pause honoured, the attempt's in-flight
// member, how long it counts beyond its wait; then per budget the
// configured emission interval (0: none) and burst.
//
// It returns the wait before the attempt's turn.
var admitScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local maxWait = tonumber(ARGV[1])
local n = #KEYS / 4

-- Announced pauses, and budgets the answers report used up once the
-- attempts in flight are counted: wait for their end.
local pause = 0
local avail, resetAt = {}, {}
for i = 1, n do
  local k = 4 * (i - 1)
  local closed = tonumber(redis.call('GET', KEYS[k + 1]) or '0')
  if closed - now > pause then pause = closed - now end
  redis.call('ZREMRANGEBYSCORE', KEYS[k + 4], '-inf', string.format('%.0f', now))
  local st = redis.call('HMGET', KEYS[k + 2], 'rem', 'reset')
  local rem, reset = tonumber(st[1]), tonumber(st[2])
  if rem and reset and reset > now then
    local a = rem - redis.call('ZCARD', KEYS[k + 4])
    avail[i], resetAt[i] = a, reset
    if a <= 0 and reset - now > pause then pause = reset - now end
  end
end
-- A pause longer than the caller waits for admits at once: Zendesk's
-- answer will tell the caller when to come back.
if pause > maxWait then pause = 0 end
local start = now + pause

-- GCRA per budget: the configured interval and burst, and what is left of
-- the reported budget spread over what is left of its window, whichever
-- is stricter. The slot is reserved from the end of any pause. The attempt
-- is sent when every budget has a slot for it, so each budget's next slot
-- counts from that moment: a budget that waits for another must not lend
-- the time it waited to the attempts after it.
local sendAt = start
local tats, intervals = {}, {}
for i = 1, n do
  local k = 4 * (i - 1)
  local interval = tonumber(ARGV[2 + 2 * i])
  local burst = tonumber(ARGV[3 + 2 * i])
  local tat = tonumber(redis.call('GET', KEYS[k + 3]) or '0')
  if tat < start then tat = start end
  local a = avail[i]
  if a and a > 0 and resetAt[i] > tat then
    local spread = (resetAt[i] - tat) / a
    if spread > interval then interval = spread end
    local share = math.max(1, math.floor(a / 10))
    if burst == 0 or share < burst then burst = share end
  end
  tats[i], intervals[i] = tat, interval
  if interval > 0 then
    local at = tat - (burst - 1) * interval
    if at > sendAt then sendAt = at end
  end
end
for i = 1, n do
  if intervals[i] > 0 then
    local nextTat = math.max(tats[i], sendAt) + intervals[i]
    redis.call('SET', KEYS[4 * (i - 1) + 3], string.format('%.0f', nextTat),
      'PX', math.floor((nextTat - now) / 1000) + 1)
  end
end

-- The attempt counts as in flight until Done, or until it expires.
local expires = sendAt + tonumber(ARGV[3])
for i = 1, n do
  local k = 4 * (i - 1)
  redis.call('ZADD', KEYS[k + 4], string.format('%.0f', expires), ARGV[2])
  local ttl = math.floor((expires - now) / 1000) + 1
  if redis.call('PTTL', KEYS[k + 4]) < ttl then redis.call('PEXPIRE', KEYS[k + 4], ttl) end
end
return math.floor(sendAt - now)
`)

// doneScript reports the answer to an attempt.
//
// KEYS: the pause of the budget that governed the attempt, its reported
// state, then the in-flight set of every budget the attempt drew on.
// ARGV: the attempt's in-flight member ("" for none), the remaining
// requests reported (-1: none), the reset (microseconds; 0: none), the
// announced pause (microseconds; 0: none).
var doneScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if ARGV[1] ~= '' then
  for i = 3, #KEYS do redis.call('ZREM', KEYS[i], ARGV[1]) end
end

local ra = tonumber(ARGV[4])
if ra > 0 then
  local closedUntil = now + ra
  local closed = tonumber(redis.call('GET', KEYS[1]) or '0')
  if closedUntil > closed then
    redis.call('SET', KEYS[1], string.format('%.0f', closedUntil), 'PX', math.floor(ra / 1000) + 1)
  end
end

local rem, reset = tonumber(ARGV[2]), tonumber(ARGV[3])
if rem >= 0 and reset > 0 then
  local resetAt = now + reset
  local st = redis.call('HMGET', KEYS[2], 'rem', 'reset')
  local oldRem, oldReset = tonumber(st[1]), tonumber(st[2])
  -- The headers count whole seconds: a reset more than a second later
  -- than the known one starts a new window; within a second it is the same
  -- window, where answers overtake each other (the lowest count stands)
  -- and the rounding only ever overstates the reset (the earliest stands).
  if not oldReset or not oldRem or oldReset <= now or resetAt > oldReset + 1000000 then
    redis.call('HSET', KEYS[2], 'rem', rem, 'reset', string.format('%.0f', resetAt))
  elseif resetAt >= oldReset - 1000000 then
    if rem < oldRem then redis.call('HSET', KEYS[2], 'rem', rem) end
    if resetAt < oldReset then redis.call('HSET', KEYS[2], 'reset', string.format('%.0f', resetAt)) end
  end
  local keep = tonumber(redis.call('HGET', KEYS[2], 'reset')) - now
  redis.call('PEXPIRE', KEYS[2], math.floor(keep / 1000) + 1)
end
return 1
`)

// unsent is the answer to an attempt that was never sent.
var unsent = zendesk.Answer{Rate: zendesk.RateLimit{Limit: -1, Remaining: -1}}

// pacing returns the configured GCRA parameters of budget b: the emission
// interval and the burst, or zeros when b is not paced. A budget of limit
// requests per window lets burst go at once and then one per interval,
// where interval = window ÷ (limit − burst): no stretch of one window,
// wherever it starts, admits more than limit.
func (c *Coordinator) pacing(b zendesk.Budget) (interval time.Duration, burst int) {
	limit, window := c.cfg.limits.PerMinute, time.Minute
	if b == zendesk.BudgetCreateReply {
		limit, window = c.cfg.limits.CreateReply, c.cfg.limits.CreateReplyWindow
	}
	if limit <= 0 {
		return 0, 0
	}
	burst = max(1, limit/100)
	return window / time.Duration(max(limit-burst, 1)), burst
}

// budgetOf maps what a client may pass onto a known budget.
func budgetOf(b zendesk.Budget) zendesk.Budget {
	if b == zendesk.BudgetCreateReply {
		return b
	}
	return zendesk.BudgetPlan
}

// Admit implements zendesk.Coordinator: one round trip that reads the
// pauses and reported state of the budgets the attempt draws on, reserves
// its slot in each, and counts it in flight. The in-process fallback is
// kept informed of every attempt, so it knows this replica's recent past
// when it has to take over.
func (c *Coordinator) Admit(ctx context.Context, a zendesk.Attempt) (time.Duration, error) {
	localWait, err := c.local.Admit(ctx, a)
	if err != nil {
		return 0, err
	}
	t, ok := c.use()
	if !ok {
		return localWait, nil
	}
	b := budgetOf(a.Budget)
	k := c.keysOf(a.Account)
	token := c.newToken()
	args := make([]any, 0, 7)
	args = append(args, a.MaxWait.Microseconds(), token, c.cfg.inFlightTTL.Microseconds())
	for _, d := range budgetsOf(b) {
		interval, burst := c.pacing(d)
		args = append(args, interval.Microseconds(), burst)
	}
	// An attempt given up on (timeout, ctx) may still be admitted when
	// Redis gets to it: whichever of the script and the caller comes
	// second takes its entry out of the in-flight sets again, so that it
	// does not hold back the fleet's attempts until it expires.
	var claim atomic.Int32 // 0 pending, 1 answered, 2 given up
	var wait int64
	err = c.call(ctx, t, func(rctx context.Context) error {
		v, err := admitScript.Run(rctx, c.rdb, k.admit[b], args...).Int64()
		if err != nil {
			return err
		}
		wait = v
		if !claim.CompareAndSwap(0, 1) {
			c.withdraw(k.done[b], token)
		}
		return nil
	})
	if err != nil {
		if !claim.CompareAndSwap(0, 2) {
			// The script ran, but after the caller gave up on it.
			c.background(func() { c.withdraw(k.done[b], token) })
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			c.local.Done(context.WithoutCancel(ctx), a, unsent)
			return 0, ctxErr
		}
		return localWait, nil
	}
	c.outMu.Lock()
	ok2 := outstandingKey{a.Account, b}
	c.outstanding[ok2] = append(c.outstanding[ok2], token)
	c.outMu.Unlock()
	return time.Duration(wait) * time.Microsecond, nil
}

// Done implements zendesk.Coordinator: one round trip that ends an
// attempt's count in flight and publishes what the answer said, a pause
// (Retry-After) or the state of the budget (ratelimit-remaining and
// -reset), for every replica.
func (c *Coordinator) Done(ctx context.Context, a zendesk.Attempt, ans zendesk.Answer) {
	c.local.Done(ctx, a, ans)
	b := budgetOf(a.Budget)
	token := ""
	c.outMu.Lock()
	ok := outstandingKey{a.Account, b}
	if q := c.outstanding[ok]; len(q) > 0 {
		token = q[0]
		q[0] = ""
		if len(q) == 1 {
			delete(c.outstanding, ok)
		} else {
			c.outstanding[ok] = q[1:]
		}
	}
	c.outMu.Unlock()
	remaining, reset := -1, time.Duration(0)
	if ans.Rate.Remaining >= 0 && ans.Rate.Reset > 0 {
		remaining, reset = ans.Rate.Remaining, ans.Rate.Reset
	}
	if token == "" && remaining < 0 && ans.RetryAfter <= 0 {
		return
	}
	t, use := c.use()
	if !use {
		// The attempt's entry in Redis, if any, expires by itself.
		return
	}
	keys := c.keysOf(a.Account).done[b]
	args := []any{token, remaining, reset.Microseconds(), max(ans.RetryAfter, 0).Microseconds()}
	// The report must reach Redis even when the call's context ended.
	_ = c.call(context.WithoutCancel(ctx), t, func(rctx context.Context) error {
		return doneScript.Run(rctx, c.rdb, keys, args...).Err()
	})
}

// withdraw takes an attempt given up on out of the in-flight sets, on the
// goroutine of a round trip nobody waits for (the Redis client's own
// timeouts bound it). doneKeys are the keys of doneScript for the
// attempt's budget.
func (c *Coordinator) withdraw(doneKeys []string, token string) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.timeout)
	defer cancel()
	_ = doneScript.Run(ctx, c.rdb, doneKeys, token, -1, 0, 0).Err()
}
