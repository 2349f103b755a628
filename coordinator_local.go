package zendesk

import (
	"context"
	"sync"
	"time"
)

// NewLocalCoordinator returns the coordinator a client uses by default: it
// shares budgets, pauses and idempotency keys between the goroutines of one
// process. limits paces the requests below Zendesk's limits (see
// RateLimits); the zero RateLimits paces nothing and only honours what
// Zendesk announces. One local coordinator may serve the clients of several
// accounts; their states are kept apart.
//
// What it does, per account:
//   - After a 429 or a 503 with Retry-After, or an answer reporting no
//     request remaining until a reset, every attempt of that budget waits
//     for that moment, not only the refused one.
//   - It counts the attempts in flight against the remaining budget that
//     the latest answers reported, and holds further ones until the reset
//     when they would use it up.
//   - With limits, attempts draw on a token bucket per budget, refilled
//     evenly over the window and holding at most one window's budget.
//   - Calls that share an idempotency key run one after the other; the
//     key's record lives in memory for its TTL.
//
// The returned value is meant to be passed to WithCoordinator, or to be
// the fallback of a coordinator that shares state between processes.
func NewLocalCoordinator(limits RateLimits) (Coordinator, error) {
	if err := limits.validate(); err != nil {
		return nil, err
	}
	return newLocalCoordinator(limits.withDefaults()), nil
}

func newLocalCoordinator(limits RateLimits) *localCoordinator {
	return &localCoordinator{
		limits:   limits,
		now:      time.Now,
		accounts: make(map[string]*localAccount, 1),
		keys:     make(map[string]*localKey),
	}
}

// localCoordinator is the in-process Coordinator.
type localCoordinator struct {
	limits RateLimits
	now    func() time.Time

	mu       sync.Mutex
	accounts map[string]*localAccount
	keys     map[string]*localKey
	// sweepAt is the number of keys at which expired records are swept
	// next, so that sweeping costs O(1) per LockKey on average.
	sweepAt int
}

// bucket is a budget as an array index.
type bucket uint8

const (
	bucketPlan bucket = iota
	bucketCreateReply
	bucketCount
)

func bucketOf(b Budget) bucket {
	if b == BudgetCreateReply {
		return bucketCreateReply
	}
	return bucketPlan
}

// drawsOn returns the budgets a request of bucket b draws on.
func drawsOn(b bucket) []bucket {
	if b == bucketCreateReply {
		return []bucket{bucketPlan, bucketCreateReply}
	}
	return []bucket{bucketPlan}
}

// localAccount is what the calls to one account share.
type localAccount struct {
	pacers      [bucketCount]*pacer
	closedUntil [bucketCount]time.Time
	budgets     [bucketCount]budgetState
}

// budgetState is one budget as the answers describe it. The requests in
// flight may not be in the count of the newest answer yet: the coordinator
// holds back when they would use up what remains. Counting them all errs on
// the side of waiting, which costs a moment at the end of a window; erring
// the other way costs 429 answers.
type budgetState struct {
	remaining int
	resetAt   time.Time // zero until Zendesk described the budget
	inFlight  int
}

// pacer paces limit requests per window with a generic cell rate
// algorithm: a burst of limit/100 (at least one request), then one request
// every window/(limit-burst), so that no stretch of the window's length,
// wherever it starts, admits more than limit. (A token bucket holding a
// whole window's budget would admit up to twice the limit in one window:
// the full bucket, then its refill.)
type pacer struct {
	interval  time.Duration // between requests, once the burst is spent
	tolerance time.Duration // how far ahead of tat a request may go: the burst
	tat       time.Time     // the theoretical arrival time of the next request
}

func newPacer(limit int, window time.Duration) *pacer {
	burst := max(1, limit/100)
	if limit <= burst {
		return &pacer{interval: window}
	}
	interval := window / time.Duration(limit-burst)
	return &pacer{interval: interval, tolerance: time.Duration(burst-1) * interval}
}

// earliest is the first moment from now at which the pacer lets a request go.
func (p *pacer) earliest(now time.Time) time.Time {
	if at := p.tat.Add(-p.tolerance); at.After(now) {
		return at
	}
	return now
}

// take counts a request that goes at the moment at.
func (p *pacer) take(at time.Time) {
	if p.tat.Before(at) {
		p.tat = at
	}
	p.tat = p.tat.Add(p.interval)
}

// account returns the state of an account, made on first use. The caller
// holds l.mu.
func (l *localCoordinator) account(name string) *localAccount {
	if a, ok := l.accounts[name]; ok {
		return a
	}
	a := &localAccount{}
	if l.limits.PerMinute > 0 {
		a.pacers[bucketPlan] = newPacer(l.limits.PerMinute, time.Minute)
	}
	if l.limits.CreateReply > 0 {
		a.pacers[bucketCreateReply] = newPacer(l.limits.CreateReply, l.limits.CreateReplyWindow)
	}
	l.accounts[name] = a
	return a
}

// Admit implements Coordinator.
func (l *localCoordinator) Admit(ctx context.Context, at Attempt) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	b := bucketOf(at.Budget)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	a := l.account(at.Account)
	// The paced budgets count the attempt when it goes: after any pause.
	from := now
	if d := a.pause(b, now); d <= at.MaxWait {
		from = now.Add(d)
	}
	wait := a.takeTurn(b, from).Sub(now)
	for _, k := range drawsOn(b) {
		a.budgets[k].inFlight++
	}
	return wait, nil
}

// pause returns how long requests of bucket b should wait from now: until
// a pause Zendesk announced ends, or until the window of a budget that the
// requests in flight already use up resets. It is 0 when they may go.
func (a *localAccount) pause(b bucket, now time.Time) time.Duration {
	var pause time.Duration
	for _, k := range drawsOn(b) {
		if d := a.closedUntil[k].Sub(now); d > pause {
			pause = d
		}
		st := &a.budgets[k]
		if d := st.resetAt.Sub(now); d > pause && st.remaining-st.inFlight <= 0 {
			pause = d
		}
	}
	return pause
}

// takeTurn finds the first moment from from on at which every paced budget
// of bucket b lets a request go, counts the request in each at that moment,
// and returns it. Counting it in each at its own earliest moment would
// charge a create to the create budget sooner than it is sent when the
// plan budget holds it back, and let creates go out in bursts.
func (a *localAccount) takeTurn(b bucket, from time.Time) time.Time {
	at := from
	for _, k := range drawsOn(b) {
		if p := a.pacers[k]; p != nil {
			if e := p.earliest(from); e.After(at) {
				at = e
			}
		}
	}
	for _, k := range drawsOn(b) {
		if p := a.pacers[k]; p != nil {
			p.take(at)
		}
	}
	return at
}

// Done implements Coordinator: the attempt is no longer in flight, the
// budget that governed it is as the answer says (answers overtake each
// other, so within a window the lowest count stands), and a Retry-After
// pauses its budget for every call.
func (l *localCoordinator) Done(_ context.Context, at Attempt, ans Answer) {
	b := bucketOf(at.Budget)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	a := l.account(at.Account)
	for _, k := range drawsOn(b) {
		if st := &a.budgets[k]; st.inFlight > 0 {
			st.inFlight--
		}
	}
	if ans.Rate.Reset > 0 && ans.Rate.Remaining >= 0 {
		st := &a.budgets[b]
		resetAt := now.Add(ans.Rate.Reset)
		// A reset more than a second (the headers' precision) later than
		// the known one starts a new window.
		if resetAt.Sub(st.resetAt) > time.Second || ans.Rate.Remaining < st.remaining {
			st.remaining = ans.Rate.Remaining
		}
		st.resetAt = resetAt
	}
	if ans.RetryAfter > 0 {
		if until := now.Add(ans.RetryAfter); until.After(a.closedUntil[b]) {
			a.closedUntil[b] = until
		}
	}
}

// localKey is one idempotency key: its lock and its record.
type localKey struct {
	// sem holds one token while the lock is held; waiting on it can end
	// with the caller's context.
	sem chan struct{}
	// users counts the calls holding or waiting for the lock; the entry
	// may go when none do and the record has expired.
	users   int
	rec     KeyRecord
	expires time.Time
}

// LockKey implements Coordinator.
func (l *localCoordinator) LockKey(ctx context.Context, account, key string) (KeyLock, KeyRecord, error) {
	name := account + "\x00" + key
	l.mu.Lock()
	k := l.keys[name]
	if k == nil {
		l.sweepLocked()
		k = &localKey{sem: make(chan struct{}, 1)}
		l.keys[name] = k
	}
	k.users++
	l.mu.Unlock()

	select {
	case k.sem <- struct{}{}:
	case <-ctx.Done():
		l.mu.Lock()
		l.leaveLocked(name, k)
		l.mu.Unlock()
		return nil, KeyRecord{}, ctx.Err()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var rec KeyRecord
	if k.rec.State != "" && l.now().Before(k.expires) {
		rec = k.rec
	}
	return &localLock{l: l, name: name, k: k}, rec, nil
}

// leaveLocked drops a user of k, and k itself when it is unused and holds
// no live record. The caller holds l.mu.
func (l *localCoordinator) leaveLocked(name string, k *localKey) {
	k.users--
	if k.users == 0 && (k.rec.State == "" || !l.now().Before(k.expires)) {
		delete(l.keys, name)
	}
}

// sweepLocked deletes unused keys whose records have expired, when the
// map has doubled since the last sweep. The caller holds l.mu.
func (l *localCoordinator) sweepLocked() {
	if len(l.keys) < l.sweepAt {
		return
	}
	now := l.now()
	for name, k := range l.keys {
		if k.users == 0 && !now.Before(k.expires) {
			delete(l.keys, name)
		}
	}
	l.sweepAt = max(2*len(l.keys), 64)
}

// localLock is a held localKey.
type localLock struct {
	l        *localCoordinator
	name     string
	k        *localKey
	unlocked bool
}

func (h *localLock) Record(_ context.Context, rec KeyRecord) error {
	h.l.mu.Lock()
	defer h.l.mu.Unlock()
	if h.unlocked {
		return ErrLockLost
	}
	h.k.rec = rec
	h.k.expires = h.l.now().Add(rec.TTL)
	if rec.State == "" {
		h.k.rec, h.k.expires = KeyRecord{}, time.Time{}
	}
	return nil
}

func (h *localLock) Unlock() {
	h.l.mu.Lock()
	defer h.l.mu.Unlock()
	if h.unlocked {
		return
	}
	h.unlocked = true
	<-h.k.sem
	h.l.leaveLocked(h.name, h.k)
}
