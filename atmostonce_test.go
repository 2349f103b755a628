package zendesk_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

// The promise "at most one message per idempotency key", checked through
// the public API against zendesktest.

// countPosts counts the POSTs to path that reached the server.
func countPosts(srv *zendesktest.Server, path string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost && r.Path == path {
			n++
		}
	}
	return n
}

// Zendesk answers 504 and commits the message later. The call, and a call
// with the same key before the commit, send nothing more; after the commit
// the key finds the message. One message in all.
func TestSlowCommitSendsOnce(t *testing.T) {
	t.Parallel()
	for _, op := range []string{"create", "reply"} {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			srv, client := startServer(t)
			ctx := context.Background()
			existing := mustCreate(t, client, 1, "Existing")
			srv.ResetRequests()
			path := "/api/v2/tickets/1/side_conversations"
			send := func() (*zendesk.SideConversationResult, *zendesk.Response, error) {
				req := emailRequest("Slow")
				req.IdempotencyKey = "slow-" + op
				return client.SideConversations.Create(ctx, 1, req)
			}
			if op == "reply" {
				path += "/" + existing.ID + "/reply"
				send = func() (*zendesk.SideConversationResult, *zendesk.Response, error) {
					req := replyRequest("Slow")
					req.IdempotencyKey = "slow-" + op
					return client.SideConversations.Reply(ctx, 1, existing.ID, req)
				}
			}
			hold, committed := make(chan struct{}), make(chan struct{}, 1)
			srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultLateCommit, Method: http.MethodPost, Path: path, Hold: hold, Applied: committed})

			_, _, err := send()
			require.ErrorIs(t, err, zendesk.ErrMaybeSent)
			_, _, err = send()
			require.ErrorIs(t, err, zendesk.ErrMaybeSent, "a retry before the commit sends nothing")
			assert.Equal(t, 1, countPosts(srv, path))

			close(hold)
			<-committed
			res, resp, err := send()
			require.NoError(t, err)
			assert.True(t, resp.FoundByIdempotencyKey)
			assert.Equal(t, 1, countPosts(srv, path))
			sent := srv.SentMessages()
			require.Len(t, sent, 2, "the existing conversation's message and the slow one")
			assert.Equal(t, sent[1].SideConversationID, res.SideConversation.ID)
		})
	}
}

// gate reports each call that asks for an idempotency key's lock.
type gate struct {
	zendesk.Coordinator
	entered chan struct{}
}

func (g *gate) LockKey(ctx context.Context, account, key string) (zendesk.KeyLock, zendesk.KeyRecord, error) {
	g.entered <- struct{}{}
	return g.Coordinator.LockKey(ctx, account, key)
}

// Eight callers with one key at once: one message, and every caller gets
// it.
func TestConcurrentCallersSendOnce(t *testing.T) {
	t.Parallel()
	const callers = 8
	local, err := zendesk.NewLocalCoordinator(zendesk.RateLimits{})
	require.NoError(t, err)
	g := &gate{Coordinator: local, entered: make(chan struct{}, callers)}
	srv := zendesktest.Start(t)
	client := srv.Client(zendesk.WithCoordinator(g), zendesk.WithRetryPolicy(zendesk.RetryPolicy{Wait: noWait}))
	hold := make(chan struct{})
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultDelay, Method: http.MethodPost, Path: "/api/v2/tickets/1/side_conversations", Hold: hold})

	var wg sync.WaitGroup
	ids := make([]string, callers)
	errs := make([]error, callers)
	found := make([]bool, callers)
	for i := range callers {
		wg.Go(func() {
			req := emailRequest("Crowd")
			req.IdempotencyKey = "crowd"
			res, resp, err := client.SideConversations.Create(context.Background(), 1, req)
			errs[i] = err
			if err == nil {
				ids[i], found[i] = res.SideConversation.ID, resp.FoundByIdempotencyKey
			}
		})
	}
	for range callers {
		<-g.entered
	}
	close(hold)
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	foundCount := 0
	for i := range callers {
		assert.Equal(t, ids[0], ids[i])
		if found[i] {
			foundCount++
		}
	}
	assert.Equal(t, callers-1, foundCount)
	assert.Len(t, srv.SentMessages(), 1)
	assert.Len(t, srv.SideConversations(1), 1)
}

// A key used again for another message is refused, also by a client that
// has never seen the key (another process), and nothing is sent.
func TestReusedKeyIsRefused(t *testing.T) {
	t.Parallel()
	srv, client := startServer(t)
	ctx := context.Background()
	req := emailRequest("First")
	req.IdempotencyKey = "job-1"
	_, _, err := client.SideConversations.Create(ctx, 1, req)
	require.NoError(t, err)

	other := emailRequest("Second, different")
	other.IdempotencyKey = "job-1"
	_, _, err = client.SideConversations.Create(ctx, 1, other)
	require.ErrorIs(t, err, zendesk.ErrIdempotencyKeyReused)
	fresh := srv.Client(zendesk.WithRetryPolicy(zendesk.RetryPolicy{Wait: noWait}))
	_, _, err = fresh.SideConversations.Create(ctx, 1, other)
	require.ErrorIs(t, err, zendesk.ErrIdempotencyKeyReused)
	assert.Len(t, srv.SentMessages(), 1)
}
