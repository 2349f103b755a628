package zendesk

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Budget names one of the rate budgets of a Zendesk account.
type Budget string

// The budgets Zendesk counts requests against.
const (
	// BudgetPlan is the account's plan-wide budget: 200 to 2,500 requests
	// a minute, by plan. Every request draws on it.
	BudgetPlan Budget = "plan"
	// BudgetCreateReply is the budget of Create and Reply: 300 requests per
	// 10 minutes. They draw on it besides BudgetPlan.
	BudgetCreateReply Budget = "create_reply"
)

// Attempt is one attempt of a request, as a Coordinator sees it.
type Attempt struct {
	// Account is the host of the account's API, such as
	// "acme.zendesk.com". A coordinator shared by clients of several
	// accounts keeps each account's state apart by it.
	Account string
	// Budget is what the request draws on: BudgetCreateReply for Create
	// and Reply (which draw on BudgetPlan too), BudgetPlan for the rest.
	Budget Budget
	// MaxWait is the longest the client waits for a pause Zendesk
	// announced (RetryPolicy.MaxRetryAfter). When the budget opens later
	// than that, the coordinator lets the attempt go at once: Zendesk's
	// answer, a 429 with Retry-After, then tells the caller when to come
	// back instead of the call sleeping for it. Pacing that a coordinator
	// was configured with (RateLimits) is not bounded by MaxWait.
	MaxWait time.Duration
}

// Answer is what Zendesk's answer to an attempt said of the account's
// budgets.
type Answer struct {
	// Status is the HTTP status, or 0 when no answer came.
	Status int
	// Rate is the state of the budget that governed the request, from the
	// ratelimit-* headers (Create and Reply: their own budget; other
	// requests: the plan's, also from X-Rate-Limit-Remaining). Limit and
	// Remaining are -1 and Reset is 0 for what the answer did not say.
	Rate RateLimit
	// RetryAfter is the pause a 429 or a 503 announced, or 0.
	RetryAfter time.Duration
}

// Coordinator shares what the calls to one Zendesk account must agree on:
// its rate budgets, the pauses Zendesk announces, and the idempotency keys
// of Create and Reply. The client calls it at three points: before each
// attempt (Admit), after each answer (Done), and around a keyed Create or
// Reply (LockKey).
//
// The default, NewLocalCoordinator, shares them between the goroutines that
// use one Client. Package github.com/sideconv/zendesk/zendeskredis shares
// them between the replicas of a service through Redis. A Coordinator must
// be safe for concurrent use.
type Coordinator interface {
	// Admit is called before each attempt. It admits the attempt, counting
	// it as in flight until Done, and returns how long the client must
	// wait before sending it: 0 to send at once, or the time until the
	// attempt's turn (a pause Zendesk announced, the reset of a used-up
	// budget, a slot of the paced rate). The client waits that long, ending
	// the wait when ctx ends, and sends without asking again. Admit may
	// also do some waiting itself, ending it when ctx ends, and return
	// what is left. An error ends the call before anything is sent, and
	// counts nothing.
	Admit(ctx context.Context, a Attempt) (time.Duration, error)
	// Done reports the answer to an admitted attempt, once per admitted
	// attempt: also when no answer came, or the attempt was never sent
	// because its wait was cut short (Answer.Status 0).
	Done(ctx context.Context, a Attempt, ans Answer)
	// LockKey takes the lock on an idempotency key of an account, waiting
	// while another call holds it, and returns it with the key's record:
	// what the calls that held the lock before recorded (the zero
	// KeyRecord when none did, or the record expired). The client holds the
	// lock for the whole of a keyed Create or Reply, so calls that share a
	// key run one after the other. An error ends the call before anything
	// is sent.
	LockKey(ctx context.Context, account, key string) (KeyLock, KeyRecord, error)
}

// KeyLock is a held idempotency-key lock; see Coordinator.LockKey.
type KeyLock interface {
	// Record replaces the key's record, kept for rec.TTL, provided the lock
	// is still held; otherwise it records nothing and returns an error
	// matching ErrLockLost. The client records its intent (KeySending)
	// right before it sends, so a lock that was lost, for instance a lease
	// that expired while its holder stalled, is noticed before anything
	// goes out. A zero State deletes the record.
	Record(ctx context.Context, rec KeyRecord) error
	// Unlock releases the lock. Calling it more than once does nothing.
	Unlock()
}

// KeyState is what a KeyRecord says of the message sent with a key.
type KeyState string

// The states of a KeyRecord. The zero state means nothing is known.
const (
	// KeySending: a send started at KeyRecord.At and its outcome was never
	// recorded (its caller stopped, or lost its lock, before it could).
	KeySending KeyState = "sending"
	// KeyUnresolved: a send failed at KeyRecord.At in a way that leaves open
	// whether Zendesk acted on it, and no lookup has found the message.
	KeyUnresolved KeyState = "unresolved"
	// KeySent: the message exists; ConversationID (and EventID, when
	// known) name it.
	KeySent KeyState = "sent"
)

// KeyRecord is what a coordinator keeps of an idempotency key between the
// calls that use it. The client writes it; a coordinator stores it as it is.
type KeyRecord struct {
	State KeyState
	// Fingerprint identifies the request the key was used for; a later
	// call with the same key and another fingerprint fails with
	// ErrIdempotencyKeyReused.
	Fingerprint string
	// At is when State began.
	At time.Time
	// ConversationID and EventID name what a KeySent send made, when known.
	ConversationID string
	EventID        string
	// TTL is how long the coordinator keeps the record.
	TTL time.Duration
}

// ErrLockLost is matched by the error of KeyLock.Record when the lock is no
// longer held, for instance because a lease expired while its holder was
// stalled. Nothing is sent after it.
var ErrLockLost = errors.New("zendesk: the idempotency key lock was lost")

// WithCoordinator makes the client share its rate budgets, Zendesk's
// announced pauses and its idempotency-key locks through c instead of the
// default NewLocalCoordinator, for instance between the replicas of a
// service (package zendeskredis). Pass the same coordinator to every client
// of the account. It cannot be combined with WithRateLimit: give the
// limits to the coordinator.
func WithCoordinator(c Coordinator) Option {
	return func(cfg *clientConfig) error {
		if c == nil {
			return errors.New("zendesk: WithCoordinator: the coordinator is nil")
		}
		cfg.coordinator = c
		return nil
	}
}

// DefaultSettleTime is the settle time of a client without WithSettleTime.
const DefaultSettleTime = 10 * time.Minute

// WithSettleTime sets how long after a keyed Create or Reply that may have
// reached Zendesk the client assumes Zendesk might still act on it (default
// DefaultSettleTime). Within that time, a call with the same key that does
// not find the message returns ErrMaybeSent again instead of sending; after
// it, a lookup that finds nothing is taken as proof that the message was
// never made, and the call sends. It must be longer than the longest a send
// can take (the HTTP client's Timeout, times the attempts, plus the waits
// between them); NewClient refuses one shorter than the HTTP client's
// Timeout.
func WithSettleTime(d time.Duration) Option {
	return func(cfg *clientConfig) error {
		if d <= 0 {
			return errors.New("zendesk: WithSettleTime: the settle time must be positive")
		}
		cfg.settle = d
		return nil
	}
}

// admit has the coordinator admit an attempt of a and waits for its turn.
// When the wait is cut short, the attempt is reported done unsent.
func (c *Client) admit(ctx context.Context, a Attempt) error {
	wait, err := c.coord.Admit(ctx, a)
	if err != nil || wait <= 0 {
		return err
	}
	if err := c.retry.sleep(ctx, wait); err != nil {
		c.coord.Done(ctx, a, Answer{Rate: RateLimit{Limit: -1, Remaining: -1}})
		return err
	}
	return nil
}

// answerOf reads what resp says of the budget of b; resp is nil after a
// transport error. The caller fills RetryAfter.
func answerOf(resp *http.Response, b Budget) Answer {
	ans := Answer{Rate: RateLimit{Limit: -1, Remaining: -1}}
	if resp == nil {
		return ans
	}
	ans.Status = resp.StatusCode
	h := resp.Header
	secs, ok := headerInt(h, "Ratelimit-Reset")
	if !ok || secs <= 0 {
		return ans
	}
	remaining, ok := headerInt(h, "Ratelimit-Remaining")
	if !ok && b == BudgetPlan {
		remaining, ok = headerInt(h, "X-Rate-Limit-Remaining")
	}
	if !ok {
		return ans
	}
	ans.Rate.Remaining = remaining
	ans.Rate.Reset = time.Duration(secs) * time.Second
	if limit, ok := headerInt(h, "Ratelimit-Limit"); ok {
		ans.Rate.Limit = limit
	} else if b == BudgetPlan {
		if limit, ok := headerInt(h, "X-Rate-Limit"); ok {
			ans.Rate.Limit = limit
		}
	}
	return ans
}
