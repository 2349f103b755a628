package zendeskredis

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sideconv/zendesk"
)

// acquireScript takes a key's lease when it is free, or when it carries
// the token of an earlier try of the same caller that timed out (and may
// have taken it after all), and returns it with the key's record;
// otherwise it returns how long the lease has left.
// KEYS: the lease, the record. ARGV: the token, the TTL in milliseconds,
// the earlier try's token or "".
var acquireScript = redis.NewScript(`
local taken = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
if not taken and ARGV[3] ~= '' and redis.call('GET', KEYS[1]) == ARGV[3] then
  taken = redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
if taken then
  return {1, redis.call('GET', KEYS[2]) or ''}
end
return {0, redis.call('PTTL', KEYS[1])}
`)

// renewScript extends a lease its holder still holds.
// KEYS: the lease. ARGV: the token, the TTL in milliseconds.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

// recordScript replaces the key's record, provided the lease is still
// held by the token: the check and the write are one step.
// KEYS: the lease, the record. ARGV: the token, the record's JSON ("" to
// delete it), its TTL in milliseconds.
var recordScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[2])
else
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
end
return 1
`)

// releaseScript frees a lease its holder still holds, and tells the
// callers waiting for it.
// KEYS: the lease. ARGV: the token, the channel of releases.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], KEYS[1])
  return 1
end
return 0
`)

// maxPoll is the longest a caller waits for a lease held elsewhere before
// trying again, should the message of its release not arrive (Redis
// Pub/Sub delivers at most once) or the lease expire unreleased.
const maxPoll = time.Second

// releases dispatches the release messages of the namespace's channel to
// the callers of this coordinator waiting for those leases. The
// subscription starts with the first wait.
type releases struct {
	mu      sync.Mutex
	waiting map[string]map[chan struct{}]struct{}
	started bool
	closed  bool
	ps      *redis.PubSub
}

func (c *Coordinator) releaseChannel() string { return c.cfg.namespace + ":released" }

// watch registers a wait for the release of lockKey: the returned channel
// receives when a release message for it arrives. stop ends the wait.
func (c *Coordinator) watch(lockKey string) (released <-chan struct{}, stop func()) {
	r := &c.releases
	ch := make(chan struct{}, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started && !r.closed {
		r.started = true
		// Subscribing dials: never on the caller's goroutine.
		go c.subscribe()
	}
	m := r.waiting[lockKey]
	if m == nil {
		m = make(map[chan struct{}]struct{}, 1)
		r.waiting[lockKey] = m
	}
	m[ch] = struct{}{}
	return ch, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(m, ch)
		if len(m) == 0 && r.waiting[lockKey] != nil && len(r.waiting[lockKey]) == 0 {
			delete(r.waiting, lockKey)
		}
	}
}

// subscribe listens to the channel of releases until Close; go-redis
// reconnects the subscription after a Redis outage.
func (c *Coordinator) subscribe() {
	ps := c.rdb.Subscribe(context.Background(), c.releaseChannel())
	r := &c.releases
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		_ = ps.Close()
		return
	}
	r.ps = ps
	r.mu.Unlock()
	for msg := range ps.Channel(redis.WithChannelSize(1024)) {
		r.mu.Lock()
		for ch := range r.waiting[msg.Payload] {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
		r.mu.Unlock()
	}
}

// Close ends the coordinator's subscription to lease releases, if it
// started one. It does not close the Redis client, which belongs to the
// caller. Calls made after Close still work; waits for a lease held
// elsewhere then poll.
func (c *Coordinator) Close() error {
	r := &c.releases
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.ps != nil {
		err := r.ps.Close()
		r.ps = nil
		return err
	}
	return nil
}

// storedRecord is a zendesk.KeyRecord as stored in Redis.
type storedRecord struct {
	State          zendesk.KeyState `json:"state"`
	Fingerprint    string           `json:"fingerprint,omitempty"`
	At             time.Time        `json:"at"`
	ConversationID string           `json:"conversation_id,omitempty"`
	EventID        string           `json:"event_id,omitempty"`
	TTL            time.Duration    `json:"ttl"`
}

func decodeRecord(raw string) (zendesk.KeyRecord, error) {
	if raw == "" {
		return zendesk.KeyRecord{}, nil
	}
	var s storedRecord
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return zendesk.KeyRecord{}, fmt.Errorf("zendeskredis: the key's record in Redis is not readable: %w", err)
	}
	return zendesk.KeyRecord{State: s.State, Fingerprint: s.Fingerprint, At: s.At, ConversationID: s.ConversationID, EventID: s.EventID, TTL: s.TTL}, nil
}

// LockKey implements zendesk.Coordinator. It takes the key's lock in
// process first, so that the calls of one replica queue there and only
// one of them waits on Redis, then the key's lease in Redis: SET NX PX
// with a random token, renewed every third of its TTL while held. While
// another replica holds the lease, the caller waits for the message its
// release publishes, and tries again at the latest after a second (less
// some jitter) or when the lease expires, whichever comes first. It returns
// the record stored in Redis or, when Redis has none but this replica
// still keeps one of its own, that one (see restore). While Redis is
// unreachable the lock is the in-process one alone, with the in-process
// record.
func (c *Coordinator) LockKey(ctx context.Context, account, key string) (zendesk.KeyLock, zendesk.KeyRecord, error) {
	local, localRec, err := c.local.LockKey(ctx, account, key)
	if err != nil {
		return nil, zendesk.KeyRecord{}, err
	}
	k := c.keysOf(account)
	l := &lease{c: c, local: local, lockKey: k.prefix + "lock:" + key, recKey: k.prefix + "record:" + key}
	token := newLeaseToken()
	// The wait is registered before each try, so that a release between
	// a failed try and the wait is not missed.
	var released <-chan struct{}
	stopWatching := func() {}
	defer func() { stopWatching() }()
	for {
		tk, ok := c.use()
		if !ok {
			l.pending = token
			return l, localRec, nil
		}
		if released == nil {
			released, stopWatching = c.watch(l.lockKey)
		}
		sent := c.now()
		got, raw, left, err := c.tryAcquire(ctx, tk, l.lockKey, l.recKey, token, "")
		switch {
		case err != nil && ctx.Err() != nil:
			local.Unlock()
			return nil, zendesk.KeyRecord{}, ctx.Err()
		case err != nil:
			l.pending = token
			return l, localRec, nil
		case got:
			rec, err := decodeRecord(raw)
			if err != nil {
				// Release the lease through the lock's own path.
				l.token = token
				l.Unlock()
				return nil, zendesk.KeyRecord{}, err
			}
			l.token = token
			l.confirmed(sent)
			if rec.State == "" && localRec.State != "" {
				// Redis lost the record this replica still keeps (it
				// restarted without persistence, or failed over to a
				// replica that lacked the last writes): the replica's own
				// copy stands, and goes back into Redis for the others.
				rec = localRec
				l.restore(ctx, rec)
			}
			l.stop = make(chan struct{})
			// The renewal lasts until Unlock, not until ctx ends.
			go l.renew(context.WithoutCancel(ctx))
			return l, rec, nil
		}
		// Held elsewhere: wait for its release, or its expiry, or at most
		// maxPoll (spread a little, so that the waiters of one lease do
		// not all try at once).
		d := maxPoll - rand.N(maxPoll/4) //nolint:gosec // jitter needs spread, not secrecy
		if left > 0 {
			d = min(d, time.Duration(left)*time.Millisecond)
		}
		t := time.NewTimer(d)
		if c.beforeWait != nil {
			c.beforeWait()
		}
		select {
		case <-ctx.Done():
			t.Stop()
			local.Unlock()
			return nil, zendesk.KeyRecord{}, ctx.Err()
		case <-released:
			t.Stop()
		case <-t.C:
		}
	}
}

// tryAcquire makes one try at a lease. It returns whether the lease was
// taken and then the key's record, or else how long the lease has left.
func (c *Coordinator) tryAcquire(ctx context.Context, tk ticket, lockKey, recKey, token, earlier string) (got bool, raw string, left int64, err error) {
	// A try given up on (timeout, ctx) may still take the lease when
	// Redis gets to it: whichever of the try and the caller comes second
	// releases it, so that it does not hold the key for its TTL.
	var claim atomic.Int32 // 0 pending, 1 answered, 2 given up
	var answer struct {
		got  bool
		raw  string
		left int64
	}
	err = c.call(ctx, tk, func(rctx context.Context) error {
		vals, err := acquireScript.Run(rctx, c.rdb, []string{lockKey, recKey}, token, c.cfg.leaseTTL.Milliseconds(), earlier).Slice()
		if err != nil {
			return err
		}
		if len(vals) != 2 {
			return fmt.Errorf("zendeskredis: unexpected reply to the lease script: %v", vals)
		}
		answer.got = vals[0] == int64(1)
		answer.raw, _ = vals[1].(string)
		answer.left, _ = vals[1].(int64)
		if !claim.CompareAndSwap(0, 1) && answer.got {
			c.releaseAbandoned(lockKey, token)
		}
		return nil
	})
	if err != nil {
		if !claim.CompareAndSwap(0, 2) && answer.got {
			c.background(func() { c.releaseAbandoned(lockKey, token) })
		}
		return false, "", 0, err
	}
	return answer.got, answer.raw, answer.left, nil
}

// releaseAbandoned frees a lease taken by a try its caller gave up on, or
// must not use. It runs on a goroutine nobody waits for: the Redis
// client's own timeouts bound it, which may be longer than WithTimeout.
func (c *Coordinator) releaseAbandoned(lockKey, token string) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.timeout)
	defer cancel()
	_ = releaseScript.Run(ctx, c.rdb, []string{lockKey}, token, c.releaseChannel()).Err()
}

// lease is a held key: always its in-process lock, and its Redis lease
// when token is set.
type lease struct {
	c               *Coordinator
	local           zendesk.KeyLock
	lockKey, recKey string
	token           string
	// pending is the token to take the lease with when the lock is the
	// in-process one alone (Redis did not answer at LockKey): Record tries
	// once more before the send.
	pending string
	// stop ends the renewal.
	stop chan struct{}
	// lost is set once Redis said the lease belongs to another token.
	lost atomic.Bool

	mu       sync.Mutex
	unlocked bool
	// confirmedAt is when the latest round trip that took or renewed the
	// lease was sent: the lease lives at least its TTL from then.
	confirmedAt time.Time
}

// newLeaseToken returns a random token naming one holder of a lease.
func newLeaseToken() string {
	var tok [16]byte
	_, _ = crand.Read(tok[:])
	return hex.EncodeToString(tok[:])
}

// confirmed notes that a round trip sent at sent took or renewed the
// lease.
func (l *lease) confirmed(sent time.Time) {
	l.mu.Lock()
	if sent.After(l.confirmedAt) {
		l.confirmedAt = sent
	}
	l.mu.Unlock()
}

// sinceConfirmed is how long ago the lease was last known to be held.
func (l *lease) sinceConfirmed() time.Duration {
	l.mu.Lock()
	at := l.confirmedAt
	l.mu.Unlock()
	return l.c.now().Sub(at)
}

// lockLostError is a lease found held by another token.
type lockLostError struct{ key, reason string }

func (e *lockLostError) Error() string {
	reason := e.reason
	if reason == "" {
		reason = "it expired and was taken by another holder"
	}
	return "zendeskredis: the lease on " + e.key + " is not held (" + reason + ")"
}

func (e *lockLostError) Unwrap() error { return zendesk.ErrLockLost }

// renew extends the lease every third of its TTL until Unlock, or until
// Redis says the lease is gone. A renewal that fails because Redis does
// not answer is tried again at the next tick.
func (l *lease) renew(ctx context.Context) {
	c := l.c
	t := time.NewTicker(c.cfg.leaseTTL / 3)
	defer t.Stop()
	ttl := c.cfg.leaseTTL.Milliseconds()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		tk, ok := c.use()
		if !ok {
			continue
		}
		sent := c.now()
		var v int64
		err := c.call(ctx, tk, func(rctx context.Context) error {
			r, err := renewScript.Run(rctx, c.rdb, []string{l.lockKey}, l.token, ttl).Int64()
			v = r
			return err
		})
		switch {
		case err == nil && v == 0:
			l.lost.Store(true)
			return
		case err == nil:
			l.confirmed(sent)
		}
	}
}

// Record implements zendesk.KeyLock: the record is written only if the
// lease still holds, in one script. When Redis does not answer, it is
// written in process, under the in-process lock that is still held,
// provided the lease was confirmed recently enough to be held still (see
// fallBack).
func (l *lease) Record(ctx context.Context, rec zendesk.KeyRecord) error {
	l.mu.Lock()
	unlocked := l.unlocked
	l.mu.Unlock()
	if unlocked {
		return l.local.Record(ctx, rec)
	}
	if l.token == "" {
		if rec.State != zendesk.KeySending || l.pending == "" {
			return l.local.Record(ctx, rec)
		}
		if err := l.upgrade(ctx); err != nil {
			return err
		}
		if l.token == "" {
			return l.local.Record(ctx, rec)
		}
	}
	if l.lost.Load() {
		return &lockLostError{key: l.lockKey}
	}
	c := l.c
	tk, ok := c.use()
	if !ok {
		return l.fallBack(ctx, rec)
	}
	payload, err := encodeRecord(rec)
	if err != nil {
		return err
	}
	var v int64
	err = c.call(ctx, tk, func(rctx context.Context) error {
		r, err := recordScript.Run(rctx, c.rdb, []string{l.lockKey, l.recKey}, l.token, payload, rec.TTL.Milliseconds()).Int64()
		v = r
		return err
	})
	switch {
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return l.fallBack(ctx, rec)
	case v == 0:
		l.lost.Store(true)
		return &lockLostError{key: l.lockKey}
	}
	// The in-process copy serves if Redis becomes unreachable later, or
	// loses its data.
	_ = l.local.Record(ctx, rec)
	return nil
}

// fallBack records rec in process because Redis did not answer, or was
// not asked during an outage. That is sound only while the lease is still
// this holder's: once Redis has not confirmed it for its TTL, another
// replica that reaches Redis may have taken it and be sending. So the
// record is refused, with an error matching zendesk.ErrLockLost (nothing
// is sent), once the lease was last confirmed its TTL less one timeout
// ago. That time counts from when the round trip that took or renewed the
// lease was sent, before Redis ran it, so the lease lives at least that
// long; the timeout kept in hand covers the time between this check and
// the send.
func (l *lease) fallBack(ctx context.Context, rec zendesk.KeyRecord) error {
	c := l.c
	if since := l.sinceConfirmed(); since >= c.cfg.leaseTTL-c.cfg.timeout {
		return &lockLostError{key: l.lockKey, reason: "Redis has not confirmed it for " + since.Round(time.Millisecond).String() +
			" and it lives " + c.cfg.leaseTTL.String() + ": another holder may have taken it"}
	}
	return l.local.Record(ctx, rec)
}

// encodeRecord returns rec as stored in Redis, or "" for a record that
// deletes the key's record.
func encodeRecord(rec zendesk.KeyRecord) (string, error) {
	if rec.State == "" || rec.TTL.Milliseconds() <= 0 {
		return "", nil
	}
	b, err := json.Marshal(storedRecord{State: rec.State, Fingerprint: rec.Fingerprint, At: rec.At,
		ConversationID: rec.ConversationID, EventID: rec.EventID, TTL: rec.TTL})
	return string(b), err
}

// restore writes back into Redis, under the lease just taken, a record
// this replica keeps and Redis lost, for what is left of its TTL. A
// failure is ignored: the caller has the record either way, and the next
// holder on this replica tries again.
func (l *lease) restore(ctx context.Context, rec zendesk.KeyRecord) {
	c := l.c
	tk, ok := c.use()
	if !ok {
		return
	}
	payload, err := encodeRecord(rec)
	if err != nil || payload == "" {
		return
	}
	ttl := rec.TTL
	if elapsed := c.now().Sub(rec.At); elapsed > 0 && elapsed < ttl {
		ttl -= elapsed
	}
	ttl = max(ttl, time.Millisecond)
	_ = c.call(context.WithoutCancel(ctx), tk, func(rctx context.Context) error {
		return recordScript.Run(rctx, c.rdb, []string{l.lockKey, l.recKey}, l.token, payload, ttl.Milliseconds()).Err()
	})
}

// upgrade tries, right before a send under an in-process lock, to take the
// lease after all: Redis may have been slow only for a moment. The try is
// made whatever the health state says (it is not the probe of an outage,
// nor held back by one): it is this call's last chance to be checked
// against the fleet, and it costs at most one timeout. Taken, with no
// record stored meanwhile, the lock becomes a lease like any other. Held
// by another replica, or with a record the call decided without, the send
// must not go: ErrLockLost. Redis still not answering, the lock stays in
// process.
func (l *lease) upgrade(ctx context.Context) error {
	c := l.c
	earlier := l.pending
	l.pending = ""
	// A new token: the earlier try, should Redis run it late, releases
	// only its own.
	token := newLeaseToken()
	sent := c.now()
	got, raw, _, err := c.tryAcquire(ctx, c.force(), l.lockKey, l.recKey, token, earlier)
	switch {
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return nil
	case !got:
		return &lockLostError{key: l.lockKey, reason: "another replica holds it"}
	}
	if raw != "" {
		c.background(func() { c.releaseAbandoned(l.lockKey, token) })
		return &lockLostError{key: l.lockKey, reason: "another replica recorded a send while Redis did not answer this one"}
	}
	l.token = token
	l.confirmed(sent)
	l.stop = make(chan struct{})
	go l.renew(context.WithoutCancel(ctx))
	return nil
}

// Unlock implements zendesk.KeyLock: it stops the renewal, frees the
// lease if it still holds (bounded by the timeout), then the in-process
// lock.
func (l *lease) Unlock() {
	l.mu.Lock()
	if l.unlocked {
		l.mu.Unlock()
		return
	}
	l.unlocked = true
	l.mu.Unlock()
	if l.token != "" {
		if l.stop != nil {
			close(l.stop)
		}
		if !l.lost.Load() {
			c := l.c
			if tk, ok := c.use(); ok {
				_ = c.call(context.Background(), tk, func(rctx context.Context) error {
					return releaseScript.Run(rctx, c.rdb, []string{l.lockKey}, l.token, c.releaseChannel()).Err()
				})
			}
		}
	}
	l.local.Unlock()
}
