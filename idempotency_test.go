package zendesk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"

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
	listErr  int // status for lookups, 0 for a normal answer
	gets     int
}

func (k *keyedStore) next() outcome {
	if k.posts-1 < len(k.outcomes) {
		return k.outcomes[k.posts-1]
	}
	return outcome{apply: true, status: 201}
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
		k.mu.Lock()
		k.posts++
		o := k.next()
		id := fmt.Sprintf("sc-%d", len(k.convs)+1)
		if o.apply {
			k.convs = append(k.convs, map[string]any{"id": id, "external_ids": body.ExternalIDs, "subject": body.Message.Subject})
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
		return reply(o.status, fmt.Sprintf(`{"side_conversation":{"id":%q},"event":{"id":%q,"type":"reply"}}`, convID, id))(req)
	})
	mt.RegisterResponder(http.MethodGet, testRoot+"tickets/42/side_conversations", func(req *http.Request) (*http.Response, error) {
		k.mu.Lock()
		defer k.mu.Unlock()
		k.gets++
		if k.listErr != 0 {
			return reply(k.listErr, `{"error":"Forbidden"}`)(req)
		}
		var events []map[string]any
		for _, c := range k.convs {
			if req.URL.Query().Get("include") != "events" {
				break
			}
			events = append(events, map[string]any{"id": "ev-" + c["id"].(string), "side_conversation_id": c["id"], "type": "create"})
		}
		b, _ := json.Marshal(map[string]any{"side_conversations": k.convs, "events": events, "next_page": nil, "count": len(k.convs)})
		return reply(200, string(b))(req)
	})
	mt.RegisterResponder(http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID+"/events", func(req *http.Request) (*http.Response, error) {
		k.mu.Lock()
		defer k.mu.Unlock()
		k.gets++
		if k.listErr != 0 {
			return reply(k.listErr, `{"error":"Forbidden"}`)(req)
		}
		b, _ := json.Marshal(map[string]any{"events": k.replies, "next_page": nil, "count": len(k.replies)})
		return reply(200, string(b))(req)
	})
	mt.RegisterResponder(http.MethodGet, testRoot+"tickets/42/side_conversations/"+convID, func(req *http.Request) (*http.Response, error) {
		return reply(200, fmt.Sprintf(`{"side_conversation":{"id":%q,"state":"open"}}`, convID))(req)
	})
}

func (k *keyedStore) counts() (posts, convs, replies int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.posts, len(k.convs), len(k.replies)
}

func keyedCreate(c *Client, key string) (*SideConversationResult, *Response, error) {
	return c.SideConversations.Create(context.Background(), 42, CreateRequest{Message: emailMessage, IdempotencyKey: key})
}

func keyedReply(c *Client, key string) (*SideConversationResult, *Response, error) {
	return c.SideConversations.Reply(context.Background(), 42, convID, ReplyRequest{Message: emailMessage, IdempotencyKey: key})
}

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
	assert.Equal(t, map[string]string{idempotencyKeyField: "job-7"}, k.convs[0]["external_ids"], "the key travels in external_ids")
	assert.Equal(t, 1, k.gets, "one lookup before sending")
}

// Calling again with the same key returns the first result and sends nothing.
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

	_, _, err = keyedCreate(c, "job-8")
	require.NoError(t, err)
	_, convs, _ = k.counts()
	assert.Equal(t, 2, convs, "another key is another conversation")
}

func TestIdempotentCreateRecovers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		outcomes   []outcome
		wantPosts  int
		wantConvs  int
		wantErr    bool
		foundByKey bool
	}{
		{"applied, answer lost as 504", []outcome{{apply: true, status: 504}}, 1, 1, false, true},
		{"applied, connection reset", []outcome{{apply: true, err: readReset}}, 1, 1, false, true},
		{"applied, answer unreadable", []outcome{{apply: true, status: 201, body: `{"side_conv`}}, 1, 1, false, true},
		{"not applied, 502, resent once", []outcome{{apply: false, status: 502}}, 2, 1, false, false},
		{"not applied, reset, resent once", []outcome{{apply: false, err: readReset}}, 2, 1, false, false},
		{"not applied twice: gives up", []outcome{{apply: false, status: 500}, {apply: false, status: 500}}, 2, 0, true, false},
		{"second try lost: found", []outcome{{apply: false, status: 500}, {apply: true, status: 504}}, 2, 1, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mt, _ := newMockClient(t)
			k := &keyedStore{outcomes: tc.outcomes}
			k.install(mt)
			res, resp, err := keyedCreate(c, "job-1")
			posts, convs, _ := k.counts()
			assert.Equal(t, tc.wantPosts, posts, "POSTs that reached Zendesk")
			assert.Equal(t, tc.wantConvs, convs, "conversations made")
			if tc.wantErr {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrMaybeSent)
				assert.Nil(t, res)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "sc-1", res.SideConversation.ID)
			assert.Equal(t, tc.foundByKey, resp.FoundByIdempotencyKey)
		})
	}
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
	assert.Contains(t, err.Error(), "after an ambiguous failure failed")
	assert.Contains(t, err.Error(), "the send failed with")
	posts, convs, _ := k2.counts()
	assert.Equal(t, 1, posts)
	assert.Equal(t, 1, convs)
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
	assert.Equal(t, map[string]string{idempotencyKeyField: "reply-key"}, k.replies[0]["message"].(Message).ExternalIDs)

	// Again: found before sending.
	_, resp, err = keyedReply(c, "reply-key")
	require.NoError(t, err)
	assert.True(t, resp.FoundByIdempotencyKey)
	posts, _, replies = k.counts()
	assert.Equal(t, 1, posts)
	assert.Equal(t, 1, replies)
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
	assert.Zero(t, k.gets, "no key, no lookup")
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
