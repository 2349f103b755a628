package zendeskredis_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendeskredis"
)

func TestLeaseExcludesAcrossReplicas(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	replicas := []*zendeskredis.Coordinator{replica(t, ns), replica(t, ns)}
	ctx := context.Background()
	const perReplica = 8

	// Each holder reads the count its predecessor recorded and records the
	// next: any overlap shows as two holders at once, or a lost count.
	var holding, overlaps atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 2*perReplica)
	for _, c := range replicas {
		for range perReplica {
			wg.Go(func() {
				lock, rec, err := c.LockKey(ctx, account, "create/1/job-42")
				if err != nil {
					errs <- err
					return
				}
				defer lock.Unlock()
				if holding.Add(1) != 1 {
					overlaps.Add(1)
				}
				n := 0
				if rec.State != "" {
					n, _ = strconv.Atoi(rec.Fingerprint)
				}
				err = lock.Record(ctx, zendesk.KeyRecord{State: zendesk.KeySent, Fingerprint: strconv.Itoa(n + 1), At: time.Now(), TTL: time.Hour})
				holding.Add(-1)
				if err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assert.Zero(t, overlaps.Load(), "two holders of one key at once")
	lock, rec, err := replicas[0].LockKey(ctx, account, "create/1/job-42")
	require.NoError(t, err)
	lock.Unlock()
	assert.Equal(t, strconv.Itoa(2*perReplica), rec.Fingerprint, "every holder saw its predecessor's record")
}

func TestLeaseOutlivesACrashedHolderByItsTTL(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	// The shortest TTL the default timeout allows.
	const ttl = 3 * zendeskredis.DefaultTimeout
	crashedRedis := newRedis(t)
	crashed := zendeskredis.New(crashedRedis, zendeskredis.WithNamespace(ns), zendeskredis.WithLeaseTTL(ttl))
	other := replica(t, ns, zendeskredis.WithLeaseTTL(ttl))
	ctx := context.Background()

	held, _, err := crashed.LockKey(ctx, account, "reply/1/abc/job-7")
	require.NoError(t, err)
	raw := newRedis(t)
	leaseKey := ns + ":{" + account + "}:lock:reply/1/abc/job-7"
	left, err := raw.PTTL(ctx, leaseKey).Result()
	require.NoError(t, err)
	assert.Positive(t, left, "the lease is a key with an expiry")
	assert.LessOrEqual(t, left, ttl)

	// The holder's process dies: no renewal, no Unlock.
	require.NoError(t, crashedRedis.Close())

	// A lease that never expired would keep the caller waiting: the
	// deadline, far beyond the TTL, fails the test instead of hanging it.
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	lock, rec, err := other.LockKey(waitCtx, account, "reply/1/abc/job-7")
	require.NoError(t, err, "the lease is free once its TTL has run out")
	assert.Zero(t, rec)
	require.NoError(t, lock.Record(ctx, zendesk.KeyRecord{State: zendesk.KeySending, At: time.Now(), TTL: time.Hour}))
	lock.Unlock()
	held.Unlock()
}

func TestRenewalKeepsALeaseBeyondItsTTL(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	const ttl = 1500 * time.Millisecond
	c := replica(t, ns, zendeskredis.WithLeaseTTL(ttl))
	ctx := context.Background()
	lock, _, err := c.LockKey(ctx, account, "create/1/long")
	require.NoError(t, err)
	defer lock.Unlock()

	// Renewals run every third of the TTL: after four of them the lease has
	// been held longer than its TTL.
	raw := newRedis(t)
	leaseKey := ns + ":{" + account + "}:lock:create/1/long"
	last, renewals := ttl, 0
	eventually(t, "four renewals", func() bool {
		left, err := raw.PTTL(ctx, leaseKey).Result()
		require.NoError(t, err)
		require.Positive(t, left, "the lease expired while its holder was alive")
		if left > last {
			renewals++
		}
		last = left
		return renewals >= 4
	})
	require.NoError(t, lock.Record(ctx, zendesk.KeyRecord{State: zendesk.KeySending, At: time.Now(), TTL: time.Hour}),
		"the holder still holds the lease")
}

func TestRecordFailsWhenTheLeaseWasTakenOver(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	a, b := replica(t, ns), replica(t, ns)
	ctx := context.Background()
	stalled, _, err := a.LockKey(ctx, account, "create/1/job-9")
	require.NoError(t, err)

	// The stalled holder's lease runs out (here: is removed) and b takes it.
	raw := newRedis(t)
	require.NoError(t, raw.Del(ctx, ns+":{"+account+"}:lock:create/1/job-9").Err())
	taker, _, err := b.LockKey(ctx, account, "create/1/job-9")
	require.NoError(t, err)
	require.NoError(t, taker.Record(ctx, zendesk.KeyRecord{State: zendesk.KeySending, Fingerprint: "b", At: time.Now(), TTL: time.Hour}))

	err = stalled.Record(ctx, zendesk.KeyRecord{State: zendesk.KeySending, Fingerprint: "a", At: time.Now(), TTL: time.Hour})
	require.Error(t, err)
	assert.True(t, errors.Is(err, zendesk.ErrLockLost), "got %v", err)
	// Its Unlock leaves the new holder's lease alone.
	stalled.Unlock()
	require.NoError(t, taker.Record(ctx, zendesk.KeyRecord{State: zendesk.KeySending, Fingerprint: "b", At: time.Now(), TTL: time.Hour}))
	taker.Unlock()

	lock, rec, err := a.LockKey(ctx, account, "create/1/job-9")
	require.NoError(t, err)
	lock.Unlock()
	assert.Equal(t, "b", rec.Fingerprint, "the stalled holder's record was not written")
}

func TestRecordsRoundTrip(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	a, b := replica(t, ns), replica(t, ns)
	ctx := context.Background()
	want := zendesk.KeyRecord{
		State: zendesk.KeySent, Fingerprint: "f1e2", At: time.Date(2026, 11, 29, 10, 11, 12, 13000, time.UTC),
		ConversationID: "8566255a-5f1f-11ee-8e2b-2b6a3e7d9c01", EventID: "8566255b", TTL: time.Hour,
	}
	lock, rec, err := a.LockKey(ctx, account, "create/1/rt")
	require.NoError(t, err)
	assert.Zero(t, rec, "no record yet")
	require.NoError(t, lock.Record(ctx, want))
	lock.Unlock()

	lock, got, err := b.LockKey(ctx, account, "create/1/rt")
	require.NoError(t, err)
	assert.True(t, want.At.Equal(got.At))
	got.At = want.At
	assert.Equal(t, want, got, "another replica reads the record as written")

	// A zero State deletes the record. (a keeps its own copy of what it
	// recorded, which stands should Redis lose its data: that is why the
	// deletion is read back through b.)
	require.NoError(t, lock.Record(ctx, zendesk.KeyRecord{}))
	lock.Unlock()
	lock, got, err = b.LockKey(ctx, account, "create/1/rt")
	require.NoError(t, err)
	assert.Zero(t, got)

	// A record lives for its TTL.
	require.NoError(t, lock.Record(ctx, zendesk.KeyRecord{State: zendesk.KeyUnresolved, At: time.Now(), TTL: 20 * time.Millisecond}))
	lock.Unlock()
	eventually(t, "the record expires", func() bool {
		lock, got, err := b.LockKey(ctx, account, "create/1/rt")
		require.NoError(t, err)
		lock.Unlock()
		return got.State == ""
	})
}

func TestLockKeyEndsWithItsContext(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	a, b := replica(t, ns), replica(t, ns)
	held, _, err := a.LockKey(context.Background(), account, "create/1/busy")
	require.NoError(t, err)
	defer held.Unlock()

	// The caller's context ends once it waits for a's release.
	ctx, cancel := context.WithCancel(context.Background())
	var waits atomic.Int32
	zendeskredis.SetBeforeWait(b, func() {
		waits.Add(1)
		cancel()
	})
	_, _, err = b.LockKey(ctx, account, "create/1/busy")
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, int32(1), waits.Load(), "the call waited once, and the end of its context ended the wait")
	zendeskredis.SetBeforeWait(b, nil)

	// The waiter left nothing behind: b's own goroutines can lock the key
	// once a releases it.
	held.Unlock()
	lock, _, err := b.LockKey(context.Background(), account, "create/1/busy")
	require.NoError(t, err)
	lock.Unlock()
}

func TestALeaseTTLIsAtLeastThreeTimeouts(t *testing.T) {
	t.Parallel()
	ns := namespace(t)
	// Each round trip may take up to the timeout: a lease shorter than a
	// few of them could expire between two renewals that both answered.
	c := replica(t, ns, zendeskredis.WithLeaseTTL(time.Millisecond), zendeskredis.WithTimeout(time.Hour))
	ctx := context.Background()
	lock, _, err := c.LockKey(ctx, account, "create/1/short")
	require.NoError(t, err)
	defer lock.Unlock()
	left, err := newRedis(t).PTTL(ctx, ns+":{"+account+"}:lock:create/1/short").Result()
	require.NoError(t, err)
	within(t, 3*time.Hour, left, "the lease TTL is raised to three timeouts")
}
