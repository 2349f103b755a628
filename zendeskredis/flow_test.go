package zendeskredis_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendeskredis"
	"github.com/sideconv/zendesk/zendesktest"
)

// fleetClient returns a client of srv with a coordinator of its own on a
// Redis client of its own: one replica of a service.
func fleetClient(t *testing.T, srv *zendesktest.Server, ns string, opts ...zendesk.Option) (*zendesk.Client, *zendeskredis.Coordinator) {
	t.Helper()
	coord := replica(t, ns)
	return srv.Client(append([]zendesk.Option{zendesk.WithCoordinator(coord)}, opts...)...), coord
}

func createRequest(key string) zendesk.CreateRequest {
	return zendesk.CreateRequest{
		Message: zendesk.Message{
			Subject: "Refund for order 1234",
			Body:    "Can you approve the refund?",
			To:      []zendesk.Participant{zendesk.Email("someone@example.com")},
		},
		IdempotencyKey: key,
	}
}

func TestOneMessagePerKeyAcrossReplicas(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	ns := namespace(t)
	clients := []*zendesk.Client{}
	for range 2 {
		c, _ := fleetClient(t, srv, ns)
		clients = append(clients, c)
	}
	ctx := context.Background()
	const perReplica = 8
	var wg sync.WaitGroup
	ids := make(chan string, 2*perReplica)
	errs := make(chan error, 2*perReplica)
	for _, c := range clients {
		for range perReplica {
			wg.Go(func() {
				res, _, err := c.SideConversations.Create(ctx, zendesktest.DefaultTicketID, createRequest("job-1"))
				if err != nil {
					errs <- err
					return
				}
				ids <- res.SideConversation.ID
			})
		}
	}
	wg.Wait()
	close(ids)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	convs := srv.SideConversations(zendesktest.DefaultTicketID)
	require.Len(t, convs, 1, "2×8 calls with one key on two replicas make one conversation")
	n := 0
	for id := range ids {
		assert.Equal(t, convs[0].ID, id, "every caller gets the one conversation")
		n++
	}
	assert.Equal(t, 2*perReplica, n)

	// Replies keyed alike make one message too.
	var replies sync.WaitGroup
	for _, c := range clients {
		for range perReplica {
			replies.Go(func() {
				_, _, err := c.SideConversations.Reply(ctx, zendesktest.DefaultTicketID, convs[0].ID, zendesk.ReplyRequest{
					Message:        zendesk.Message{Body: "Approved.", To: []zendesk.Participant{zendesk.Email("someone@example.com")}},
					IdempotencyKey: "job-1-reply",
				})
				assert.NoError(t, err)
			})
		}
	}
	replies.Wait()
	var replyEvents int
	for _, ev := range srv.Events(zendesktest.DefaultTicketID, convs[0].ID) {
		if ev.Type == zendesk.EventReply {
			replyEvents++
		}
	}
	assert.Equal(t, 1, replyEvents)
}

func TestARetryAfterMetByOneReplicaHoldsTheOther(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	ns := namespace(t)
	// The waits are recorded instead of slept.
	waits := func(into *[]time.Duration, mu *sync.Mutex) zendesk.Option {
		return zendesk.WithRetryPolicy(zendesk.RetryPolicy{
			MaxRetryAfter: 2 * time.Hour,
			Wait: func(ctx context.Context, d time.Duration) error {
				mu.Lock()
				defer mu.Unlock()
				*into = append(*into, d)
				return ctx.Err()
			},
		})
	}
	var mu sync.Mutex
	var waitsA, waitsB []time.Duration
	a, _ := fleetClient(t, srv, ns, waits(&waitsA, &mu))
	b, _ := fleetClient(t, srv, ns, waits(&waitsB, &mu))
	ctx := context.Background()
	res, _, err := a.SideConversations.Create(ctx, zendesktest.DefaultTicketID, createRequest(""))
	require.NoError(t, err)

	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultStatus, Method: "GET", Status: 429, RetryAfter: "3600"})
	_, resp, err := a.SideConversations.Show(ctx, zendesktest.DefaultTicketID, res.SideConversation.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, 2, resp.Attempts, "a met the 429 and retried")

	_, resp, err = b.SideConversations.Show(ctx, zendesktest.DefaultTicketID, res.SideConversation.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, 1, resp.Attempts, "b never met the 429...")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, waitsB, 1, "...but waited for its pause before sending")
	within(t, time.Hour, waitsB[0])
}

func TestAnUnresolvedSendOutlivesALossOfRedisData(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	ns := namespace(t)
	client, _ := fleetClient(t, srv, ns)
	other, _ := fleetClient(t, srv, ns)
	ctx := context.Background()

	// Zendesk answers 504 and makes the conversation later.
	hold, applied := make(chan struct{}), make(chan struct{}, 1)
	srv.InjectFault(zendesktest.Fault{Kind: zendesktest.FaultLateCommit, Method: "POST", Hold: hold, Applied: applied})
	_, _, err := client.SideConversations.Create(ctx, zendesktest.DefaultTicketID, createRequest("late"))
	require.ErrorIs(t, err, zendesk.ErrMaybeSent)

	// Redis loses its data, as in a restart without persistence.
	raw := newRedis(t)
	keys, err := raw.Keys(ctx, ns+":*").Result()
	require.NoError(t, err)
	require.NotEmpty(t, keys)
	require.NoError(t, raw.Del(ctx, keys...).Err())

	// A retry on the replica that sent, before the commit lands, does not
	// send again...
	_, _, err = client.SideConversations.Create(ctx, zendesktest.DefaultTicketID, createRequest("late"))
	require.ErrorIs(t, err, zendesk.ErrMaybeSent)
	// ...and its record is back in Redis for the other replicas.
	_, _, err = other.SideConversations.Create(ctx, zendesktest.DefaultTicketID, createRequest("late"))
	require.ErrorIs(t, err, zendesk.ErrMaybeSent)

	close(hold)
	<-applied
	res, resp, err := client.SideConversations.Create(ctx, zendesktest.DefaultTicketID, createRequest("late"))
	require.NoError(t, err)
	assert.True(t, resp.FoundByIdempotencyKey)
	convs := srv.SideConversations(zendesktest.DefaultTicketID)
	require.Len(t, convs, 1, "one conversation for one key")
	assert.Equal(t, convs[0].ID, res.SideConversation.ID)
}
