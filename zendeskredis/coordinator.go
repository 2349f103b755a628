package zendeskredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sideconv/zendesk"
)

// Defaults of the options.
const (
	// DefaultNamespace prefixes every key the coordinator writes.
	DefaultNamespace = "sideconv"
	// DefaultTimeout bounds each round trip to Redis. A round trip takes
	// well under a millisecond, but a replica's own bursts queue them: 16
	// replicas sending 1,600 keyed Creates at once on a 2-core machine saw
	// 99.9% of round trips answered within 140ms. A round trip that times
	// out makes the replica fall back to in-process coordination, and a
	// keyed call then goes without the fleet's lock, so the timeout stays
	// well above such bursts; a real outage costs the calls in flight when
	// it starts, one call per probe interval, and each keyed Create or
	// Reply whose lock was taken in process (its intent asks Redis once
	// more), at most this long each, which is shorter than a Zendesk call.
	DefaultTimeout = 250 * time.Millisecond
	// DefaultProbeInterval is how often, during an outage, one call tries
	// Redis again.
	DefaultProbeInterval = time.Second
	// DefaultLeaseTTL is how long a key's lease outlives a holder that
	// stopped renewing it (one that crashed, or lost Redis).
	DefaultLeaseTTL = 10 * time.Second
	// DefaultInFlightTTL is how long an admitted attempt counts as in
	// flight, beyond its wait, when its replica never reports it done.
	DefaultInFlightTTL = 2 * time.Minute
)

// Coordinator implements zendesk.Coordinator on Redis; see the package
// documentation. Make one with New and pass it to zendesk.WithCoordinator
// of every client of the replica. It is safe for concurrent use.
type Coordinator struct {
	rdb   redis.UniversalClient
	cfg   config
	local zendesk.Coordinator

	// id names this coordinator in the in-flight sets; seq numbers its
	// attempts.
	id  string
	seq atomic.Uint64

	health health

	// keysMu guards keys, the Redis keys of each account, built once.
	keysMu sync.RWMutex
	keys   map[string]*accountKeys

	// outMu guards outstanding: per account and budget, the in-flight
	// entries this coordinator added to Redis and has not removed yet.
	// Done removes the oldest one: entries are interchangeable, since
	// only their number counts.
	outMu       sync.Mutex
	outstanding map[outstandingKey][]string

	// releases wakes the callers waiting for a lease held elsewhere.
	releases releases

	// pending counts the goroutines of round trips, including those that
	// finish in the background after their caller gave up on them.
	pending sync.WaitGroup

	// timer makes the timer that bounds a Redis round trip; tests
	// replace it.
	timer func(d time.Duration) (<-chan time.Time, func() bool)
	// now is the clock of the health checks, of the round trips' latency
	// and of the leases' confirmations; tests replace it.
	now func() time.Time
	// beforeWait, when set, is called when LockKey starts waiting for a
	// lease held elsewhere; tests set it.
	beforeWait func()
}

type outstandingKey struct {
	account string
	budget  zendesk.Budget
}

// config collects what the options set.
type config struct {
	namespace   string
	timeout     time.Duration
	probe       time.Duration
	leaseTTL    time.Duration
	inFlightTTL time.Duration
	limits      zendesk.RateLimits
	logger      *slog.Logger
}

// Option configures a Coordinator in New. An option given a value it
// cannot use keeps its default, as its documentation says.
type Option func(*config)

// WithLimits paces the fleet below the account's limits, as
// zendesk.WithRateLimit paces one client: each budget is a GCRA limiter in
// Redis, shared by every replica (see "Budgets" in the package
// documentation). Without it the coordinator paces by what Zendesk's
// answers report. Negative fields count as zero (unpaced), a
// CreateReplyWindow that is not positive as Zendesk's 10 minutes. The same
// limits configure the in-process fallback.
func WithLimits(l zendesk.RateLimits) Option {
	return func(c *config) {
		l.PerMinute = max(l.PerMinute, 0)
		l.CreateReply = max(l.CreateReply, 0)
		if l.CreateReplyWindow <= 0 {
			l.CreateReplyWindow = 10 * time.Minute
		}
		c.limits = l
	}
}

// WithNamespace sets the prefix of every key (default DefaultNamespace),
// so that several fleets, or tests, can share one Redis without seeing
// each other's state. An empty prefix keeps the default.
func WithNamespace(prefix string) Option {
	return func(c *config) {
		if prefix != "" {
			c.namespace = prefix
		}
	}
}

// WithTimeout bounds every round trip to Redis (default DefaultTimeout):
// when Redis has not answered by then, the call goes on with the
// in-process fallback. A value that is not positive keeps the default.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithProbeInterval sets how often, while Redis is unreachable, one call
// tries it again (default DefaultProbeInterval); the other calls use the
// fallback without waiting for Redis. A value that is not positive keeps
// the default.
func WithProbeInterval(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.probe = d
		}
	}
}

// WithLeaseTTL sets the time to live of an idempotency key's lease
// (default DefaultLeaseTTL). The holder renews it every third of that time,
// so it outlives a holder that crashed by at most the TTL. Each renewal may
// take up to the timeout (WithTimeout), so New raises a TTL under three
// timeouts to three timeouts (and one under 30ms to 30ms). A value that
// is not positive keeps the default.
func WithLeaseTTL(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.leaseTTL = d
		}
	}
}

// WithInFlightTTL sets how long an admitted attempt counts as in flight,
// beyond its wait, when no Done removes it (default DefaultInFlightTTL):
// the attempts of a replica that crashed stop holding back the others
// after that. It should exceed the longest attempt (the HTTP client's
// timeout). A value that is not positive keeps the default.
func WithInFlightTTL(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.inFlightTTL = d
		}
	}
}

// WithLogger sets where the coordinator reports that Redis became
// unreachable (Warn, once per outage) and that coordination resumed
// (Info). Nil, the default, logs nothing. Log lines carry Redis's error
// text, never a key's record or a credential.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// New returns a coordinator that shares rate budgets, Zendesk's pauses and
// idempotency-key leases through rdb between every replica that uses the
// same Redis (or Redis Cluster) and namespace. It makes no round trip: an
// unreachable Redis is found on first use, and the calls then go on in
// process.
func New(rdb redis.UniversalClient, opts ...Option) *Coordinator {
	cfg := config{
		namespace:   DefaultNamespace,
		timeout:     DefaultTimeout,
		probe:       DefaultProbeInterval,
		leaseTTL:    DefaultLeaseTTL,
		inFlightTTL: DefaultInFlightTTL,
		limits:      zendesk.RateLimits{CreateReplyWindow: 10 * time.Minute},
	}
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	cfg.leaseTTL = max(cfg.leaseTTL, 3*cfg.timeout, 30*time.Millisecond)
	local, err := zendesk.NewLocalCoordinator(cfg.limits)
	if err != nil {
		// WithLimits leaves no invalid field; keep going unpaced rather
		// than fail a constructor that cannot return an error.
		local, _ = zendesk.NewLocalCoordinator(zendesk.RateLimits{})
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	c := &Coordinator{
		rdb:         rdb,
		cfg:         cfg,
		local:       local,
		id:          hex.EncodeToString(id[:]),
		keys:        make(map[string]*accountKeys, 1),
		releases:    releases{waiting: make(map[string]map[chan struct{}]struct{})},
		outstanding: make(map[outstandingKey][]string, 2),
		timer:       realTimer,
		now:         time.Now,
	}
	return c
}

func realTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}

// errTimeout is a round trip to Redis that outlasted the timeout.
var errTimeout = errors.New("zendeskredis: Redis did not answer within the timeout")

// call runs one round trip to Redis, bounded by the configured timeout
// whatever the Redis client's own timeouts are: fn runs on its own
// goroutine, which finishes in the background when it is given up on.
// It reports the outcome to the health state under t. A caller's ctx that
// ends first returns ctx.Err() and says nothing of Redis.
func (c *Coordinator) call(ctx context.Context, t ticket, fn func(context.Context) error) error {
	rctx, cancel := context.WithTimeout(ctx, c.cfg.timeout)
	done := make(chan error, 1)
	sent := c.now()
	c.background(func() {
		err := fn(rctx)
		done <- err
		cancel()
		if err == nil {
			c.answered(c.now().Sub(sent))
		}
	})
	expired, stop := c.timer(c.cfg.timeout)
	defer stop()
	var err error
	select {
	case err = <-done:
	case <-expired:
		err = errTimeout
	case <-ctx.Done():
		c.inconclusive(t)
		return ctx.Err()
	}
	if err != nil && ctx.Err() != nil {
		c.inconclusive(t)
		return ctx.Err()
	}
	if err != nil {
		c.failed(t, err)
		return err
	}
	c.succeeded(t)
	return nil
}

// background runs fn on a goroutine of its own, which tests can wait for.
func (c *Coordinator) background(fn func()) {
	c.pending.Add(1)
	go func() {
		defer c.pending.Done()
		fn()
	}()
}

// health tracks whether Redis answers. While it does not, calls use the
// in-process fallback, and one call at most every probe interval tries
// Redis again.
type health struct {
	mu        sync.Mutex
	down      bool
	probing   bool
	nextProbe time.Time
	// epoch counts the changes between up and down, so that a round trip
	// begun before a change cannot undo it when it ends late.
	epoch uint64
}

// ticket is what a round trip reports its outcome under: the epoch it
// began in, and whether it is the probe of an outage.
type ticket struct {
	epoch uint64
	probe bool
}

// use reports whether a call should go to Redis, and the ticket of its
// round trip.
func (c *Coordinator) use() (ticket, bool) {
	h := &c.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.down {
		return ticket{epoch: h.epoch}, true
	}
	if h.probing || c.now().Before(h.nextProbe) {
		return ticket{epoch: h.epoch}, false
	}
	h.probing = true
	return ticket{epoch: h.epoch, probe: true}, true
}

// force returns the ticket of a round trip that must be tried whatever the
// health state says: during an outage it is neither the probe nor held
// back by it, and its failure changes nothing; an answer ends the outage.
func (c *Coordinator) force() ticket {
	h := &c.health
	h.mu.Lock()
	defer h.mu.Unlock()
	return ticket{epoch: h.epoch}
}

// failed marks Redis down after a failed round trip, logging the start of
// an outage once.
func (c *Coordinator) failed(t ticket, err error) {
	h := &c.health
	h.mu.Lock()
	if h.epoch != t.epoch {
		h.mu.Unlock()
		return
	}
	wasDown := h.down
	if t.probe {
		h.probing = false
		h.nextProbe = c.now().Add(c.cfg.probe)
	}
	if !wasDown {
		h.down = true
		h.epoch++
		h.nextProbe = c.now().Add(c.cfg.probe)
	}
	h.mu.Unlock()
	if !wasDown && c.cfg.logger != nil {
		c.cfg.logger.Warn("zendeskredis: Redis is unreachable; coordinating in process until it answers again",
			slog.String("error", err.Error()), slog.Duration("timeout", c.cfg.timeout), slog.Duration("probe_interval", c.cfg.probe))
	}
}

// inconclusive ends a probe that its caller gave up on before Redis
// answered or failed: another call may probe.
func (c *Coordinator) inconclusive(t ticket) {
	h := &c.health
	h.mu.Lock()
	if t.probe && h.down && h.epoch == t.epoch {
		h.probing = false
	}
	h.mu.Unlock()
}

// answered notes that Redis answered a round trip after latency, perhaps
// one given up on. A Redis marked down that answered well within the
// timeout (a round trip begun before the outage was noticed, or one whose
// caller went away) is healthy again: the next call probes it at once.
// A late answer, one that took half the timeout or longer, says only that
// Redis is slow: the probe interval stands, so that a Redis slower than
// the timeout is not probed at every call.
func (c *Coordinator) answered(latency time.Duration) {
	if latency >= c.cfg.timeout/2 {
		return
	}
	h := &c.health
	h.mu.Lock()
	if h.down {
		h.nextProbe = time.Time{}
	}
	h.mu.Unlock()
}

// succeeded marks Redis up after a round trip answered, logging the end of
// an outage once.
func (c *Coordinator) succeeded(t ticket) {
	h := &c.health
	h.mu.Lock()
	if !h.down || h.epoch != t.epoch {
		h.mu.Unlock()
		return
	}
	h.down, h.probing = false, false
	h.epoch++
	h.mu.Unlock()
	if c.cfg.logger != nil {
		c.cfg.logger.Info("zendeskredis: Redis answers again; coordination through Redis resumed")
	}
}

// accountKeys are the Redis keys of one account. Every key carries the
// account in a hash tag, so that one account's keys live in one Redis
// Cluster slot and a script may touch several of them.
type accountKeys struct {
	prefix string // "{ns}:{account}:"
	// admit and done list the keys of the budget scripts by the budget
	// of the attempt.
	admit map[zendesk.Budget][]string
	done  map[zendesk.Budget][]string
}

// budgetsOf returns the budgets an attempt of budget b draws on.
func budgetsOf(b zendesk.Budget) []zendesk.Budget {
	if b == zendesk.BudgetCreateReply {
		return []zendesk.Budget{zendesk.BudgetPlan, zendesk.BudgetCreateReply}
	}
	return []zendesk.Budget{zendesk.BudgetPlan}
}

func (c *Coordinator) keysOf(account string) *accountKeys {
	c.keysMu.RLock()
	k := c.keys[account]
	c.keysMu.RUnlock()
	if k != nil {
		return k
	}
	c.keysMu.Lock()
	defer c.keysMu.Unlock()
	if k = c.keys[account]; k != nil {
		return k
	}
	// A brace in the account would break the hash tag: Redis would take
	// the tag to end at it.
	tag := strings.NewReplacer("{", "(", "}", ")").Replace(account)
	k = &accountKeys{
		prefix: c.cfg.namespace + ":{" + tag + "}:",
		admit:  make(map[zendesk.Budget][]string, 2),
		done:   make(map[zendesk.Budget][]string, 2),
	}
	for _, b := range []zendesk.Budget{zendesk.BudgetPlan, zendesk.BudgetCreateReply} {
		var admit, done []string
		for _, d := range budgetsOf(b) {
			admit = append(admit, k.prefix+"pause:"+string(d), k.prefix+"reported:"+string(d),
				k.prefix+"gcra:"+string(d), k.prefix+"inflight:"+string(d))
		}
		done = append(done, k.prefix+"pause:"+string(b), k.prefix+"reported:"+string(b))
		for _, d := range budgetsOf(b) {
			done = append(done, k.prefix+"inflight:"+string(d))
		}
		k.admit[b], k.done[b] = admit, done
	}
	c.keys[account] = k
	return k
}

// newToken names one admitted attempt in the in-flight sets.
func (c *Coordinator) newToken() string {
	var b [40]byte
	buf := append(b[:0], c.id...)
	buf = append(buf, ':')
	return string(strconv.AppendUint(buf, c.seq.Add(1), 10))
}
