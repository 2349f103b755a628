// Package zendeskredis shares what the replicas of a service must agree on
// when they call one Zendesk account: its rate budgets, the pauses Zendesk
// announces, and the idempotency keys of Create and Reply. It implements
// zendesk.Coordinator on Redis (github.com/redis/go-redis/v9), a Redis or
// Redis Cluster that operators already run; no coordination service of its
// own.
//
// # Setup
//
// Every replica builds its client the same way:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379"})
//	coord := zendeskredis.New(rdb, zendeskredis.WithLimits(zendesk.RateLimits{PerMinute: 700, CreateReply: 300}))
//	client, err := zendesk.NewClient("acme", creds, zendesk.WithCoordinator(coord))
//
// The module requires github.com/sideconv/zendesk v0.2.0 or later, the
// first release with zendesk.Coordinator.
//
// WithLimits is optional: without it the fleet paces itself by what
// Zendesk's answers report (below). One Coordinator serves every client of
// a replica, for any number of accounts; Close it on shutdown to end the
// Pub/Sub subscription it opens for lease waits. Redis 5 or later is
// required (the scripts read the server's clock before writing). The keys
// are laid out for Redis Cluster (below), but the tests run on a single
// Redis 7 server only.
//
// # Budgets
//
// Every attempt of a request is admitted by one Lua script (one round
// trip), which reads and updates, for each budget the request draws on
// (BudgetPlan; Create and Reply also BudgetCreateReply):
//
//   - The budget's pause: "closed until", set by any replica that met a 429
//     or a 503 with Retry-After. Every replica's attempts wait for its end,
//     not only the refused one's. A pause longer than Attempt.MaxWait
//     (RetryPolicy.MaxRetryAfter) admits at once: Zendesk then answers 429
//     with Retry-After and the caller learns when to come back.
//   - What Zendesk reported of the budget: the lowest ratelimit-remaining
//     of its current window, and its ratelimit-reset. The attempts in flight
//     in the whole fleet are counted against it; when they would use it up,
//     attempts wait until the reset (a used-up budget, ratelimit-remaining:
//     0, is the same pause). The MaxWait rule applies as above.
//   - A GCRA limiter (generic cell rate algorithm: one timestamp per
//     budget, the theoretical arrival time of the next attempt). The script
//     reserves the attempt's slot and returns the wait before it, which the
//     client sleeps; the slot is reserved from the end of any pause, so that
//     a pause does not end in a burst. An attempt that draws on two budgets
//     is sent when both have a slot for it, and each budget's next slot
//     counts from that moment, so that Create and Reply held back by a busy
//     plan budget do not go out in a burst afterwards. Its rate is the
//     stricter of two: with WithLimits, L requests per window W pace as a
//     burst of B = max(1, L/100) followed by one request every W/(L−B), so
//     that no stretch of W, wherever it starts, admits more than L; and what
//     remains of the reported budget, spread evenly over what remains of
//     its window (a tenth of it may go at once). The second needs no
//     configuration and spends the budget to the end of each window instead
//     of running into it; the first holds before Zendesk has said anything,
//     and below a limit the service wants to keep to. Configured pacing is
//     not bounded by MaxWait.
//
// The budget is a Lua script of this package rather than
// github.com/go-redis/redis_rate: the Coordinator contract reserves a slot
// and returns its wait, where redis_rate answers allowed or not (a refused
// caller would poll, and lose its place in line), and one script per
// attempt reads the pauses, the reported budget and the fleet's attempts in
// flight as well.
//
// An attempt counts as in flight from Admit until Done reports its answer
// (one more script, which also publishes the answer's Retry-After and
// rate-limit headers). The attempts of a replica that crashed stop counting
// after their wait plus WithInFlightTTL (default 2 minutes). An Admit that
// timed out leaves none: should Redis run its script after all, the entry
// is removed when that late answer arrives. Times are those of the Redis
// server's clock, so the replicas' clocks need not agree.
//
// The rate-limit headers count whole seconds, so windows of a few seconds
// (as in scaled-down tests) are tracked only to within a second.
//
// # Idempotency keys: leases and records
//
// LockKey takes the key's lock in process first, so that the calls of one
// replica queue there, then a lease in Redis: SET NX PX with a random
// token. While another replica holds it, the caller waits for the message
// its release publishes on the channel "{namespace}:released" (one
// subscription per Coordinator, made on the first wait; Close ends it),
// and tries again at the latest after a second or when the lease expires,
// since Pub/Sub may lose a message. The holder renews the lease every
// third of its TTL (WithLeaseTTL, default 10s, at least three times
// WithTimeout, since each renewal may take that long) until Unlock, so a
// lease outlives a holder that crashed by at most its TTL. LockKey returns
// the key's record, which KeyLock.Record stores as JSON under a key of its
// own with the record's TTL, in a script that first checks that the lease
// still carries the holder's token; when it does not, Record writes
// nothing and returns an error matching zendesk.ErrLockLost.
//
// This is a re-check before sending, not fencing: Zendesk cannot reject a
// request by its token, but the client records its intent (KeySending)
// under the lease right before it sends, and that write is the check. A
// holder that stalled past its lease finds it lost before anything goes
// out, and once the intent is recorded, a caller that takes the lease
// afterwards finds the record and does not send (zendesk.ErrMaybeSent)
// until the message is found or the settle time has passed. So, while
// Redis answers, the lease TTL must only exceed the renewal interval (a
// third of it) plus a Redis round trip under load, the longest stall of a
// live holder it should survive; the promise does not depend on it. When
// Redis stops answering, the TTL also bounds how long a holder may go on
// with records kept in process (below). A shorter TTL frees a crashed
// holder's keys sooner; a longer one survives longer stalls.
//
// # When Redis is down
//
// Every round trip is bounded by WithTimeout (default DefaultTimeout, 250ms),
// whatever the Redis client's own timeouts: when Redis does not answer in
// time, or answers an error, the call goes on with the in-process
// coordinator (zendesk.NewLocalCoordinator, with the same limits) and never
// waits longer for Redis. The first failure is logged at Warn (WithLogger)
// once per outage; the other calls use the fallback without trying Redis,
// and one call at most every WithProbeInterval (default 1s) tries it again.
// When it answers, coordination through Redis resumes, logged once at
// Info. A round trip given up on that Redis answers later does not bring
// the next probe forward, unless it was answered within half the timeout:
// a Redis slower than the timeout is tried once per probe interval, not
// by every call.
//
// During an outage each replica is on its own, exactly as without this
// package: it paces itself alone and learns of a 429 only when it meets
// one; its locks are in-process locks, so calls with one key on one replica
// still run one after the other and find each other's message, but two
// replicas may both send a message for one key, as two processes without
// a shared coordinator may (see docs/IDEMPOTENCY.md). A lock taken through
// Redis whose record cannot be written because Redis stopped answering
// falls back the same way (the record is kept in process and the call
// goes on), but only while the lease must still be this holder's: until
// its TTL, less one timeout, has passed since Redis last confirmed it
// (the round trip that took or renewed it was sent). After that another
// replica may have taken the lease and be sending, so Record fails with
// an error matching zendesk.ErrLockLost and nothing is sent.
//
// An in-process lock taken because Redis did not answer gets one more
// chance right before the send, when the client records its intent. That
// round trip is made whatever the probe schedule says (also while another
// call probes, or before the next probe is due), and waits at most the
// timeout: during an outage, a keyed Create or Reply takes up to one
// timeout longer. If Redis answers then (it was slow for a moment, or came
// back), the intent takes the key's lease and is stored in Redis, and the
// call goes on coordinated; if another replica holds the lease, or
// recorded a send for the key meanwhile, the intent fails with
// zendesk.ErrLockLost and nothing is sent (the call returns an error; a
// retry finds the other replica's message). Only while Redis does not
// answer at that moment either is the send unchecked against the fleet.
//
// # When Redis loses its data
//
// Pauses and budgets need no persistence: they are learned again from the
// next answers. The records of idempotency keys are another matter. A
// record of a message that was made costs only a lookup when lost (the
// message is found by its key); a record of a send that may still land
// (zendesk.KeySending, zendesk.KeyUnresolved) is what keeps the next call
// from sending again. A Redis that loses its data (a restart without
// persistence, a failover to a replica that had not received the last
// writes: Redis replicates asynchronously) forgets those records. The
// replica that recorded such a send keeps a copy in process for the
// record's TTL: when it next takes the key's lease and Redis has no
// record, its copy stands, and is written back into Redis for the others.
// The other replicas have no copy: a call with the key that one of them
// handles before the copy is written back, and before Zendesk has made the
// message (a late commit), looks in Zendesk, finds nothing and sends. That
// is two messages for one key. So it is for any replica once the one that
// recorded the send has restarted too. If that matters, run Redis with
// persistence (appendonly yes; appendfsync everysec, the default, may
// lose the last second of writes in a crash, appendfsync always is the
// safest).
//
// # Keys
//
// Keys are "{namespace}:{{account}}:{kind}:{name}", for instance
// sideconv:{acme.zendesk.com}:pause:create_reply. The account, the API's
// host, is a hash tag: one account's keys live in one Redis Cluster slot,
// so that a script may touch several, and one Redis serves many accounts.
// WithNamespace (default DefaultNamespace) keeps fleets apart. Every key
// expires: pauses when they end, reported budgets at their reset, GCRA
// timestamps when they are due, in-flight sets with their last attempt,
// leases with their TTL, records with theirs.
//
//	pause:{budget}      closed until (µs of the Redis clock)
//	reported:{budget}   hash rem, reset: the budget as Zendesk reported it
//	gcra:{budget}       the theoretical arrival time of the next attempt
//	inflight:{budget}   sorted set of admitted attempts, scored by expiry
//	lock:{key}          a key's lease: the holder's random token
//	record:{key}        a key's record, JSON
//
// # Cost
//
// An attempt costs two round trips to Redis (Admit and Done), each one
// script; a keyed Create or Reply adds one to take the lease (one more per
// release it waits for, and one to put back a record Redis lost), one per
// record written, one to release it, and one renewal per third of the
// lease TTL. docs/PERFORMANCE.md gives the figures.
package zendeskredis
