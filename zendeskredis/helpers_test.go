package zendeskredis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendeskredis"
)

// skipWithoutRedis is the message of a test skipped for want of a server.
const skipWithoutRedis = `REDIS_URL is not set: the zendeskredis tests run against a real Redis server, never a mock.
Start a throwaway one and point the tests at it:
    redis-server --port 6390 --bind 127.0.0.1 --save '' --appendonly no --daemonize yes
    REDIS_URL=redis://127.0.0.1:6390/0 go test -race ./...
(bash .ci/run from the repository root does this by itself.)`

// redisOptions returns the options of the server in REDIS_URL, or skips
// the test.
func redisOptions(tb testing.TB) *redis.Options {
	tb.Helper()
	u := os.Getenv("REDIS_URL")
	if u == "" {
		tb.Skip(skipWithoutRedis)
	}
	opt, err := redis.ParseURL(u)
	require.NoError(tb, err, "REDIS_URL")
	return opt
}

// newRedis returns a client of its own for the server in REDIS_URL, as a
// replica would have, closed when the test ends.
func newRedis(tb testing.TB) *redis.Client {
	tb.Helper()
	rdb := redis.NewClient(redisOptions(tb))
	tb.Cleanup(func() { _ = rdb.Close() })
	require.NoError(tb, rdb.Ping(context.Background()).Err(), "the Redis server in REDIS_URL does not answer")
	return rdb
}

// namespace returns a key prefix of the test's own, so that tests can run
// in parallel on one server; its keys are deleted when the test ends.
func namespace(tb testing.TB) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	ns := "test:" + strings.ReplaceAll(tb.Name(), "/", ":") + ":" + hex.EncodeToString(b[:])
	if os.Getenv("REDIS_URL") != "" {
		tb.Cleanup(func() {
			rdb := redis.NewClient(redisOptions(tb))
			defer func() { _ = rdb.Close() }()
			ctx := context.Background()
			iter := rdb.Scan(ctx, 0, ns+":*", 1000).Iterator()
			for iter.Next(ctx) {
				rdb.Del(ctx, iter.Val())
			}
		})
	}
	return ns
}

// replica returns a coordinator on a Redis client of its own, as one
// replica of a fleet has.
func replica(tb testing.TB, ns string, opts ...zendeskredis.Option) *zendeskredis.Coordinator {
	tb.Helper()
	c := zendeskredis.New(newRedis(tb), append([]zendeskredis.Option{zendeskredis.WithNamespace(ns)}, opts...)...)
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

const account = "acme.zendesk.com"

func attempt(b zendesk.Budget, maxWait time.Duration) zendesk.Attempt {
	return zendesk.Attempt{Account: account, Budget: b, MaxWait: maxWait}
}

// noRate is an answer that says nothing of the budget.
var noRate = zendesk.RateLimit{Limit: -1, Remaining: -1}

// logRecorder keeps the records logged through it.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec)
	return nil
}
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler      { return r }

// at returns the messages logged at level.
func (r *logRecorder) at(level slog.Level) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, rec := range r.records {
		if rec.Level == level {
			out = append(out, rec.Message)
		}
	}
	return out
}

// attrs returns the values of attribute key in the records logged at
// level.
func (r *logRecorder) attrs(level slog.Level, key string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, rec := range r.records {
		if rec.Level != level {
			continue
		}
		rec.Attrs(func(a slog.Attr) bool {
			if a.Key == key {
				out = append(out, a.Value.String())
			}
			return true
		})
	}
	return out
}

// eventually polls cond until it holds. Its deadline is generous enough
// never to fire on a healthy run; it only keeps a broken one from hanging.
func eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("still not true after 30s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fakeClock is a clock that moves only when the test moves it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

// roundTrips counts a coordinator's round trips to Redis and decides when
// they time out: never, unless the test arms the next one.
type roundTrips struct {
	count  atomic.Int32
	mu     sync.Mutex
	expire chan time.Time
	gate   chan struct{}
}

// controlRoundTrips replaces the timer of c's round trips.
func controlRoundTrips(c *zendeskredis.Coordinator) *roundTrips {
	r := &roundTrips{}
	zendeskredis.SetTimer(c, r.timer)
	return r
}

func (r *roundTrips) timer(time.Duration) (<-chan time.Time, func() bool) {
	r.mu.Lock()
	expire, gate := r.expire, r.gate
	r.expire, r.gate = nil, nil
	r.mu.Unlock()
	r.count.Add(1)
	if gate != nil {
		<-gate
	}
	// A nil channel never fires: the round trip waits for Redis.
	return expire, func() bool { return true }
}

// timeOutNext makes the next round trip time out when fire is called.
func (r *roundTrips) timeOutNext() (fire func()) {
	ch := make(chan time.Time)
	r.mu.Lock()
	r.expire = ch
	r.mu.Unlock()
	return func() { close(ch) }
}

// holdNext keeps the next round trip from ending, whatever Redis does,
// until release is called.
func (r *roundTrips) holdNext() (release func()) {
	ch := make(chan struct{})
	r.mu.Lock()
	r.gate = ch
	r.mu.Unlock()
	return func() { close(ch) }
}

// waitFor waits until n round trips have started.
func (r *roundTrips) waitFor(tb testing.TB, n int32) {
	tb.Helper()
	eventually(tb, "round trip "+strconv.Itoa(int(n))+" started", func() bool { return r.count.Load() >= n })
}

// quietRedis drops go-redis's own log lines (dial failures), which the
// outage tests cause on purpose.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

func TestMain(m *testing.M) {
	redis.SetLogger(quietRedis{})
	if os.Getenv("REDIS_URL") == "" {
		// Once, not only in each skipped test's output, which go test
		// shows with -v only.
		fmt.Fprintln(os.Stderr, skipWithoutRedis)
	}
	os.Exit(m.Run())
}
