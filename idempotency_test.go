package zendesk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// outcome says what one POST does: whether Zendesk applies it, and what the
// client gets back.
type outcome struct {
	apply  bool
	status int   // answer when err is nil
	err    error // transport error instead of an answer
	body   string
}

// keyedStore is a small stateful Zendesk for one ticket and one
// conversation: enough to watch keyed sends and lookups.
type keyedStore struct {
	mu       sync.Mutex
	convs    []map[string]any
	replies  []map[string]any
	posts    int
	outcomes []outcome
	// pending holds conversations a POST made that Zendesk has not
	// committed yet (an outcome with apply false and commitLater true).
	pending  []map[string]any
	listErr  int // status for lookups, 0 for a normal answer
	gets     []string
	postHook func() // runs inside each POST before it is answered
}

func (k *keyedStore) next() outcome {
	if k.posts-1 < len(k.outcomes) {
		return k.outcomes[k.posts-1]
	}
	return outcome{apply: true, status: 201}
}

// commit makes the pending conversations real, as a slow Zendesk would.
func (k *keyedStore) commit() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.convs = append(k.convs, k.pending...)
	k.pending = nil
}

func (k *keyedStore) install(mt *httpmock.MockTransport) {
	mt.RegisterResponder(http.MethodPost, testRoot+"tickets/42/side_conversations", func(req *http.Request) (*http.Response, error) {
		var body struct {
			Message     Message           `json:"message"`
			ExternalIDs map[string]string `json:"external_ids"`
		}
		if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
			return nil, err
		}
		if k.postHook != nil {
			k.postHook()
		}
		k.mu.Lock()
		k.posts++
		o := k.next()
		id := fmt.Sprintf("sc-%d", len(k.convs)+len(k.pending)+1)
		conv := map[string]any{"id": id, "external_ids": body.ExternalIDs, "subject": body.Message.Subject}
		if o.apply {
			k.convs = append(k.convs, conv)
		} else {
			k.pending = append(k.pending, conv)
		}
		k.mu.Unlock()
		if o.err != nil {
			return nil, o.err
		}
		if o.body != "" {
			return reply(o.status, o.body)(req)
		}
		return reply(o.status, fmt.Sprintf(`{"side_conversation":{"id":%q},"event":{"id":"ev-%s","type":"create"}}`, id, id))(req)
	})
	mt.RegisterResponder(http.MethodPost, testRoot+"tickets/42/side_conversations/"+convID+"/reply", func(req *http.Request) (*http.Response, error) {
		var body struct {
			Message Message `json:"message"`
		}
		if err := json.NewDecoder(req.Body).Decode(&body); err != nil {
			return nil, err
		}
		k.mu.Lock()
		k.posts++
		o := k.next()
		id := fmt.Sprintf("reply-%d", len(k.replies)+1)
		if o.apply {
			k.replies = append(k.replies, map[string]any{"id": id, "type": "reply", "side_conversation_id": convID, "message": body.Message})
		}
		k.mu.Unlock()
		if o.err != nil {
			return nil, o.err
		}
		return reply(o.status, fmt.Sprintf(`{"side_conversation":{"id":%q}}`, convID))(req)
	})
	mt.RegisterResponder(http.MethodGet, testRoot+"tickets/42/side_conversations", func(req *http.Request) (*http.Response, error) {
		k.mu.Lock()
		defer k.mu.Unlock()
		k.gets = append(k.gets, req.URL.RequestURI())
		if k.listErr != 0 {
			return reply(k.listErr, `{"error":"Forbidden"}`)(req)
		}
		b, _ := json.Marshal(map[string]any{"side_conversations": k.convs, "next_page": nil, "count": len(k.convs)})
		return reply(200, string(b))(req)
	})
	mt.RegisterResponder(http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID+"/events", func(req *http.Request) (*http.Response, error) {
		k.mu.Lock()
		defer k.mu.Unlock()
		k.gets = append(k.gets, req.URL.RequestURI())
		if k.listErr != 0 {
			return reply(k.listErr, `{"error":"Forbidden"}`)(req)
		}
		b, _ := json.Marshal(map[string]any{"events": k.replies, "next_page": nil, "count": len(k.replies)})
		return reply(200, string(b))(req)
	})
	mt.RegisterRegexpResponder(http.MethodGet, regexp.MustCompile(`^`+regexp.QuoteMeta(testRoot)+`tickets/42/side_conversations/([^/?]+)$`), func(req *http.Request) (*http.Response, error) {
		k.mu.Lock()
		defer k.mu.Unlock()
		k.gets = append(k.gets, req.URL.RequestURI())
		id := strings.TrimPrefix(req.URL.Path, "/api/v2/tickets/42/side_conversations/")
		if id == convID {
			return reply(200, fmt.Sprintf(`{"side_conversation":{"id":%q,"state":"open"}}`, convID))(req)
		}
		for _, c := range k.convs {
			if c["id"] == id {
				root := map[string]any{"side_conversation": c}
				if req.URL.Query().Get("include") == "events" {
					root["events"] = []map[string]any{{"id": "ev-" + id, "side_conversation_id": id, "type": "create"}}
				}
				b, _ := json.Marshal(root)
				return reply(200, string(b))(req)
			}
		}
		return reply(404, `{"error":"RecordNotFound","description":"Not found"}`)(req)
	})
}

func (k *keyedStore) counts() (posts, convs, replies int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.posts, len(k.convs), len(k.replies)
}

func (k *keyedStore) requests() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.gets...)
}

func keyedCreate(c *Client, key string) (*SideConversationResult, *Response, error) {
	return c.SideConversations.Create(context.Background(), 42, CreateRequest{Message: emailMessage, IdempotencyKey: key})
}

func keyedReply(c *Client, key string) (*SideConversationResult, *Response, error) {
	return c.SideConversations.Reply(context.Background(), 42, convID, ReplyRequest{Message: emailMessage, IdempotencyKey: key})
}

// The key and the request's fingerprint travel in external_ids, and the
// lookup before sending lists conversations without their events.
func TestIdempotentCreateStampsKey(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	k := &keyedStore{}
	k.install(mt)
	res, resp, err := keyedCreate(c, "job-7")
	require.NoError(t, err)
	assert.False(t, resp.FoundByIdempotencyKey)
	assert.Equal(t, "sc-1", res.SideConversation.ID)
	posts, convs, _ := k.counts()
	assert.Equal(t, 1, posts)
	assert.Equal(t, 1, convs)
	fp := (&SideConversationsService{client: c}).keyedCreate(42, CreateRequest{Message: emailMessage, IdempotencyKey: "job-7"}).fingerprint
	assert.Len(t, fp, 32)
	assert.Equal(t, map[string]string{idempotencyKeyField: "job-7", fingerprintField: fp}, k.convs[0]["external_ids"], "the key travels in external_ids")
	assert.Equal(t, []string{"/api/v2/tickets/42/side_conversations?per_page=100"}, k.requests(), "one lookup before sending, without sideloaded events")
}

// Calling again with the same key returns the first result and sends
// nothing; the record names the conversation, so no list is needed.
func TestIdempotentCreateCalledTwice(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	k := &keyedStore{}
	k.install(mt)
	_, _, err := keyedCreate(c, "job-7")
	require.NoError(t, err)
	res, resp, err := keyedCreate(c, "job-7")
	require.NoError(t, err)
	assert.True(t, resp.FoundByIdempotencyKey)
	assert.Equal(t, "sc-1", res.SideConversation.ID)
	assert.Equal(t, "ev-sc-1", res.Event.ID, "the create event comes from the sideload")
	posts, convs, _ := k.counts()
	assert.Equal(t, 1, posts)
	assert.Equal(t, 1, convs)
	assert.Equal(t, "/api/v2/tickets/42/side_conversations/sc-1?include=events", k.requests()[1])

	// Another client (another process) finds it in Zendesk.
	c2, _, _ := newMockClient(t)
	c2.http.Transport.(*authTransport).base = mt
	res, resp, err = keyedCreate(c2, "job-7")
	require.NoError(t, err)
	assert.True(t, resp.FoundByIdempotencyKey)
	assert.Equal(t, "sc-1", res.SideConversation.ID)

	_, _, err = keyedCreate(c, "job-8")
	require.NoError(t, err)
	_, convs, _ = k.counts()
	assert.Equal(t, 2, convs, "another key is another conversation")
}

// After a failure that may have reached Zendesk, the client looks once
// and never resends within the call.
func TestIdempotentCreateAfterAmbiguousFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		outcome   outcome
		wantConvs int
		found     bool
	}{
		{"applied, answer lost as 504", outcome{apply: true, status: 504}, 1, true},
		{"applied, answered 520", outcome{apply: true, status: 520}, 1, true},
		{"applied, answered 522", outcome{apply: true, status: 522}, 1, true},
		{"applied, answered 524", outcome{apply: true, status: 524}, 1, true},
		{"applied, answered 599", outcome{apply: true, status: 599}, 1, true},
		{"applied, connection reset", outcome{apply: true, err: readReset}, 1, true},
		{"applied, answer unreadable", outcome{apply: true, status: 201, body: `{"side_conv`}, 1, true},
		{"applied, answer null", outcome{apply: true, status: 201, body: `null`}, 1, true},
		{"not applied, 502", outcome{apply: false, status: 502}, 0, false},
		{"not applied, 530", outcome{apply: false, status: 530}, 0, false},
		{"not applied, reset", outcome{apply: false, err: readReset}, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mt, _ := newMockClient(t)
			k := &keyedStore{outcomes: []outcome{tc.outcome}}
			k.install(mt)
			res, resp, err := keyedCreate(c, "job-1")
			posts, convs, _ := k.counts()
			assert.Equal(t, 1, posts, "never resent")
			assert.Equal(t, tc.wantConvs, convs, "conversations made")
			if !tc.found {
				require.ErrorIs(t, err, ErrMaybeSent)
				assert.Nil(t, res)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "sc-1", res.SideConversation.ID)
			assert.True(t, resp.FoundByIdempotencyKey)
		})
	}
}

// A 504 while Zendesk commits the conversation later: the call and a
// retried call before the commit send nothing more; after the commit the
// key finds the conversation; one conversation in all.
func TestIdempotentCreateSlowCommit(t *testing.T) {
	t.Parallel()
	c, mt, w := newMockClient(t)
	k := &keyedStore{outcomes: []outcome{{apply: false, status: 504}}}
	k.install(mt)

	_, _, err := keyedCreate(c, "job-slow")
	require.ErrorIs(t, err, ErrMaybeSent)
	_, _, err = keyedCreate(c, "job-slow")
	require.ErrorIs(t, err, ErrMaybeSent, "a retry before the commit does not send")
	assert.Contains(t, err.Error(), "may still take effect")
	posts, convs, _ := k.counts()
	assert.Equal(t, 1, posts)
	assert.Zero(t, convs)

	k.commit()
	w.advance(time.Minute)
	res, resp, err := keyedCreate(c, "job-slow")
	require.NoError(t, err)
	assert.True(t, resp.FoundByIdempotencyKey)
	assert.Equal(t, "sc-1", res.SideConversation.ID)
	posts, convs, _ = k.counts()
	assert.Equal(t, 1, posts)
	assert.Equal(t, 1, convs)
}

// When the settle time has passed and no lookup found the message, it was
// never made: the next call sends it.
func TestIdempotentCreateSendsAfterTheSettleTime(t *testing.T) {
	t.Parallel()
	c, mt, w := newMockClient(t, WithSettleTime(5*time.Minute))
	k := &keyedStore{outcomes: []outcome{{apply: false, err: readReset}}}
	k.install(mt)
	_, _, err := keyedCreate(c, "job-lost")
	require.ErrorIs(t, err, ErrMaybeSent)

	w.advance(5*time.Minute - time.Second)
	_, _, err = keyedCreate(c, "job-lost")
	require.ErrorIs(t, err, ErrMaybeSent)

	w.advance(time.Second)
	res, resp, err := keyedCreate(c, "job-lost")
	require.NoError(t, err)
	assert.False(t, resp.FoundByIdempotencyKey)
	assert.Equal(t, "sc-2", res.SideConversation.ID)
	posts, convs, _ := k.counts()
	assert.Equal(t, 2, posts)
	assert.Equal(t, 1, convs, "the lost request made nothing; the new one made one")
}

// gateCoordinator tells the test when calls reach the key lock.
type gateCoordinator struct {
	Coordinator
	entered chan struct{}
}

func (g *gateCoordinator) LockKey(ctx context.Context, account, key string) (KeyLock, KeyRecord, error) {
	g.entered <- struct{}{}
	return g.Coordinator.LockKey(ctx, account, key)
}

// Concurrent callers with one key: one message, every caller gets it.
func TestIdempotentCreateConcurrentCallers(t *testing.T) {
	t.Parallel()
	const callers = 8
	gate := &gateCoordinator{Coordinator: newLocalCoordinator(RateLimits{}), entered: make(chan struct{}, callers)}
	c, mt, _ := newMockClient(t, WithCoordinator(gate))
	k := &keyedStore{}
	release := make(chan struct{})
	k.postHook = func() { <-release }
	k.install(mt)

	type result struct {
		id    string
		found bool
		err   error
	}
	results := make(chan result, callers)
	for range callers {
		go func() {
			res, resp, err := keyedCreate(c, "job-crowd")
			r := result{err: err}
			if err == nil {
				r.id, r.found = res.SideConversation.ID, resp.FoundByIdempotencyKey
			}
			results <- r
		}()
	}
	for range callers {
		<-gate.entered // every caller has asked for the key
	}
	close(release)
	found := 0
	for range callers {
		r := <-results
		require.NoError(t, r.err)
		assert.Equal(t, "sc-1", r.id)
		if r.found {
			found++
		}
	}
	assert.Equal(t, callers-1, found)
	posts, convs, _ := k.counts()
	assert.Equal(t, 1, posts)
	assert.Equal(t, 1, convs)
}

// A key used again for another message is an error, whether the client
// remembers the key or finds it in Zendesk; nothing is sent.
func TestIdempotencyKeyReused(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	k := &keyedStore{}
	k.install(mt)
	_, _, err := keyedCreate(c, "job-9")
	require.NoError(t, err)

	other := CreateRequest{Message: emailMessage, IdempotencyKey: "job-9"}
	other.Message.Body = "Another text"
	_, _, err = c.SideConversations.Create(context.Background(), 42, other)
	require.ErrorIs(t, err, ErrIdempotencyKeyReused)
	assert.Contains(t, err.Error(), `"job-9"`)

	c2, _, _ := newMockClient(t)
	c2.http.Transport.(*authTransport).base = mt
	_, _, err = c2.SideConversations.Create(context.Background(), 42, other)
	require.ErrorIs(t, err, ErrIdempotencyKeyReused)
	assert.Contains(t, err.Error(), "side conversation sc-1")
	posts, _, _ := k.counts()
	assert.Equal(t, 1, posts)

	// Attachment ids are not part of the fingerprint: a retried job may
	// upload its files again.
	again := CreateRequest{Message: emailMessage, IdempotencyKey: "job-9"}
	again.Message.AttachmentIDs = []string{"s3-new-upload"}
	_, resp, err := c2.SideConversations.Create(context.Background(), 42, again)
	require.NoError(t, err)
	assert.True(t, resp.FoundByIdempotencyKey)

	// A conversation keyed by an earlier version, without a fingerprint,
	// is taken as made for this request.
	k.mu.Lock()
	k.convs = append(k.convs, map[string]any{"id": "sc-legacy", "external_ids": map[string]string{idempotencyKeyField: "job-old"}})
	k.mu.Unlock()
	res, resp, err := keyedCreate(c2, "job-old")
	require.NoError(t, err)
	assert.True(t, resp.FoundByIdempotencyKey)
	assert.Equal(t, "sc-legacy", res.SideConversation.ID)
}

// The lookup stops at the first match: later pages are not asked for.
func TestIdempotentCreateLookupStopsAtTheMatch(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	var lists []string
	mt.RegisterResponder(http.MethodGet, testRoot+"tickets/42/side_conversations", func(req *http.Request) (*http.Response, error) {
		lists = append(lists, req.URL.RequestURI())
		return reply(200, `{"side_conversations":[{"id":"a"},{"id":"sc-k","external_ids":{"sideconv_idempotency_key":"k"}}],
			"next_page":"`+testRoot+`tickets/42/side_conversations?page=2&per_page=100"}`)(req)
	})
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/sc-k", reply(200,
		`{"side_conversation":{"id":"sc-k"},"events":[{"id":"e1","side_conversation_id":"sc-k","type":"create"}]}`))
	res, resp, err := keyedCreate(c, "k")
	require.NoError(t, err)
	assert.True(t, resp.FoundByIdempotencyKey)
	assert.Equal(t, "e1", res.Event.ID)
	assert.Equal(t, []string{"/api/v2/tickets/42/side_conversations?per_page=100"}, lists)
}

func TestIdempotentCreateLookupFailures(t *testing.T) {
	t.Parallel()
	// Before sending: the lookup fails, nothing is sent.
	c, mt, _ := newMockClient(t)
	k := &keyedStore{listErr: 403}
	k.install(mt)
	_, _, err := keyedCreate(c, "job-1")
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrForbidden)
	assert.NotErrorIs(t, err, ErrMaybeSent)
	assert.Contains(t, err.Error(), "nothing was sent")
	posts, _, _ := k.counts()
	assert.Zero(t, posts)

	// After an ambiguous failure: the lookup fails, the error says both.
	c2, mt2, _ := newMockClient(t)
	k2 := &keyedStore{outcomes: []outcome{{apply: true, status: 500}}}
	k2.install(mt2)
	calls := 0
	mt2.RegisterResponder(http.MethodGet, testRoot+"tickets/42/side_conversations", func(req *http.Request) (*http.Response, error) {
		calls++
		if calls == 1 {
			return reply(200, `{"side_conversations":[],"next_page":null}`)(req)
		}
		return reply(403, `{"error":"Forbidden"}`)(req)
	})
	_, _, err = keyedCreate(c2, "job-1")
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrMaybeSent)
	assert.ErrorIs(t, err, ErrForbidden)
	assert.ErrorIs(t, err, ErrServer)
	assert.Contains(t, err.Error(), "after a failure that may have reached Zendesk failed")
	assert.Contains(t, err.Error(), "the send failed with")
	posts, convs, _ := k2.counts()
	assert.Equal(t, 1, posts)
	assert.Equal(t, 1, convs)
}

// lostCoordinator loses every key lock before the send is recorded.
type lostCoordinator struct{ Coordinator }

type lostLock struct{ KeyLock }

func (lostLock) Record(context.Context, KeyRecord) error { return ErrLockLost }

func (l lostCoordinator) LockKey(ctx context.Context, account, key string) (KeyLock, KeyRecord, error) {
	lock, rec, err := l.Coordinator.LockKey(ctx, account, key)
	return lostLock{lock}, rec, err
}

// A lock found lost right before sending stops the send.
func TestIdempotentCreateLockLost(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t, WithCoordinator(lostCoordinator{newLocalCoordinator(RateLimits{})}))
	k := &keyedStore{}
	k.install(mt)
	_, _, err := keyedCreate(c, "job-1")
	require.ErrorIs(t, err, ErrLockLost)
	assert.NotErrorIs(t, err, ErrMaybeSent)
	assert.Contains(t, err.Error(), "not sent")
	posts, _, _ := k.counts()
	assert.Zero(t, posts)
}

func TestIdempotentReply(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	k := &keyedStore{outcomes: []outcome{{apply: true, status: 502}}}
	k.install(mt)
	res, resp, err := keyedReply(c, "reply-key")
	require.NoError(t, err)
	assert.True(t, resp.FoundByIdempotencyKey)
	assert.Equal(t, "reply-1", res.Event.ID)
	assert.Equal(t, convID, res.SideConversation.ID)
	posts, _, replies := k.counts()
	assert.Equal(t, 1, posts)
	assert.Equal(t, 1, replies)
	ids := k.replies[0]["message"].(Message).ExternalIDs
	assert.Equal(t, "reply-key", ids[idempotencyKeyField])
	assert.Len(t, ids[fingerprintField], 32)

	// Again: found before sending.
	_, resp, err = keyedReply(c, "reply-key")
	require.NoError(t, err)
	assert.True(t, resp.FoundByIdempotencyKey)
	posts, _, replies = k.counts()
	assert.Equal(t, 1, posts)
	assert.Equal(t, 1, replies)

	// Not applied: ErrMaybeSent, no resend.
	k2 := &keyedStore{outcomes: []outcome{{apply: false, status: 504}}}
	c2, mt2, _ := newMockClient(t)
	k2.install(mt2)
	_, _, err = keyedReply(c2, "reply-key")
	require.ErrorIs(t, err, ErrMaybeSent)
	posts, _, replies = k2.counts()
	assert.Equal(t, 1, posts)
	assert.Zero(t, replies)
}

func TestUnkeyedCreateMaybeSentIsNotRecovered(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	k := &keyedStore{outcomes: []outcome{{apply: true, err: readReset}}}
	k.install(mt)
	_, _, err := createOn(c)
	assert.ErrorIs(t, err, ErrMaybeSent)
	posts, convs, _ := k.counts()
	assert.Equal(t, 1, posts)
	assert.Equal(t, 1, convs)
	assert.Empty(t, k.requests(), "no key, no lookup")
}

// The reply was found, but the conversation to return with it could not be
// read: the error says so, and nothing is sent again.
func TestIdempotentReplyFoundButShowFails(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	k := &keyedStore{outcomes: []outcome{{apply: true, status: 502}}}
	k.install(mt)
	register(mt, http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, reply(404, `{"error":"RecordNotFound","description":"Not found"}`))
	_, _, err := keyedReply(c, "reply-key")
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorIs(t, err, ErrMaybeSent)
	posts, _, replies := k.counts()
	assert.Equal(t, 1, posts)
	assert.Equal(t, 1, replies)
}

// The local coordinator's key records expire, and idle keys are dropped.
func TestLocalKeyRecords(t *testing.T) {
	t.Parallel()
	w := &waits{}
	l := newLocalCoordinator(RateLimits{})
	l.now = w.nowFunc
	ctx := context.Background()
	lock, rec, err := l.LockKey(ctx, "a", "k")
	require.NoError(t, err)
	assert.Zero(t, rec)
	require.NoError(t, lock.Record(ctx, KeyRecord{State: KeySent, ConversationID: "c1", TTL: time.Minute}))
	lock.Unlock()
	lock.Unlock() // a second Unlock does nothing
	require.ErrorIs(t, lock.Record(ctx, KeyRecord{State: KeySent}), ErrLockLost)

	lock, rec, err = l.LockKey(ctx, "a", "k")
	require.NoError(t, err)
	assert.Equal(t, "c1", rec.ConversationID)
	lock.Unlock()
	_, rec, err = l.LockKey(ctx, "b", "k")
	require.NoError(t, err)
	assert.Zero(t, rec, "accounts are apart")

	w.advance(time.Minute)
	lock, rec, err = l.LockKey(ctx, "a", "k")
	require.NoError(t, err)
	assert.Zero(t, rec, "expired")
	lock.Unlock()

	// A waiter whose context ends stops waiting.
	held, _, err := l.LockKey(ctx, "a", "busy")
	require.NoError(t, err)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, _, err = l.LockKey(cctx, "a", "busy")
	require.ErrorIs(t, err, context.Canceled)
	held.Unlock()
	l.mu.Lock()
	_, kept := l.keys["a\x00busy"]
	l.mu.Unlock()
	assert.False(t, kept, "an idle key without a record is dropped")
}

// A message the record says was sent is never sent again, also when a
// lookup cannot see it yet (an events list that lags behind the reply).
func TestIdempotentReplyRecordedButNotListedYet(t *testing.T) {
	t.Parallel()
	c, mt, w := newMockClient(t)
	k := &keyedStore{}
	k.install(mt)
	_, _, err := keyedReply(c, "reply-lag")
	require.NoError(t, err)
	k.mu.Lock()
	listed := k.replies
	k.replies = nil // the events list does not show the reply yet
	k.mu.Unlock()

	_, _, err = keyedReply(c, "reply-lag")
	require.ErrorIs(t, err, ErrMaybeSent)
	assert.Contains(t, err.Error(), "made its message, but a lookup does not find it yet")
	posts, _, _ := k.counts()
	assert.Equal(t, 1, posts, "not sent again")

	k.mu.Lock()
	k.replies = listed
	k.mu.Unlock()
	w.advance(time.Minute)
	res, resp, err := keyedReply(c, "reply-lag")
	require.NoError(t, err)
	assert.True(t, resp.FoundByIdempotencyKey)
	assert.Equal(t, "reply-1", res.Event.ID)
}

// The fingerprint covers what is sent, not the read-only fields a Message
// taken from an answer may hold.
func TestFingerprintCoversWhatIsSent(t *testing.T) {
	t.Parallel()
	svc := &SideConversationsService{}
	plain := ReplyRequest{Message: emailMessage, IdempotencyKey: "k"}
	withReadOnly := plain
	withReadOnly.Message.PreviewText = "filled by Zendesk"
	withReadOnly.Message.HTMLBody = "<p>b</p>"
	withReadOnly.Message.Attachments = []Attachment{{ID: "a"}}
	assert.Equal(t, svc.keyedReply(42, convID, plain).fingerprint, svc.keyedReply(42, convID, withReadOnly).fingerprint)
	create := CreateRequest{Message: emailMessage, IdempotencyKey: "k"}
	createRO := create
	createRO.Message = withReadOnly.Message
	assert.Equal(t, svc.keyedCreate(42, create).fingerprint, svc.keyedCreate(42, createRO).fingerprint)

	changed := plain
	changed.Message.Body = "another body"
	assert.NotEqual(t, svc.keyedReply(42, convID, plain).fingerprint, svc.keyedReply(42, convID, changed).fingerprint)
}

// A nil context is refused on a keyed call as on any other: nothing is
// sent, and nothing panics.
func TestKeyedCallWithNilContext(t *testing.T) {
	t.Parallel()
	c, mt, _ := newMockClient(t)
	k := &keyedStore{}
	k.install(mt)
	//nolint:staticcheck // SA1012: the nil context is the point
	_, _, err := c.SideConversations.Create(nil, 42, CreateRequest{Message: emailMessage, IdempotencyKey: "k"})
	var v *ValidationError
	require.ErrorAs(t, err, &v)
	assert.Equal(t, "ctx", v.Field)
	posts, _, _ := k.counts()
	assert.Zero(t, posts)
	assert.Empty(t, k.requests())
}

// A settle time shorter than an attempt's timeout, the default one
// included, is refused: a send could still be on its way when it ends.
func TestSettleTimeNotShorterThanTheTimeout(t *testing.T) {
	t.Parallel()
	_, err := NewClient("acme", APIToken(testEmail, testToken), WithSettleTime(time.Second))
	require.ErrorContains(t, err, "shorter than the HTTP client's timeout (1m0s)")
	_, err = NewClient("acme", APIToken(testEmail, testToken), WithSettleTime(time.Minute),
		WithHTTPClient(&http.Client{Timeout: 2 * time.Minute}))
	require.ErrorContains(t, err, "(2m0s)")
	_, err = NewClient("acme", APIToken(testEmail, testToken), WithSettleTime(time.Second), WithHTTPClient(&http.Client{}))
	require.NoError(t, err, "no timeout to compare with")
	_, err = NewClient("acme", APIToken(testEmail, testToken), WithSettleTime(0))
	require.Error(t, err)
}
