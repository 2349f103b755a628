package zendeskredis_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendeskredis"
	"github.com/sideconv/zendesk/zendesktest"
)

// redisServer is a redis-server process of the test's own, which the test
// can stop, freeze and start again on the same port.
type redisServer struct {
	t    *testing.T
	bin  string
	port int
	dir  string
	cmd  *exec.Cmd
}

// startRedisServer starts redis-server on a free loopback port with its
// data in a temporary folder, or skips the test when there is none.
func startRedisServer(t *testing.T) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed: this test stops and restarts a Redis server of its own. " +
			"Install it (Debian: apt-get install -y redis-server) and run the tests again.")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	s := &redisServer{t: t, bin: bin, port: port, dir: t.TempDir()}
	s.start()
	t.Cleanup(s.kill)
	return s
}

func (s *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *redisServer) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", "")
	require.NoError(s.t, s.cmd.Start())
	probe := redis.NewClient(&redis.Options{Addr: s.addr(), MaxRetries: -1})
	defer func() { _ = probe.Close() }()
	eventually(s.t, "redis-server answers on "+s.addr(), func() bool {
		return probe.Ping(context.Background()).Err() == nil
	})
}

// kill stops the server for good (its state is lost: it keeps no data).
func (s *redisServer) kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT)
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// freeze stops the process without closing its port: connections are
// accepted and never answered, as from a Redis that hangs.
func (s *redisServer) freeze() { require.NoError(s.t, s.cmd.Process.Signal(syscall.SIGSTOP)) }
func (s *redisServer) thaw()   { require.NoError(s.t, s.cmd.Process.Signal(syscall.SIGCONT)) }

// pauseIsShared reports whether a pause published through from is seen by
// to, on an account of its own.
func pauseIsShared(t *testing.T, from, to *zendeskredis.Coordinator, n int) bool {
	t.Helper()
	ctx := context.Background()
	at := zendesk.Attempt{Account: fmt.Sprintf("check-%d.zendesk.com", n), Budget: zendesk.BudgetPlan, MaxWait: 2 * time.Hour}
	from.Done(ctx, at, zendesk.Answer{Status: 429, Rate: noRate, RetryAfter: time.Hour})
	wait, err := to.Admit(ctx, at)
	require.NoError(t, err)
	to.Done(ctx, at, zendesk.Answer{Rate: noRate})
	return wait > time.Hour-slack
}

func TestRedisOutageFallsBackAndRecovers(t *testing.T) {
	t.Parallel()
	server := startRedisServer(t)
	srv := zendesktest.Start(t)
	ns := namespace(t)
	logs := &logRecorder{}
	newReplica := func(logger *slog.Logger) (*zendesk.Client, *zendeskredis.Coordinator) {
		rdb := redis.NewClient(&redis.Options{Addr: server.addr()})
		t.Cleanup(func() { _ = rdb.Close() })
		// A timeout far above a healthy round trip, so that only the
		// outage counts as one, even on a loaded machine.
		coord := zendeskredis.New(rdb, zendeskredis.WithNamespace(ns), zendeskredis.WithLogger(logger),
			zendeskredis.WithTimeout(time.Second), zendeskredis.WithProbeInterval(5*time.Millisecond))
		return srv.Client(zendesk.WithCoordinator(coord)), coord
	}
	a, coordA := newReplica(slog.New(logs))
	_, coordB := newReplica(nil)
	ctx := context.Background()
	checks := 0
	check := func() bool { checks++; return pauseIsShared(t, coordA, coordB, checks) }
	require.True(t, check(), "coordination works before the outage")

	// Redis goes away mid-run: calls go on through the in-process fallback.
	work := func(round string) {
		var wg sync.WaitGroup
		var failures atomic.Int32
		for i := range 12 {
			wg.Go(func() {
				key := ""
				if i%2 == 0 {
					key = round + "-" + strconv.Itoa(i/4) // three keys, two calls each
				}
				res, _, err := a.SideConversations.Create(ctx, zendesktest.DefaultTicketID, createRequest(key))
				if err != nil {
					t.Errorf("%s: %v", round, err)
					failures.Add(1)
					return
				}
				if _, _, err := a.SideConversations.Show(ctx, zendesktest.DefaultTicketID, res.SideConversation.ID, nil); err != nil {
					t.Errorf("%s: %v", round, err)
				}
			})
		}
		wg.Wait()
	}
	work("before")
	server.kill()
	work("during")
	assert.Equal(t, []string{"zendeskredis: Redis is unreachable; coordinating in process until it answers again"},
		logs.at(slog.LevelWarn), "one warning for the outage, however many calls met it")
	assert.False(t, check(), "during the outage each replica is on its own")

	// Redis comes back (empty: it keeps no data): coordination resumes.
	server.start()
	eventually(t, "coordination resumes", check)
	work("after")
	assert.Len(t, logs.at(slog.LevelWarn), 1, "still one warning")
	assert.Equal(t, []string{"zendeskredis: Redis answers again; coordination through Redis resumed"}, logs.at(slog.LevelInfo))

	// In-process guarantees held throughout: one conversation per key.
	perKey := map[string]int{}
	for _, sc := range srv.SideConversations(zendesktest.DefaultTicketID) {
		if k := sc.ExternalIDs["sideconv_idempotency_key"]; k != "" {
			perKey[k]++
		}
	}
	assert.Len(t, perKey, 9)
	for k, n := range perKey {
		assert.Equal(t, 1, n, "key %s", k)
	}
}

func TestAHangingRedisHoldsACallNoLongerThanTheTimeout(t *testing.T) {
	t.Parallel()
	server := startRedisServer(t)
	srv := zendesktest.Start(t)
	logs := &logRecorder{}
	// The Redis client would wait forever: only the coordinator's timeout
	// can end a round trip.
	rdb := redis.NewClient(&redis.Options{Addr: server.addr(), ReadTimeout: -1, WriteTimeout: -1, DialTimeout: time.Hour})
	t.Cleanup(func() { _ = rdb.Close() })
	coord := zendeskredis.New(rdb, zendeskredis.WithNamespace(namespace(t)), zendeskredis.WithLogger(slog.New(logs)),
		zendeskredis.WithTimeout(time.Hour), zendeskredis.WithProbeInterval(time.Hour))
	// The timeout fires when the test says so.
	started := make(chan struct{}, 100)
	expire := make(chan time.Time)
	zendeskredis.SetTimer(coord, func(time.Duration) (<-chan time.Time, func() bool) {
		started <- struct{}{}
		return expire, func() bool { return true }
	})
	client := srv.Client(zendesk.WithCoordinator(coord))
	ctx := context.Background()
	require.NoError(t, rdb.Ping(ctx).Err())

	server.freeze()
	done := make(chan error, 1)
	go func() {
		_, _, err := client.SideConversations.Create(ctx, zendesktest.DefaultTicketID, createRequest("frozen"))
		done <- err
	}()
	<-started     // the call waits on Redis...
	close(expire) // ...until the timeout fires
	require.NoError(t, <-done, "the call went on in process")
	assert.Len(t, srv.SideConversations(zendesktest.DefaultTicketID), 1)
	// What ended the round trip was the coordinator's timeout, not an
	// error of the Redis client: the call waited for the timer.
	assert.Equal(t, []string{"zendeskredis: Redis did not answer within the timeout"}, logs.attrs(slog.LevelWarn, "error"))
	server.thaw()
}

func TestALeaseTakenAfterItsCallerGaveUpIsReleased(t *testing.T) {
	t.Parallel()
	server := startRedisServer(t)
	rdb := redis.NewClient(&redis.Options{Addr: server.addr(), ReadTimeout: -1, WriteTimeout: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	ns := namespace(t)
	coord := zendeskredis.New(rdb, zendeskredis.WithNamespace(ns), zendeskredis.WithTimeout(time.Hour), zendeskredis.WithProbeInterval(time.Hour),
		zendeskredis.WithLeaseTTL(time.Hour))
	t.Cleanup(func() { _ = coord.Close() })
	expire := make(chan time.Time)
	started := make(chan struct{}, 100)
	zendeskredis.SetTimer(coord, func(time.Duration) (<-chan time.Time, func() bool) {
		started <- struct{}{}
		return expire, func() bool { return true }
	})
	ctx := context.Background()
	require.NoError(t, rdb.Ping(ctx).Err())

	// Redis hangs while the lease is asked for; the caller gives up and
	// goes on with the in-process lock.
	server.freeze()
	locked := make(chan zendesk.KeyLock, 1)
	go func() {
		lock, _, err := coord.LockKey(ctx, account, "create/1/late")
		assert.NoError(t, err)
		locked <- lock
	}()
	<-started
	close(expire)
	lock := <-locked
	// Redis wakes up and runs the queued request, taking the lease for a
	// caller that is gone: it must not keep the key for the lease's TTL.
	server.thaw()
	probe := redis.NewClient(&redis.Options{Addr: server.addr()})
	t.Cleanup(func() { _ = probe.Close() })
	leaseKey := ns + ":{" + account + "}:lock:create/1/late"
	eventually(t, "the abandoned lease is released", func() bool {
		n, err := probe.Exists(ctx, leaseKey).Result()
		require.NoError(t, err)
		return n == 0
	})
	lock.Unlock()
}

// slowOnce makes the first round trip of coord time out when the test says
// so; later ones have a real timer.
func slowOnce(coord *zendeskredis.Coordinator) (started <-chan struct{}, expire chan time.Time) {
	first := make(chan struct{}, 1)
	expire = make(chan time.Time)
	var n atomic.Int32
	zendeskredis.SetTimer(coord, func(d time.Duration) (<-chan time.Time, func() bool) {
		if n.Add(1) == 1 {
			first <- struct{}{}
			return expire, func() bool { return true }
		}
		t := time.NewTimer(d)
		return t.C, t.Stop
	})
	return first, expire
}

func TestALockTakenWhileRedisHungIsCheckedBeforeSending(t *testing.T) {
	t.Parallel()
	server := startRedisServer(t)
	ns := namespace(t)
	newCoordinator := func() *zendeskredis.Coordinator {
		rdb := redis.NewClient(&redis.Options{Addr: server.addr(), ReadTimeout: -1, WriteTimeout: -1})
		t.Cleanup(func() { _ = rdb.Close() })
		// Every call may probe Redis again once it has timed out.
		c := zendeskredis.New(rdb, zendeskredis.WithNamespace(ns), zendeskredis.WithTimeout(time.Hour),
			zendeskredis.WithProbeInterval(time.Nanosecond))
		t.Cleanup(func() { _ = c.Close() })
		require.NoError(t, rdb.Ping(context.Background()).Err())
		return c
	}
	a, b := newCoordinator(), newCoordinator()
	started, expire := slowOnce(a)
	ctx := context.Background()

	// a asks for the lease while Redis hangs, gives up, and goes on with
	// in-process locks.
	server.freeze()
	locks := make(chan zendesk.KeyLock, 1)
	go func() {
		lock, _, err := a.LockKey(ctx, account, "create/1/contested")
		assert.NoError(t, err)
		locks <- lock
	}()
	<-started
	close(expire)
	contested := <-locks
	server.thaw()

	// Meanwhile b takes the contested key the ordinary way.
	held, _, err := b.LockKey(ctx, account, "create/1/contested")
	require.NoError(t, err)

	// Right before sending, a's intent is checked against Redis, which
	// answers again: the key is b's, and a must not send.
	intent := zendesk.KeyRecord{State: zendesk.KeySending, At: time.Now(), TTL: time.Hour}
	err = contested.Record(ctx, intent)
	require.Error(t, err)
	assert.ErrorIs(t, err, zendesk.ErrLockLost)
	contested.Unlock()

	// b sends and records; a's next call sees b's record.
	require.NoError(t, held.Record(ctx, zendesk.KeyRecord{State: zendesk.KeySent, ConversationID: "c1", At: time.Now(), TTL: time.Hour}))
	held.Unlock()
	lock, rec, err := a.LockKey(ctx, account, "create/1/contested")
	require.NoError(t, err)
	assert.Equal(t, "c1", rec.ConversationID)
	lock.Unlock()
}

func TestALockTakenWhileRedisHungBecomesALeaseWhenItAnswers(t *testing.T) {
	t.Parallel()
	server := startRedisServer(t)
	rdb := redis.NewClient(&redis.Options{Addr: server.addr(), ReadTimeout: -1, WriteTimeout: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	ns := namespace(t)
	a := zendeskredis.New(rdb, zendeskredis.WithNamespace(ns), zendeskredis.WithTimeout(time.Hour),
		zendeskredis.WithProbeInterval(time.Nanosecond))
	t.Cleanup(func() { _ = a.Close() })
	require.NoError(t, rdb.Ping(context.Background()).Err())
	started, expire := slowOnce(a)
	ctx := context.Background()

	server.freeze()
	locks := make(chan zendesk.KeyLock, 1)
	go func() {
		lock, _, err := a.LockKey(ctx, account, "create/1/free")
		assert.NoError(t, err)
		locks <- lock
	}()
	<-started
	close(expire)
	lock := <-locks
	server.thaw()

	// Nobody else touched the key: the intent takes the lease and is
	// stored in Redis, for every replica to see.
	require.NoError(t, lock.Record(ctx, zendesk.KeyRecord{State: zendesk.KeySending, Fingerprint: "a", At: time.Now(), TTL: time.Hour}))
	probe := redis.NewClient(&redis.Options{Addr: server.addr()})
	t.Cleanup(func() { _ = probe.Close() })
	held, err := probe.Exists(ctx, ns+":{"+account+"}:lock:create/1/free").Result()
	require.NoError(t, err)
	assert.Equal(t, int64(1), held, "the lock became a lease")
	lock.Unlock()

	b := replicaOn(t, server, ns)
	l2, rec, err := b.LockKey(ctx, account, "create/1/free")
	require.NoError(t, err)
	assert.Equal(t, "a", rec.Fingerprint, "the intent is in Redis")
	l2.Unlock()
}

// replicaOn returns a coordinator on server.
func replicaOn(t *testing.T, server *redisServer, ns string) *zendeskredis.Coordinator {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: server.addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	c := zendeskredis.New(rdb, zendeskredis.WithNamespace(ns))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestAProbeItsCallerGaveUpOnLetsAnotherProbe(t *testing.T) {
	t.Parallel()
	server := startRedisServer(t)
	rdb := redis.NewClient(&redis.Options{Addr: server.addr(), ReadTimeout: -1, WriteTimeout: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	ns := namespace(t)
	coord := zendeskredis.New(rdb, zendeskredis.WithNamespace(ns), zendeskredis.WithTimeout(time.Hour),
		zendeskredis.WithProbeInterval(time.Nanosecond))
	t.Cleanup(func() { _ = coord.Close() })
	// The first round trip times out when the test says so; the test
	// learns when each later one starts.
	started, expire, later := make(chan struct{}, 1), make(chan time.Time), make(chan struct{}, 100)
	var n atomic.Int32
	zendeskredis.SetTimer(coord, func(d time.Duration) (<-chan time.Time, func() bool) {
		if n.Add(1) == 1 {
			started <- struct{}{}
			return expire, func() bool { return true }
		}
		select {
		case later <- struct{}{}:
		default:
		}
		t := time.NewTimer(d)
		return t.C, t.Stop
	})
	ctx := context.Background()
	require.NoError(t, rdb.Ping(ctx).Err())
	at := attempt(zendesk.BudgetPlan, time.Hour)

	// The first round trip times out: Redis is marked down.
	server.freeze()
	admitted := make(chan error, 1)
	go func() {
		_, err := coord.Admit(ctx, at)
		admitted <- err
	}()
	<-started
	close(expire)
	require.NoError(t, <-admitted)
	coord.Done(ctx, at, zendesk.Answer{Rate: noRate})

	// The next call probes Redis, which still hangs, and its caller gives
	// up on it.
	probeCtx, cancel := context.WithCancel(ctx)
	probed := make(chan error, 1)
	go func() {
		_, err := coord.Admit(probeCtx, at)
		probed <- err
	}()
	<-later // the probe waits on Redis
	cancel()
	assert.ErrorIs(t, <-probed, context.Canceled)
	server.thaw()

	// Other calls still probe, and find Redis again: a pause published
	// by another replica reaches this one.
	other := replicaOn(t, server, ns)
	other.Done(ctx, at, zendesk.Answer{Status: 429, Rate: noRate, RetryAfter: time.Hour})
	eventually(t, "coordination resumes", func() bool {
		wait, err := coord.Admit(ctx, at)
		require.NoError(t, err)
		coord.Done(ctx, at, zendesk.Answer{Rate: noRate})
		return wait > time.Hour-slack
	})
}

// freezeOnRelease freezes server when armed and a lease release (the
// script that publishes on the channel of releases) is sent: Redis hangs
// at that very moment.
type freezeOnRelease struct {
	server  *redisServer
	channel string
	armed   atomic.Bool
}

func (f *freezeOnRelease) DialHook(next redis.DialHook) redis.DialHook { return next }
func (f *freezeOnRelease) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (f *freezeOnRelease) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		args := cmd.Args()
		if len(args) > 0 && args[len(args)-1] == f.channel && f.armed.CompareAndSwap(true, false) {
			_ = f.server.cmd.Process.Signal(syscall.SIGSTOP)
		}
		return next(ctx, cmd)
	}
}

func TestAnIntentThatFindsAnotherSendDoesNotWaitForTheRelease(t *testing.T) {
	t.Parallel()
	server := startRedisServer(t)
	ns := namespace(t)
	rdb := redis.NewClient(&redis.Options{Addr: server.addr(), ReadTimeout: -1, WriteTimeout: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	freeze := &freezeOnRelease{server: server, channel: ns + ":released"}
	rdb.AddHook(freeze)
	a := zendeskredis.New(rdb, zendeskredis.WithNamespace(ns), zendeskredis.WithTimeout(time.Hour), zendeskredis.WithProbeInterval(time.Hour))
	t.Cleanup(func() { _ = a.Close() })
	trips := controlRoundTrips(a)
	b := replicaOn(t, server, ns)
	ctx := context.Background()
	require.NoError(t, rdb.Ping(ctx).Err())

	// a locks the key in process while Redis hangs.
	server.freeze()
	fire := trips.timeOutNext()
	locks := make(chan zendesk.KeyLock, 1)
	go func() {
		lock, _, err := a.LockKey(ctx, account, "create/1/taken")
		assert.NoError(t, err)
		locks <- lock
	}()
	trips.waitFor(t, 1)
	fire()
	lock := <-locks
	server.thaw()
	zendeskredis.WaitBackground(a)

	// b sends with the key meanwhile.
	held, _, err := b.LockKey(ctx, account, "create/1/taken")
	require.NoError(t, err)
	require.NoError(t, held.Record(ctx, zendesk.KeyRecord{State: zendesk.KeySent, ConversationID: "c1", At: time.Now(), TTL: time.Hour}))
	held.Unlock()

	// a's intent takes the lease, finds b's record and gives the lease
	// back, and Redis hangs as it does: the call must not wait for that.
	freeze.armed.Store(true)
	recorded := make(chan error, 1)
	go func() {
		recorded <- lock.Record(ctx, zendesk.KeyRecord{State: zendesk.KeySending, At: time.Now(), TTL: time.Hour})
	}()
	select {
	case err := <-recorded:
		assert.ErrorIs(t, err, zendesk.ErrLockLost)
	case <-time.After(30 * time.Second):
		t.Fatal("Record waited for the release of the lease it must not use, on a Redis that hangs")
	}
	// The release, sent in the background, froze Redis; it ends once
	// Redis wakes up.
	eventually(t, "the release is sent", func() bool { return !freeze.armed.Load() })
	server.thaw()
	zendeskredis.WaitBackground(a)
	n, err := rdb.Exists(ctx, ns+":{"+account+"}:lock:create/1/taken").Result()
	require.NoError(t, err)
	assert.Zero(t, n, "the lease was released once Redis answered")
	lock.Unlock()
}

func TestAnAdmitGivenUpOnLeavesNothingInFlight(t *testing.T) {
	t.Parallel()
	server := startRedisServer(t)
	ns := namespace(t)
	rdb := redis.NewClient(&redis.Options{Addr: server.addr(), ReadTimeout: -1, WriteTimeout: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	a := zendeskredis.New(rdb, zendeskredis.WithNamespace(ns), zendeskredis.WithTimeout(time.Hour), zendeskredis.WithProbeInterval(time.Hour),
		zendeskredis.WithLimits(zendesk.RateLimits{PerMinute: 60}))
	t.Cleanup(func() { _ = a.Close() })
	trips := controlRoundTrips(a)
	ctx := context.Background()
	require.NoError(t, rdb.Ping(ctx).Err())

	// The Admit times out while Redis hangs; the attempt goes on in
	// process, and Redis runs the script when it wakes up.
	server.freeze()
	fire := trips.timeOutNext()
	admitted := make(chan error, 1)
	at := attempt(zendesk.BudgetPlan, time.Minute)
	go func() {
		_, err := a.Admit(ctx, at)
		admitted <- err
	}()
	trips.waitFor(t, 1)
	fire()
	require.NoError(t, <-admitted)
	server.thaw()
	zendeskredis.WaitBackground(a)

	prefix := ns + ":{" + account + "}:"
	ran, err := rdb.Exists(ctx, prefix+"gcra:plan").Result()
	require.NoError(t, err)
	require.Equal(t, int64(1), ran, "the script ran after the caller gave up on it")
	inFlight, err := rdb.ZCard(ctx, prefix+"inflight:plan").Result()
	require.NoError(t, err)
	assert.Zero(t, inFlight, "an attempt counted in flight that no Done will ever end")
	a.Done(ctx, at, zendesk.Answer{Rate: noRate})
}

func TestASlowRedisIsProbedOncePerInterval(t *testing.T) {
	t.Parallel()
	server := startRedisServer(t)
	ns := namespace(t)
	rdb := redis.NewClient(&redis.Options{Addr: server.addr(), ReadTimeout: -1, WriteTimeout: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	const timeout = time.Second
	a := zendeskredis.New(rdb, zendeskredis.WithNamespace(ns), zendeskredis.WithTimeout(timeout))
	t.Cleanup(func() { _ = a.Close() })
	clock := newFakeClock()
	zendeskredis.SetClock(a, clock.Now)
	trips := controlRoundTrips(a)
	ctx := context.Background()
	require.NoError(t, rdb.Ping(ctx).Err())
	at := attempt(zendesk.BudgetPlan, time.Minute)
	admit := func() {
		t.Helper()
		_, err := a.Admit(ctx, at)
		require.NoError(t, err)
		a.Done(ctx, at, zendesk.Answer{Rate: noRate})
	}

	// A round trip times out; Redis answers it, but twice as late as the
	// timeout: Redis is slow, not back.
	server.freeze()
	fire := trips.timeOutNext()
	done := make(chan struct{})
	go func() {
		defer close(done)
		admit()
	}()
	trips.waitFor(t, 1)
	clock.Advance(2 * timeout)
	fire()
	<-done
	server.thaw()
	zendeskredis.WaitBackground(a)

	// Until the probe interval has passed, no call tries Redis.
	before := trips.count.Load()
	for range 5 {
		admit()
	}
	assert.Equal(t, before, trips.count.Load(), "round trips to a Redis that answered late, before the next probe was due")

	// Then one call probes, and Redis answers in time: coordination
	// resumes.
	clock.Advance(zendeskredis.DefaultProbeInterval)
	admit()
	assert.Equal(t, before+2, trips.count.Load(), "one probe (Admit), then Done through Redis")

	// A round trip that Redis answers at once, though the outage began
	// while it was under way (another call timed out), shows Redis
	// healthy: the next call probes without waiting for the interval.
	server.freeze()
	fire = trips.timeOutNext()
	n := trips.count.Load()
	slow := make(chan struct{})
	go func() {
		defer close(slow)
		admit()
	}()
	trips.waitFor(t, n+1)
	clock.Advance(2 * timeout)
	quick := make(chan struct{})
	go func() {
		defer close(quick)
		_, err := a.Admit(ctx, at)
		assert.NoError(t, err)
	}()
	trips.waitFor(t, n+2)
	fire()
	<-slow
	server.thaw()
	<-quick
	zendeskredis.WaitBackground(a)
	before = trips.count.Load()
	admit()
	assert.Equal(t, before+2, trips.count.Load(), "a probe at once, then Done through Redis")
}

func TestAnIntentIsCheckedWhateverTheProbeSchedule(t *testing.T) {
	t.Parallel()
	server := startRedisServer(t)
	ns := namespace(t)
	rdb := redis.NewClient(&redis.Options{Addr: server.addr(), ReadTimeout: -1, WriteTimeout: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	// The default probe interval, on a clock that moves when the test
	// says so.
	a := zendeskredis.New(rdb, zendeskredis.WithNamespace(ns), zendeskredis.WithTimeout(time.Hour))
	t.Cleanup(func() { _ = a.Close() })
	clock := newFakeClock()
	zendeskredis.SetClock(a, clock.Now)
	trips := controlRoundTrips(a)
	b := replicaOn(t, server, ns)
	ctx := context.Background()
	require.NoError(t, rdb.Ping(ctx).Err())
	at := attempt(zendesk.BudgetPlan, time.Minute)

	// outage makes a round trip of a time out while Redis hangs: Redis is
	// then marked down until a probe finds it again.
	outage := func() {
		t.Helper()
		server.freeze()
		n := trips.count.Load()
		fire := trips.timeOutNext()
		done := make(chan error, 1)
		go func() {
			_, err := a.Admit(ctx, at)
			done <- err
		}()
		trips.waitFor(t, n+1)
		clock.Advance(time.Hour) // the timeout passes
		fire()
		require.NoError(t, <-done)
		a.Done(ctx, at, zendesk.Answer{Rate: noRate})
		server.thaw()
		zendeskredis.WaitBackground(a)
	}

	// During an outage a locks two keys in process, and b takes both
	// through Redis.
	outage()
	first, _, err := a.LockKey(ctx, account, "create/1/first")
	require.NoError(t, err)
	second, _, err := a.LockKey(ctx, account, "create/1/second")
	require.NoError(t, err)
	for _, key := range []string{"create/1/first", "create/1/second"} {
		// a's locks are in process: b need not wait (the deadline only
		// keeps a failure from hanging the test).
		waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		held, _, err := b.LockKey(waitCtx, account, key)
		cancel()
		require.NoError(t, err)
		defer held.Unlock()
	}
	intent := zendesk.KeyRecord{State: zendesk.KeySending, At: time.Now(), TTL: time.Hour}

	// The next probe is not due (the clock has not moved), yet the intent
	// asks Redis, which answers: the key is b's.
	assert.ErrorIs(t, first.Record(ctx, intent), zendesk.ErrLockLost, "before the next probe is due")
	first.Unlock()

	// Another outage; the probe is due, and another call is probing,
	// held there by the test: the intent still asks Redis itself.
	outage()
	clock.Advance(zendeskredis.DefaultProbeInterval)
	release := trips.holdNext()
	n := trips.count.Load()
	probed := make(chan error, 1)
	go func() {
		_, err := a.Admit(ctx, at)
		probed <- err
	}()
	trips.waitFor(t, n+1)
	assert.ErrorIs(t, second.Record(ctx, intent), zendesk.ErrLockLost, "while another call probes")
	second.Unlock()
	release()
	require.NoError(t, <-probed)
	a.Done(ctx, at, zendesk.Answer{Rate: noRate})
}

func TestARecordFallsBackOnlyWhileTheLeaseMayStillBeHeld(t *testing.T) {
	t.Parallel()
	server := startRedisServer(t)
	ns := namespace(t)
	rdb := redis.NewClient(&redis.Options{Addr: server.addr(), ReadTimeout: -1, WriteTimeout: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	// Timeout 1h: the lease lives 3h (renewed every hour of real time,
	// never during the test); records fall back for 2h after the lease
	// was last confirmed.
	const timeout = time.Hour
	a := zendeskredis.New(rdb, zendeskredis.WithNamespace(ns), zendeskredis.WithTimeout(timeout),
		zendeskredis.WithProbeInterval(90*time.Minute))
	t.Cleanup(func() { _ = a.Close() })
	clock := newFakeClock()
	zendeskredis.SetClock(a, clock.Now)
	trips := controlRoundTrips(a)
	ctx := context.Background()
	first, _, err := a.LockKey(ctx, account, "create/1/first")
	require.NoError(t, err)
	defer first.Unlock()
	second, _, err := a.LockKey(ctx, account, "create/1/second")
	require.NoError(t, err)
	defer second.Unlock()
	defer server.thaw()

	// record has the lock record rec while Redis hangs, the round trip
	// timing out when the test says so.
	record := func(lock zendesk.KeyLock, rec zendesk.KeyRecord) error {
		t.Helper()
		n := trips.count.Load()
		fire := trips.timeOutNext()
		result := make(chan error, 1)
		go func() { result <- lock.Record(ctx, rec) }()
		trips.waitFor(t, n+1)
		fire()
		return <-result
	}
	intent := zendesk.KeyRecord{State: zendesk.KeySending, At: time.Now(), TTL: time.Hour}
	server.freeze()

	// An hour after the leases were taken, Redis does not answer: the
	// lease is still held, so the record falls back to the process.
	clock.Advance(time.Hour)
	require.NoError(t, record(first, intent), "the lease was confirmed 1h ago and lives 3h")

	// Two hours after: Redis is marked down, and the record is not even
	// tried; another replica may have taken the lease by now.
	clock.Advance(time.Hour)
	before := trips.count.Load()
	assert.ErrorIs(t, second.Record(ctx, intent), zendesk.ErrLockLost, "the lease was confirmed 2h ago")
	assert.Equal(t, before, trips.count.Load(), "no round trip: no probe was due")

	// The probe is due: it is tried, does not answer, and the record is
	// refused likewise.
	clock.Advance(30 * time.Minute)
	assert.ErrorIs(t, record(first, zendesk.KeyRecord{State: zendesk.KeyUnresolved, At: time.Now(), TTL: time.Hour}), zendesk.ErrLockLost,
		"the lease was confirmed 2h30m ago")
}
