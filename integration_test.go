package zendesk_test

// The integration suite: the real client against zendesktest, for every
// endpoint and for every error answer the client can reach. Each test
// checks what the client returned and what the server holds afterwards.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

// t0 is the first time the test clock gives; every later call is a second
// later, so each change the server stamps has a time of its own.
var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

// at is the time of the n-th stamp of the test clock (0-based).
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

// tickingClock returns t0, t0+1s, t0+2s, ... one per call.
type tickingClock struct {
	mu   sync.Mutex
	next time.Time
}

func (c *tickingClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.next
	c.next = c.next.Add(time.Second)
	return t
}

// noWait replaces the retry pauses so that nothing sleeps.
func noWait(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// waitRecorder records the pauses the client asks for instead of sleeping.
type waitRecorder struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waitRecorder) wait(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waitRecorder) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

// startServer starts a server on the ticking clock (opts may replace it)
// and a client for it whose retries never sleep.
func startServer(t *testing.T, opts ...zendesktest.Option) (*zendesktest.Server, *zendesk.Client) {
	t.Helper()
	clock := &tickingClock{next: t0}
	srv := zendesktest.Start(t, append([]zendesktest.Option{zendesktest.WithClock(clock.now)}, opts...)...)
	return srv, srv.Client(zendesk.WithRetryPolicy(zendesk.RetryPolicy{Wait: noWait}))
}

func emailRequest(subject string) zendesk.CreateRequest {
	return zendesk.CreateRequest{Message: zendesk.Message{
		Subject: subject,
		Body:    "About " + subject,
		To:      []zendesk.Participant{zendesk.Email("someone@example.com")},
	}}
}

func replyRequest(body string) zendesk.ReplyRequest {
	return zendesk.ReplyRequest{Message: zendesk.Message{
		Body: body,
		To:   []zendesk.Participant{zendesk.Email("someone@example.com")},
	}}
}

// mustCreate creates an e-mail side conversation on ticket and returns it.
func mustCreate(t *testing.T, client *zendesk.Client, ticket int64, subject string) zendesk.SideConversation {
	t.Helper()
	res, _, err := client.SideConversations.Create(context.Background(), ticket, emailRequest(subject))
	require.NoError(t, err)
	return res.SideConversation
}

// requestBody decodes the JSON body of a recorded request.
func requestBody(t *testing.T, r zendesktest.RecordedRequest) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body %s", r.Body)
	return m
}

func lastRequest(t *testing.T, srv *zendesktest.Server) zendesktest.RecordedRequest {
	t.Helper()
	reqs := srv.Requests()
	require.NotEmpty(t, reqs)
	return reqs[len(reqs)-1]
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = id(it)
	}
	return out
}

func convID(sc zendesk.SideConversation) string { return sc.ID }
func eventID(ev zendesk.Event) string           { return ev.ID }

func eventTypes(evs []zendesk.Event) []zendesk.EventType {
	out := make([]zendesk.EventType, len(evs))
	for i, ev := range evs {
		out[i] = ev.Type
	}
	return out
}

// conversationIDs are the ids the fake gives, in order.
func conversationIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("5c000000-0000-4000-8000-%012d", i+1)
	}
	return out
}

func agent() zendesk.Participant {
	return zendesk.Participant{UserID: zendesktest.AgentUserID, Name: zendesktest.AgentName, Email: zendesktest.DefaultEmail}
}

// --- Endpoints ---------------------------------------------------------

func TestIntegrationCreateChannels(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		to      zendesk.Participant
		channel zendesk.Channel
		wire    map[string]any // the recipient as sent
	}{
		{"email", zendesk.NamedEmail("johnny@example.com", "Johnny"), zendesk.ChannelEmail,
			map[string]any{"email": "johnny@example.com", "name": "Johnny"}},
		{"slack", zendesk.SlackChannel("T024BE7LD", "C0BEBT10X"), zendesk.ChannelSlack,
			map[string]any{"slack_workspace_id": "T024BE7LD", "slack_channel_id": "C0BEBT10X"}},
		{"teams", zendesk.TeamsChannel("19:abc@thread.tacv2"), zendesk.ChannelMSTeams,
			map[string]any{"msteams_channel_id": "19:abc@thread.tacv2"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, client := startServer(t)
			res, resp, err := client.SideConversations.Create(context.Background(), 1, zendesk.CreateRequest{
				Message: zendesk.Message{
					Subject: "Printer on fire",
					Body:    "Can you send someone?",
					To:      []zendesk.Participant{tc.to},
				},
				ExternalIDs: map[string]string{"crm": "A-1"},
			})
			require.NoError(t, err)

			assert.Equal(t, http.StatusCreated, resp.StatusCode)
			assert.Equal(t, 1, resp.Attempts)
			assert.NotEmpty(t, resp.RequestID)
			assert.False(t, resp.FoundByIdempotencyKey)

			sc := res.SideConversation
			assert.Equal(t, conversationIDs(1)[0], sc.ID)
			assert.Equal(t, int64(1), sc.TicketID)
			assert.Equal(t, "Printer on fire", sc.Subject)
			assert.Equal(t, zendesk.StateOpen, sc.State)
			assert.Equal(t, "A-1", sc.ExternalIDs["crm"])
			assert.True(t, sc.CreatedAt.Equal(at(0)), "created_at %s", sc.CreatedAt)
			assert.True(t, sc.MessageAddedAt.Equal(at(0)))
			assert.True(t, sc.StateUpdatedAt.Equal(at(0)))
			assert.Equal(t, []zendesk.Participant{agent(), tc.to}, sc.Participants)
			_, isChild := sc.ChildTicketID()
			assert.False(t, isChild)

			ev := res.Event
			assert.Equal(t, zendesk.EventCreate, ev.Type)
			assert.Equal(t, sc.ID, ev.SideConversationID)
			assert.Equal(t, zendesktest.AgentUserID, ev.Actor.UserID)
			require.NotNil(t, ev.Message)
			require.Len(t, ev.Message.To, 1)
			assert.Equal(t, tc.channel, ev.Message.To[0].Channel())
			assert.Equal(t, tc.to, ev.Message.To[0])
			assert.Equal(t, "Can you send someone?", ev.Message.Body)

			// The server holds one conversation with its create event, and
			// sent one message.
			stored := srv.SideConversations(1)
			require.Len(t, stored, 1)
			assert.Equal(t, sc.ID, stored[0].ID)
			assert.Equal(t, []zendesk.EventType{zendesk.EventCreate}, eventTypes(stored[0].Events))
			sent := srv.SentMessages()
			require.Len(t, sent, 1)
			assert.Equal(t, ev.ID, sent[0].ID)
			assert.Equal(t, tc.to, sent[0].Message.To[0])

			reqs := srv.Requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, http.MethodPost, reqs[0].Method)
			assert.Equal(t, "/api/v2/tickets/1/side_conversations", reqs[0].Path)
			assert.True(t, reqs[0].Authorized)
			body := requestBody(t, reqs[0])
			msg := body["message"].(map[string]any)
			assert.Equal(t, []any{tc.wire}, msg["to"])
			assert.Equal(t, map[string]any{"crm": "A-1"}, body["external_ids"])
		})
	}
}

func TestIntegrationCreateChildTicket(t *testing.T) {
	t.Parallel()
	srv, client := startServer(t)
	ctx := context.Background()

	// The child ticket does not exist before the side conversation makes it.
	_, _, err := client.SideConversations.List(ctx, zendesktest.FirstChildTicketID, nil)
	require.ErrorIs(t, err, zendesk.ErrNotFound)

	res, _, err := client.SideConversations.Create(ctx, 1, zendesk.CreateRequest{Message: zendesk.Message{
		Subject: "Replace the fuser",
		Body:    "Hardware team, please take this one.",
		To:      []zendesk.Participant{zendesk.SupportAgent(360001, 77)},
	}})
	require.NoError(t, err)
	child, ok := res.SideConversation.ChildTicketID()
	require.True(t, ok, "external_ids %v", res.SideConversation.ExternalIDs)
	assert.Equal(t, zendesktest.FirstChildTicketID, child)
	assert.Equal(t, zendesk.SupportAgent(360001, 77), res.Event.Message.To[0])
	assert.Equal(t, zendesk.ChannelChildTicket, res.Event.Message.To[0].Channel())

	// Group and agent ids go out as numbers.
	msg := requestBody(t, lastRequest(t, srv))["message"].(map[string]any)
	assert.Equal(t, []any{map[string]any{"support_group_id": float64(360001), "support_agent_id": float64(77)}}, msg["to"])

	stored := srv.SideConversations(1)
	require.Len(t, stored, 1)
	storedChild, ok := stored[0].ChildTicketID()
	require.True(t, ok)
	assert.Equal(t, child, storedChild)

	// The server knows the child ticket now: it lists (nothing yet) and
	// takes side conversations of its own.
	convs, resp, err := client.SideConversations.List(ctx, child, nil)
	require.NoError(t, err)
	assert.Empty(t, convs)
	assert.Equal(t, 0, resp.Count)
	own := mustCreate(t, client, child, "Parts for the fuser")
	assert.Equal(t, child, own.TicketID)
	require.Len(t, srv.SideConversations(child), 1)

	// The next child ticket gets the next id.
	res2, _, err := client.SideConversations.Create(ctx, 1, zendesk.CreateRequest{Message: zendesk.Message{
		Body: "Another group", To: []zendesk.Participant{zendesk.SupportGroup(360002)},
	}})
	require.NoError(t, err)
	child2, ok := res2.SideConversation.ChildTicketID()
	require.True(t, ok)
	assert.Equal(t, zendesktest.FirstChildTicketID+1, child2)
	assert.Len(t, srv.SentMessages(), 3)
}

func TestIntegrationList(t *testing.T) {
	t.Parallel()
	srv, client := startServer(t)
	ctx := context.Background()
	first := mustCreate(t, client, 1, "First")
	second := mustCreate(t, client, 1, "Second")
	third := mustCreate(t, client, 1, "Third")
	_, _, err := client.SideConversations.Reply(ctx, 1, second.ID, replyRequest("More on the second"))
	require.NoError(t, err)

	// Plain.
	{
		convs, resp, err := client.SideConversations.List(ctx, 1, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{first.ID, second.ID, third.ID}, ids(convs, convID))
		assert.Equal(t, []string{"First", "Second", "Third"}, []string{convs[0].Subject, convs[1].Subject, convs[2].Subject})
		assert.Equal(t, 3, resp.Count)
		assert.Empty(t, resp.NextPage)
		assert.Empty(t, resp.PreviousPage)
		for _, sc := range convs {
			assert.Nil(t, sc.Events, "events of %s without IncludeEvents", sc.ID)
		}
		// The conversation shows the reply the server stored.
		assert.True(t, convs[1].MessageAddedAt.Equal(srv.SideConversations(1)[1].MessageAddedAt))
		r := lastRequest(t, srv)
		assert.Equal(t, http.MethodGet, r.Method)
		assert.Equal(t, "/api/v2/tickets/1/side_conversations", r.Path)
		assert.Empty(t, r.Query)
	}

	// Include events.
	{
		convs, _, err := client.SideConversations.List(ctx, 1, &zendesk.ListOptions{IncludeEvents: true})
		require.NoError(t, err)
		require.Len(t, convs, 3)
		stored := srv.SideConversations(1)
		for i, sc := range convs {
			assert.Equal(t, ids(stored[i].Events, eventID), ids(sc.Events, eventID), "events of %s", sc.ID)
			for _, ev := range sc.Events {
				assert.Equal(t, sc.ID, ev.SideConversationID)
			}
		}
		assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventReply}, eventTypes(convs[1].Events))
		assert.Equal(t, "events", lastRequest(t, srv).Query.Get("include"))
	}

	// Per page.
	{
		convs, resp, err := client.SideConversations.List(ctx, 1, &zendesk.ListOptions{PerPage: 2})
		require.NoError(t, err)
		assert.Equal(t, []string{first.ID, second.ID}, ids(convs, convID))
		assert.Equal(t, 3, resp.Count)
		assert.Contains(t, resp.NextPage, "page=2")
		assert.Empty(t, resp.PreviousPage)
		assert.Equal(t, "2", lastRequest(t, srv).Query.Get("per_page"))

		convs, resp, err = client.SideConversations.List(ctx, 1, &zendesk.ListOptions{Page: 2, PerPage: 2})
		require.NoError(t, err)
		assert.Equal(t, []string{third.ID}, ids(convs, convID))
		assert.Empty(t, resp.NextPage)
		assert.Contains(t, resp.PreviousPage, "page=1")
		q := lastRequest(t, srv).Query
		assert.Equal(t, "2", q.Get("page"))
		assert.Equal(t, "2", q.Get("per_page"))
	}
}

func TestIntegrationListIter(t *testing.T) {
	t.Parallel()
	srv, client := startServer(t)
	ctx := context.Background()
	for i := range 7 {
		sc := mustCreate(t, client, 1, "Conversation "+strconv.Itoa(i+1))
		_, _, err := client.SideConversations.Reply(ctx, 1, sc.ID, replyRequest("Reply "+strconv.Itoa(i+1)))
		require.NoError(t, err)
	}
	want := conversationIDs(7)

	// Every page.
	{
		srv.ResetRequests()
		var got []string
		for sc, err := range client.SideConversations.ListIter(ctx, 1, &zendesk.ListOptions{PerPage: 3}) {
			require.NoError(t, err)
			got = append(got, sc.ID)
		}
		assert.Equal(t, want, got)

		reqs := srv.Requests()
		require.Len(t, reqs, 3, "pages of 3, 3 and 1")
		for i, r := range reqs {
			assert.Equal(t, http.MethodGet, r.Method)
			assert.Equal(t, "/api/v2/tickets/1/side_conversations", r.Path)
			assert.Equal(t, "3", r.Query.Get("per_page"), "request %d", i)
		}
		assert.Empty(t, reqs[0].Query.Get("page"))
		assert.Equal(t, "2", reqs[1].Query.Get("page"))
		assert.Equal(t, "3", reqs[2].Query.Get("page"))
	}

	// With events.
	{
		stored := srv.SideConversations(1)
		i := 0
		for sc, err := range client.SideConversations.ListIter(ctx, 1, &zendesk.ListOptions{PerPage: 3, IncludeEvents: true}) {
			require.NoError(t, err)
			require.Less(t, i, len(stored))
			assert.Equal(t, ids(stored[i].Events, eventID), ids(sc.Events, eventID), "events of %s", sc.ID)
			assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventReply}, eventTypes(sc.Events))
			i++
		}
		assert.Equal(t, 7, i)
	}

	// Break stops fetching.
	{
		srv.ResetRequests()
		var got []string
		for sc, err := range client.SideConversations.ListIter(ctx, 1, &zendesk.ListOptions{PerPage: 3}) {
			require.NoError(t, err)
			got = append(got, sc.ID)
			if len(got) == 4 {
				break
			}
		}
		assert.Equal(t, want[:4], got)
		assert.Len(t, srv.Requests(), 2, "the third page is never asked for")
	}

	// Lazy.
	{
		srv.ResetRequests()
		seq := client.SideConversations.ListIter(ctx, 1, nil)
		assert.Empty(t, srv.Requests(), "nothing before the loop starts")
		n := 0
		for _, err := range seq {
			require.NoError(t, err)
			n++
		}
		assert.Equal(t, 7, n)
		assert.Len(t, srv.Requests(), 1)
	}
}

func TestIntegrationShow(t *testing.T) {
	t.Parallel()
	srv, client := startServer(t)
	ctx := context.Background()
	created := mustCreate(t, client, 1, "Show me")
	_, _, err := client.SideConversations.Reply(ctx, 1, created.ID, replyRequest("Second message"))
	require.NoError(t, err)
	stored := srv.SideConversations(1)[0]

	sc, resp, err := client.SideConversations.Show(ctx, 1, created.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, created.ID, sc.ID)
	assert.Equal(t, "Show me", sc.Subject)
	assert.Equal(t, zendesk.StateOpen, sc.State)
	assert.True(t, sc.MessageAddedAt.Equal(at(1)), "message_added_at %s", sc.MessageAddedAt)
	assert.True(t, sc.MessageAddedAt.Equal(stored.MessageAddedAt))
	assert.Equal(t, stored.Participants, sc.Participants)
	assert.Equal(t, stored.URL, sc.URL)
	assert.Nil(t, sc.Events)
	r := lastRequest(t, srv)
	assert.Equal(t, "/api/v2/tickets/1/side_conversations/"+created.ID, r.Path)
	assert.Empty(t, r.Query)

	sc, resp, err = client.SideConversations.Show(ctx, 1, created.ID, &zendesk.ShowOptions{IncludeEvents: true})
	require.NoError(t, err)
	assert.Empty(t, resp.UnmatchedEvents)
	assert.Equal(t, ids(stored.Events, eventID), ids(sc.Events, eventID))
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventReply}, eventTypes(sc.Events))
	require.NotNil(t, sc.Events[1].Message)
	assert.Equal(t, "Second message", sc.Events[1].Message.Body)
	assert.Equal(t, "events", lastRequest(t, srv).Query.Get("include"))
}

func TestIntegrationUpdate(t *testing.T) {
	t.Parallel()
	srv, client := startServer(t)
	ctx := context.Background()
	created := mustCreate(t, client, 1, "Old subject") // at(0)

	closed, resp, err := client.SideConversations.Update(ctx, 1, created.ID, zendesk.UpdateRequest{State: zendesk.StateClosed}) // at(1)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, zendesk.StateClosed, closed.State)
	assert.Equal(t, "Old subject", closed.Subject)
	assert.True(t, closed.StateUpdatedAt.Equal(at(1)), "state_updated_at %s", closed.StateUpdatedAt)
	assert.True(t, closed.UpdatedAt.Equal(at(1)))
	assert.True(t, closed.MessageAddedAt.Equal(at(0)), "an update adds no message")
	r := lastRequest(t, srv)
	assert.Equal(t, http.MethodPut, r.Method)
	assert.Equal(t, "/api/v2/tickets/1/side_conversations/"+created.ID, r.Path)
	assert.JSONEq(t, `{"side_conversation":{"state":"closed"}}`, string(r.Body))

	renamed, _, err := client.SideConversations.Update(ctx, 1, created.ID, zendesk.UpdateRequest{Subject: "New subject"}) // at(2)
	require.NoError(t, err)
	assert.Equal(t, "New subject", renamed.Subject)
	assert.Equal(t, zendesk.StateClosed, renamed.State)
	assert.True(t, renamed.StateUpdatedAt.Equal(at(1)), "a rename leaves state_updated_at")
	assert.True(t, renamed.UpdatedAt.Equal(at(2)))

	stored := srv.SideConversations(1)
	require.Len(t, stored, 1)
	assert.Equal(t, zendesk.StateClosed, stored[0].State)
	assert.Equal(t, "New subject", stored[0].Subject)
	evs := srv.Events(1, created.ID)
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventUpdate, zendesk.EventUpdate}, eventTypes(evs))
	assert.Equal(t, zendesk.Updates{State: zendesk.StateClosed}, evs[1].Updates)
	assert.Equal(t, zendesk.Updates{Subject: "New subject"}, evs[2].Updates)
	assert.Len(t, srv.SentMessages(), 1, "updates send nothing")

	// external_ids are writable: the fake replaces them, making no event.
	tagged, _, err := client.SideConversations.Update(ctx, 1, created.ID, zendesk.UpdateRequest{
		ExternalIDs: map[string]string{"crm": "C-7"},
	}) // at(3)
	require.NoError(t, err)
	assert.JSONEq(t, `{"side_conversation":{"external_ids":{"crm":"C-7"}}}`, string(lastRequest(t, srv).Body))
	assert.Equal(t, map[string]string{"crm": "C-7"}, tagged.ExternalIDs)
	assert.True(t, tagged.UpdatedAt.Equal(at(3)))
	assert.Len(t, srv.Events(1, created.ID), 3, "no event for external ids")

	// An update that names nothing is sent, and changes nothing.
	same, _, err := client.SideConversations.Update(ctx, 1, created.ID, zendesk.UpdateRequest{})
	require.NoError(t, err)
	assert.JSONEq(t, `{"side_conversation":{}}`, string(lastRequest(t, srv).Body))
	assert.Equal(t, tagged, same)
	assert.Len(t, srv.Events(1, created.ID), 3)
}

func TestIntegrationReply(t *testing.T) {
	t.Parallel()
	srv, client := startServer(t)
	ctx := context.Background()
	created := mustCreate(t, client, 1, "Reopen me") // at(0)

	// A reply to an open conversation changes no state.
	res, resp, err := client.SideConversations.Reply(ctx, 1, created.ID, replyRequest("Any news?")) // at(1)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, zendesk.Updates{}, res.Updates)
	assert.True(t, res.SideConversation.MessageAddedAt.Equal(at(1)), "message_added_at %s", res.SideConversation.MessageAddedAt)
	assert.True(t, res.SideConversation.StateUpdatedAt.Equal(at(0)))
	r := lastRequest(t, srv)
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/api/v2/tickets/1/side_conversations/"+created.ID+"/reply", r.Path)
	assert.Equal(t, "Any news?", requestBody(t, r)["message"].(map[string]any)["body"])

	_, _, err = client.SideConversations.Update(ctx, 1, created.ID, zendesk.UpdateRequest{State: zendesk.StateClosed}) // at(2)
	require.NoError(t, err)

	// A reply to a closed conversation reopens it.
	res, _, err = client.SideConversations.Reply(ctx, 1, created.ID, zendesk.ReplyRequest{Message: zendesk.Message{
		Body: "One more thing",
		To:   []zendesk.Participant{zendesk.Email("someone-else@example.com")},
	}}) // at(3)
	require.NoError(t, err)
	// The documented answer is the conversation alone.
	assert.Equal(t, zendesk.Updates{}, res.Updates)
	assert.Empty(t, res.Event.ID)
	sc := res.SideConversation
	assert.Equal(t, zendesk.StateOpen, sc.State)
	assert.True(t, sc.MessageAddedAt.Equal(at(3)), "message_added_at %s", sc.MessageAddedAt)
	assert.True(t, sc.StateUpdatedAt.Equal(at(3)), "state_updated_at %s", sc.StateUpdatedAt)
	assert.Contains(t, sc.Participants, zendesk.Email("someone-else@example.com"))

	// The reply's event is the latest of the conversation's events.
	evs, _, err := client.SideConversations.ListEvents(ctx, 1, created.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventReply, zendesk.EventUpdate, zendesk.EventReply}, eventTypes(evs))
	reply := evs[3]
	require.NotNil(t, reply.Message)
	assert.Equal(t, "One more thing", reply.Message.Body)
	assert.Equal(t, "Reopen me", reply.Message.Subject, "a reply takes the conversation's subject")
	stored := srv.SideConversations(1)[0]
	assert.Equal(t, zendesk.StateOpen, stored.State)
	assert.True(t, stored.MessageAddedAt.Equal(at(3)))
	sent := srv.SentMessages()
	require.Len(t, sent, 3)
	assert.Equal(t, reply.ID, sent[2].ID)
	assert.Equal(t, "someone-else@example.com", sent[2].Message.To[0].Email)

	// A reply without recipients goes to the conversation's participants.
	_, _, err = client.SideConversations.Reply(ctx, 1, created.ID, zendesk.ReplyRequest{Message: zendesk.Message{Body: "To all"}}) // at(4)
	require.NoError(t, err)
	assert.NotContains(t, requestBody(t, lastRequest(t, srv))["message"], "to")
	sent = srv.SentMessages()
	require.Len(t, sent, 4)
	assert.ElementsMatch(t, []zendesk.Participant{zendesk.Email("someone@example.com"), zendesk.Email("someone-else@example.com")},
		sent[3].Message.To, "everyone but the sender")
}

// With WithReplyEvent the fake answers a reply as Create is answered, and
// the client decodes the event and updates.
func TestIntegrationReplyEventOption(t *testing.T) {
	t.Parallel()
	srv, client := startServer(t, zendesktest.WithReplyEvent())
	ctx := context.Background()
	created := mustCreate(t, client, 1, "Reopen me") // at(0)
	_, _, err := client.SideConversations.Update(ctx, 1, created.ID, zendesk.UpdateRequest{State: zendesk.StateClosed})
	require.NoError(t, err)
	res, _, err := client.SideConversations.Reply(ctx, 1, created.ID, replyRequest("Back again"))
	require.NoError(t, err)
	assert.Equal(t, zendesk.Updates{State: zendesk.StateOpen}, res.Updates)
	assert.Equal(t, zendesk.EventReply, res.Event.Type)
	require.NotNil(t, res.Event.Message)
	assert.Equal(t, "Back again", res.Event.Message.Body)
	evs := srv.Events(1, created.ID)
	assert.Equal(t, evs[len(evs)-1].ID, res.Event.ID)
}

func TestIntegrationImport(t *testing.T) {
	t.Parallel()
	srv, client := startServer(t)
	ctx := context.Background()
	first := time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC)
	second := first.Add(26 * time.Hour)

	res, resp, err := client.SideConversations.Import(ctx, 1, zendesk.ImportRequest{
		SideConversation: zendesk.ImportedSideConversation{
			Subject:     "Migrated thread",
			State:       zendesk.StateClosed,
			ExternalIDs: map[string]string{"legacy_id": "T-99"},
		},
		Events: []zendesk.ImportEvent{
			{CreatedAt: first, Message: zendesk.Message{
				Body: "Original question",
				From: zendesk.NamedEmail("bob@example.com", "Bob"),
				To:   []zendesk.Participant{zendesk.Email("johnny@example.com")},
			}},
			{CreatedAt: second.In(time.FixedZone("CET", 3600)), Message: zendesk.Message{
				Body: "Original answer",
				From: zendesk.Email("johnny@example.com"),
				To:   []zendesk.Participant{zendesk.Email("bob@example.com")},
			}},
		},
	})
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)

	sc := res.SideConversation
	assert.Equal(t, "Migrated thread", sc.Subject)
	assert.Equal(t, zendesk.StateClosed, sc.State)
	assert.Equal(t, "T-99", sc.ExternalIDs["legacy_id"])
	assert.True(t, sc.CreatedAt.Equal(first), "created_at %s, want %s", sc.CreatedAt, first)
	assert.True(t, sc.MessageAddedAt.Equal(second), "message_added_at %s", sc.MessageAddedAt)
	assert.Equal(t, zendesk.EventCreate, res.Event.Type)
	assert.True(t, res.Event.CreatedAt.Equal(first))
	assert.Equal(t, "bob@example.com", res.Event.Actor.Email)

	r := lastRequest(t, srv)
	assert.Equal(t, "/api/v2/tickets/1/side_conversations/import", r.Path)
	events := requestBody(t, r)["events"].([]any)
	assert.Equal(t, "2024-01-02T03:04:05.678Z", events[0].(map[string]any)["created_at"])
	assert.Equal(t, "2024-01-03T05:04:05.678Z", events[1].(map[string]any)["created_at"], "sent in UTC")

	stored := srv.SideConversations(1)
	require.Len(t, stored, 1)
	assert.True(t, stored[0].CreatedAt.Equal(first))
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventReply}, eventTypes(stored[0].Events))
	assert.True(t, stored[0].Events[0].CreatedAt.Equal(first))
	assert.True(t, stored[0].Events[1].CreatedAt.Equal(second))
	assert.Empty(t, srv.SentMessages(), "an import delivers nothing")
}

func TestIntegrationImportEvents(t *testing.T) {
	t.Parallel()
	srv, client := startServer(t)
	ctx := context.Background()
	created := mustCreate(t, client, 1, "Live thread") // at(0)
	before := at(0).Add(-48 * time.Hour)
	after := at(0).Add(time.Hour)

	res, resp, err := client.SideConversations.ImportEvents(ctx, 1, created.ID, []zendesk.ImportEvent{
		{CreatedAt: after, Message: zendesk.Message{Body: "Later, from the old system", To: []zendesk.Participant{zendesk.Email("bob@example.com")}}},
		{CreatedAt: before, Message: zendesk.Message{Body: "Earlier, from the old system", To: []zendesk.Participant{zendesk.Email("bob@example.com")}}},
	})
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, created.ID, res.SideConversation.ID)
	assert.Equal(t, zendesk.EventReply, res.Event.Type)
	assert.True(t, res.SideConversation.MessageAddedAt.Equal(after), "message_added_at %s", res.SideConversation.MessageAddedAt)
	r := lastRequest(t, srv)
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/api/v2/tickets/1/side_conversations/"+created.ID+"/events/import", r.Path)

	evs := srv.Events(1, created.ID)
	require.Len(t, evs, 3)
	assert.Equal(t, []zendesk.EventType{zendesk.EventReply, zendesk.EventCreate, zendesk.EventReply}, eventTypes(evs))
	assert.True(t, evs[0].CreatedAt.Equal(before), "imported times are kept: %s", evs[0].CreatedAt)
	assert.Equal(t, "Earlier, from the old system", evs[0].Message.Body)
	assert.True(t, evs[2].CreatedAt.Equal(after))
	assert.Len(t, srv.SentMessages(), 1, "only the live create was sent")
}

func TestIntegrationListEvents(t *testing.T) {
	t.Parallel()
	srv, client := startServer(t)
	ctx := context.Background()
	sc := mustCreate(t, client, 1, "Busy thread")
	for i := range 3 {
		_, _, err := client.SideConversations.Reply(ctx, 1, sc.ID, replyRequest("Reply "+strconv.Itoa(i+1)))
		require.NoError(t, err)
	}
	_, _, err := client.SideConversations.Update(ctx, 1, sc.ID, zendesk.UpdateRequest{State: zendesk.StateClosed})
	require.NoError(t, err)
	stored := srv.Events(1, sc.ID)
	require.Len(t, stored, 5)

	evs, resp, err := client.SideConversations.ListEvents(ctx, 1, sc.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, ids(stored, eventID), ids(evs, eventID))
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventReply, zendesk.EventReply, zendesk.EventReply, zendesk.EventUpdate}, eventTypes(evs))
	assert.Equal(t, 5, resp.Count)
	assert.Empty(t, resp.NextPage)
	assert.Equal(t, zendesk.Updates{State: zendesk.StateClosed}, evs[4].Updates)
	assert.Equal(t, "/api/v2/tickets/1/side_conversations/"+sc.ID+"/events", lastRequest(t, srv).Path)

	evs, resp, err = client.SideConversations.ListEvents(ctx, 1, sc.ID, &zendesk.ListOptions{Page: 2, PerPage: 2, IncludeEvents: true})
	require.NoError(t, err)
	assert.Equal(t, ids(stored[2:4], eventID), ids(evs, eventID))
	assert.Contains(t, resp.NextPage, "page=3")
	assert.Contains(t, resp.PreviousPage, "page=1")
	q := lastRequest(t, srv).Query
	assert.Equal(t, "2", q.Get("page"))
	assert.Equal(t, "2", q.Get("per_page"))
	assert.Empty(t, q.Get("include"), "ListEvents ignores IncludeEvents")

	srv.ResetRequests()
	var got []string
	for ev, err := range client.SideConversations.ListEventsIter(ctx, 1, sc.ID, &zendesk.ListOptions{PerPage: 2}) {
		require.NoError(t, err)
		got = append(got, ev.ID)
	}
	assert.Equal(t, ids(stored, eventID), got)
	reqs := srv.Requests()
	require.Len(t, reqs, 3, "pages of 2, 2 and 1")
	assert.Equal(t, "3", reqs[2].Query.Get("page"))
}

func TestIntegrationIncrementalEvents(t *testing.T) {
	t.Parallel()
	// Events carry ticket_id only with WithEventTicketIDAndURL: the
	// reference's example event has none.
	srv, client := startServer(t, zendesktest.WithTickets(1, 2), zendesktest.WithIncrementalPageSize(2),
		zendesktest.WithEventTicketIDAndURL())
	ctx := context.Background()
	a := mustCreate(t, client, 1, "On ticket 1")                                       // at(0)
	b := mustCreate(t, client, 2, "On ticket 2")                                       // at(1)
	_, _, err := client.SideConversations.Reply(ctx, 1, a.ID, replyRequest("a again")) // at(2)
	require.NoError(t, err)
	_, _, err = client.SideConversations.Update(ctx, 2, b.ID, zendesk.UpdateRequest{State: zendesk.StateClosed}) // at(3)
	require.NoError(t, err)
	_, _, err = client.SideConversations.Reply(ctx, 2, b.ID, replyRequest("b again")) // at(4)
	require.NoError(t, err)
	_, _, err = client.SideConversations.Update(ctx, 1, a.ID, zendesk.UpdateRequest{Subject: "Renamed"}) // at(5)
	require.NoError(t, err)

	all := append(srv.Events(1, a.ID), srv.Events(2, b.ID)...)
	byTime := map[time.Time]string{}
	for _, ev := range all {
		byTime[ev.CreatedAt] = ev.ID
	}
	var want []string
	for i := range 6 {
		want = append(want, byTime[at(i)])
	}

	srv.ResetRequests()
	var got []string
	var tickets []int64
	for ev, err := range client.SideConversations.IncrementalEvents(ctx, t0) {
		require.NoError(t, err)
		got = append(got, ev.ID)
		tickets = append(tickets, ev.TicketID)
		require.LessOrEqual(t, len(got), 20, "the iterator does not end")
	}
	assert.Equal(t, want, got, "each event once, oldest first")
	assert.Equal(t, []int64{1, 2, 1, 2, 2, 1}, tickets)

	// Pages of 2 events a second apart: each page repeats the last second of
	// the one before, so 6 events take 5 pages that bring something new and
	// one that does not.
	reqs := srv.Requests()
	require.Len(t, reqs, 6)
	for i, r := range reqs {
		assert.Equal(t, http.MethodGet, r.Method)
		assert.Equal(t, "/api/v2/tickets/side_conversations/events", r.Path)
		assert.Equal(t, strconv.FormatInt(at(i).Unix(), 10), r.Query.Get("start_time"), "request %d", i)
	}

	// A later start leaves the earlier events out.
	got = nil
	for ev, err := range client.SideConversations.IncrementalEvents(ctx, at(4)) {
		require.NoError(t, err)
		got = append(got, ev.ID)
	}
	assert.Equal(t, want[4:], got)
}

// pngImage is a w×h PNG.
func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{R: 255, A: 255})
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

// download fetches an attachment's content_url with the server's credentials.
func download(t *testing.T, srv *zendesktest.Server, contentURL string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, contentURL, nil)
	require.NoError(t, err)
	require.NoError(t, srv.Credentials().Authorize(req))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

func TestIntegrationUploadAttachment(t *testing.T) {
	t.Parallel()
	srv, client := startServer(t)
	ctx := context.Background()
	data := pngImage(t, 3, 2)

	up, resp, err := client.SideConversations.UploadAttachment(ctx, "chart.png", bytes.NewReader(data))
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, "s3-f0000000-0000-4000-8000-000000000001", up.ID)
	assert.Equal(t, "chart.png", up.Name)
	assert.Equal(t, "image/png", up.ContentType)
	assert.Equal(t, int64(len(data)), up.Size)
	assert.Equal(t, 3, up.Width)
	assert.Equal(t, 2, up.Height)
	assert.Equal(t, []zendesk.UploadedAttachment{*up}, srv.Uploads())
	r := lastRequest(t, srv)
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/api/v2/tickets/side_conversations/attachments", r.Path)
	assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data; boundary="), r.Header.Get("Content-Type"))
	assert.True(t, bytes.Contains(r.Body, data), "the file's bytes are in the body")

	// Create with the upload.
	res, _, err := client.SideConversations.Create(ctx, 1, zendesk.CreateRequest{Message: zendesk.Message{
		Subject:       "See the chart",
		Body:          "Attached.",
		To:            []zendesk.Participant{zendesk.Email("someone@example.com")},
		AttachmentIDs: []string{up.ID},
	}})
	require.NoError(t, err)
	msg := requestBody(t, lastRequest(t, srv))["message"].(map[string]any)
	assert.Equal(t, []any{up.ID}, msg["attachment_ids"])
	require.NotNil(t, res.Event.Message)
	require.Len(t, res.Event.Message.Attachments, 1)
	att := res.Event.Message.Attachments[0]
	assert.Equal(t, up.ID, att.ID)
	assert.Equal(t, "chart.png", att.FileName)
	assert.Equal(t, "image/png", att.ContentType)
	assert.Equal(t, up.Size, att.Size)
	assert.Equal(t, 3, att.Width)
	assert.Equal(t, 2, att.Height)
	assert.True(t, strings.HasPrefix(att.ContentURL, srv.URL()+"/"), att.ContentURL)
	assert.Equal(t, data, download(t, srv, att.ContentURL), "content_url serves the uploaded bytes")

	// Reply with a second upload.
	up2, _, err := client.SideConversations.UploadAttachment(ctx, "notes.txt", strings.NewReader("fuser at 310°C"))
	require.NoError(t, err)
	assert.Equal(t, "s3-f0000000-0000-4000-8000-000000000002", up2.ID)
	assert.True(t, strings.HasPrefix(up2.ContentType, "text/plain"), up2.ContentType)
	rq := replyRequest("And the notes.")
	rq.Message.AttachmentIDs = []string{up2.ID}
	_, _, err = client.SideConversations.Reply(ctx, 1, res.SideConversation.ID, rq)
	require.NoError(t, err)
	events, _, err := client.SideConversations.ListEvents(ctx, 1, res.SideConversation.ID, nil)
	require.NoError(t, err)
	require.Len(t, events, 2)
	reply := events[1]
	require.NotNil(t, reply.Message)
	require.Len(t, reply.Message.Attachments, 1)
	assert.Equal(t, up2.ID, reply.Message.Attachments[0].ID)
	assert.Equal(t, "notes.txt", reply.Message.Attachments[0].FileName)

	assert.Len(t, srv.Uploads(), 2)
	sent := srv.SentMessages()
	require.Len(t, sent, 2)
	assert.Equal(t, up.ID, sent[0].Message.Attachments[0].ID)
	assert.Equal(t, up2.ID, sent[1].Message.Attachments[0].ID)
}

func TestIntegrationIdempotentCreate(t *testing.T) {
	t.Parallel()
	srv, client := startServer(t)
	ctx := context.Background()
	req := emailRequest("Only once")
	req.IdempotencyKey = "escalation-1042"

	first, resp, err := client.SideConversations.Create(ctx, 1, req)
	require.NoError(t, err)
	assert.False(t, resp.FoundByIdempotencyKey)
	assert.Contains(t, first.SideConversation.ExternalIDs, "sideconv_idempotency_key")
	assert.Equal(t, "escalation-1042", first.SideConversation.ExternalIDs["sideconv_idempotency_key"])

	second, resp, err := client.SideConversations.Create(ctx, 1, req)
	require.NoError(t, err)
	assert.True(t, resp.FoundByIdempotencyKey)
	assert.Equal(t, first.SideConversation.ID, second.SideConversation.ID)
	assert.Equal(t, first.Event.ID, second.Event.ID, "the create event is returned again")
	assert.Equal(t, zendesk.EventCreate, second.Event.Type)

	assert.Len(t, srv.SideConversations(1), 1)
	assert.Len(t, srv.SentMessages(), 1)
	reqs := srv.Requests()
	methods := make([]string, len(reqs))
	for i, r := range reqs {
		methods[i] = r.Method + " " + r.Path
	}
	assert.Equal(t, []string{
		"GET /api/v2/tickets/1/side_conversations", // look before sending
		"POST /api/v2/tickets/1/side_conversations",
		"GET /api/v2/tickets/1/side_conversations/" + first.SideConversation.ID, // remembered: fetched, nothing sent
	}, methods)
	sentIDs := requestBody(t, reqs[1])["external_ids"].(map[string]any)
	assert.Equal(t, "escalation-1042", sentIDs["sideconv_idempotency_key"])

	// Another key makes another conversation.
	req.IdempotencyKey = "escalation-1043"
	third, resp, err := client.SideConversations.Create(ctx, 1, req)
	require.NoError(t, err)
	assert.False(t, resp.FoundByIdempotencyKey)
	assert.NotEqual(t, first.SideConversation.ID, third.SideConversation.ID)
	assert.Len(t, srv.SentMessages(), 2)
}

func TestIntegrationIdempotentReply(t *testing.T) {
	t.Parallel()
	srv, client := startServer(t)
	ctx := context.Background()
	sc := mustCreate(t, client, 1, "Thread")
	req := replyRequest("Sent once")
	req.IdempotencyKey = "reply-7"
	srv.ResetRequests()

	first, resp, err := client.SideConversations.Reply(ctx, 1, sc.ID, req)
	require.NoError(t, err)
	assert.False(t, resp.FoundByIdempotencyKey)
	assert.Empty(t, first.Event.ID, "Reply's documented answer carries no event")
	second, resp, err := client.SideConversations.Reply(ctx, 1, sc.ID, req)
	require.NoError(t, err)
	assert.True(t, resp.FoundByIdempotencyKey)
	events := srv.Events(1, sc.ID)
	require.Len(t, events, 2)
	assert.Equal(t, events[1].ID, second.Event.ID, "the lookup returns the reply's event")
	assert.Equal(t, zendesk.EventReply, second.Event.Type)
	assert.Equal(t, sc.ID, second.SideConversation.ID)
	require.NotNil(t, second.Event.Message)
	assert.Equal(t, "reply-7", second.Event.Message.ExternalIDs["sideconv_idempotency_key"])

	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventReply}, eventTypes(srv.Events(1, sc.ID)))
	assert.Len(t, srv.SentMessages(), 2, "the create and one reply")
	var posts int
	for _, r := range srv.Requests() {
		if r.Method == http.MethodPost {
			posts++
		}
	}
	assert.Equal(t, 1, posts)
}

// TestIntegrationAmbiguousFailures sends a Create or a Reply into a failure
// that leaves open whether it went out. Without a key the client reports
// ErrMaybeSent and does not resend; with one it looks and sends at most once
// more, so exactly one message goes out whether or not the failed attempt
// was processed.
func TestIntegrationAmbiguousFailures(t *testing.T) {
	t.Parallel()
	faults := []struct {
		name      string
		fault     zendesktest.Fault
		processed bool // whether the failed attempt took effect
	}{
		{"500 before processing", zendesktest.Fault{Kind: zendesktest.FaultStatus, Status: http.StatusInternalServerError}, false},
		{"answer lost", zendesktest.Fault{Kind: zendesktest.FaultDropAfterProcessing}, true},
		{"truncated answer", zendesktest.Fault{Kind: zendesktest.FaultTruncatedBody}, true},
	}
	for _, f := range faults {
		for _, op := range []string{"create", "reply"} {
			for _, key := range []string{"", "key-1"} {
				t.Run(f.name+"/"+op+"/key="+key, func(t *testing.T) {
					t.Parallel()
					srv, client := startServer(t)
					ctx := context.Background()
					existing := mustCreate(t, client, 1, "Existing") // one message already sent
					srv.ResetRequests()
					fault := f.fault
					fault.Method = http.MethodPost
					var err error
					var resp *zendesk.Response
					var res *zendesk.SideConversationResult
					if op == "create" {
						fault.Path = "/api/v2/tickets/1/side_conversations"
						srv.InjectFault(fault)
						req := emailRequest("Fresh")
						req.IdempotencyKey = key
						res, resp, err = client.SideConversations.Create(ctx, 1, req)
					} else {
						fault.Path = "/api/v2/tickets/1/side_conversations/" + existing.ID + "/reply"
						srv.InjectFault(fault)
						req := replyRequest("Fresh")
						req.IdempotencyKey = key
						res, resp, err = client.SideConversations.Reply(ctx, 1, existing.ID, req)
					}

					var posts int
					for _, r := range srv.Requests() {
						if r.Method == http.MethodPost && r.Path == fault.Path {
							posts++
						}
					}
					if key == "" {
						assert.Nil(t, res)
						require.ErrorIs(t, err, zendesk.ErrMaybeSent)
						assert.Equal(t, 1, posts, "never resent without a key")
						if f.processed {
							assert.Len(t, srv.SentMessages(), 2)
						} else {
							assert.Len(t, srv.SentMessages(), 1)
						}
						return
					}
					assert.Equal(t, 1, posts, "never resent within the call")
					if !f.processed {
						// Not found after the failure: the call says the
						// message may exist and sends nothing more.
						assert.Nil(t, res)
						require.ErrorIs(t, err, zendesk.ErrMaybeSent)
						assert.Len(t, srv.SentMessages(), 1)
						return
					}
					require.NoError(t, err)
					require.NotNil(t, res)
					assert.Len(t, srv.SentMessages(), 2, "exactly one more message")
					assert.True(t, resp.FoundByIdempotencyKey)
					last := srv.SentMessages()[1]
					if op == "reply" && !resp.FoundByIdempotencyKey {
						assert.Empty(t, res.Event.ID, "Reply's documented answer carries no event")
					} else {
						assert.Equal(t, last.ID, res.Event.ID)
					}
					assert.Equal(t, last.SideConversationID, res.SideConversation.ID)
				})
			}
		}
	}
}

// --- Error answers -----------------------------------------------------

func TestIntegrationWrongCredentials(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	client, err := zendesk.NewClient("", zendesk.APIToken(zendesktest.DefaultEmail, "wrong"),
		zendesk.WithBaseURL(srv.URL()),
		zendesk.WithRetryPolicy(zendesk.RetryPolicy{Wait: noWait}))
	require.NoError(t, err)
	ctx := context.Background()

	convs, resp, err := client.SideConversations.List(ctx, 1, nil)
	assert.Nil(t, convs)
	var apiErr *zendesk.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
	assert.ErrorIs(t, err, zendesk.ErrUnauthorized)
	assert.NotErrorIs(t, err, zendesk.ErrNotFound)
	assert.Equal(t, "Couldn't authenticate you", apiErr.Code)
	assert.NotEmpty(t, apiErr.RequestID)
	assert.Equal(t, http.MethodGet, apiErr.Method)
	assert.NotContains(t, err.Error(), "wrong", "the token never shows")
	require.NotNil(t, resp)
	assert.Equal(t, 1, resp.Attempts, "a 401 is not retried")

	res, _, err := client.SideConversations.Create(ctx, 1, emailRequest("Not allowed"))
	assert.Nil(t, res)
	require.ErrorIs(t, err, zendesk.ErrUnauthorized)
	assert.NotErrorIs(t, err, zendesk.ErrMaybeSent)

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	for _, r := range reqs {
		assert.False(t, r.Authorized)
	}
	assert.Empty(t, srv.SideConversations(1))
	assert.Empty(t, srv.SentMessages())
}

func TestIntegrationNotFound(t *testing.T) {
	t.Parallel()
	msg := zendesk.Message{Body: "Hello", To: []zendesk.Participant{zendesk.Email("someone@example.com")}}
	imported := []zendesk.ImportEvent{{CreatedAt: t0, Message: msg}}
	const missing = "5c000000-0000-4000-8000-999999999999"
	cases := []struct {
		name string
		path string
		call func(ctx context.Context, sc *zendesk.SideConversationsService, known string) error
	}{
		{"list unknown ticket", "/api/v2/tickets/999/side_conversations",
			func(ctx context.Context, sc *zendesk.SideConversationsService, _ string) error {
				_, _, err := sc.List(ctx, 999, nil)
				return err
			}},
		{"create on unknown ticket", "/api/v2/tickets/999/side_conversations",
			func(ctx context.Context, sc *zendesk.SideConversationsService, _ string) error {
				_, _, err := sc.Create(ctx, 999, zendesk.CreateRequest{Message: msg})
				return err
			}},
		{"import on unknown ticket", "/api/v2/tickets/999/side_conversations/import",
			func(ctx context.Context, sc *zendesk.SideConversationsService, _ string) error {
				_, _, err := sc.Import(ctx, 999, zendesk.ImportRequest{Events: imported})
				return err
			}},
		{"show unknown conversation", "/api/v2/tickets/1/side_conversations/" + missing,
			func(ctx context.Context, sc *zendesk.SideConversationsService, _ string) error {
				_, _, err := sc.Show(ctx, 1, missing, nil)
				return err
			}},
		{"show conversation of another ticket", "/api/v2/tickets/2/side_conversations/5c000000-0000-4000-8000-000000000001",
			func(ctx context.Context, sc *zendesk.SideConversationsService, known string) error {
				_, _, err := sc.Show(ctx, 2, known, nil)
				return err
			}},
		{"update unknown conversation", "/api/v2/tickets/1/side_conversations/" + missing,
			func(ctx context.Context, sc *zendesk.SideConversationsService, _ string) error {
				_, _, err := sc.Update(ctx, 1, missing, zendesk.UpdateRequest{State: zendesk.StateClosed})
				return err
			}},
		{"reply to unknown conversation", "/api/v2/tickets/1/side_conversations/" + missing + "/reply",
			func(ctx context.Context, sc *zendesk.SideConversationsService, _ string) error {
				_, _, err := sc.Reply(ctx, 1, missing, zendesk.ReplyRequest{Message: msg})
				return err
			}},
		{"events of unknown conversation", "/api/v2/tickets/1/side_conversations/" + missing + "/events",
			func(ctx context.Context, sc *zendesk.SideConversationsService, _ string) error {
				_, _, err := sc.ListEvents(ctx, 1, missing, nil)
				return err
			}},
		{"import events into unknown conversation", "/api/v2/tickets/1/side_conversations/" + missing + "/events/import",
			func(ctx context.Context, sc *zendesk.SideConversationsService, _ string) error {
				_, _, err := sc.ImportEvents(ctx, 1, missing, imported)
				return err
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, client := startServer(t, zendesktest.WithTickets(1, 2))
			known := mustCreate(t, client, 1, "Known")
			srv.ResetRequests()

			err := tc.call(context.Background(), client.SideConversations, known.ID)
			var apiErr *zendesk.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
			assert.ErrorIs(t, err, zendesk.ErrNotFound)
			assert.NotErrorIs(t, err, zendesk.ErrMaybeSent, "a 404 took no effect")
			assert.Equal(t, "RecordNotFound", apiErr.Code)
			assert.Equal(t, "Not found", apiErr.Description)
			assert.NotEmpty(t, apiErr.RequestID)

			reqs := srv.Requests()
			require.Len(t, reqs, 1, "a 404 is not retried")
			assert.Equal(t, tc.path, reqs[0].Path)
			assert.Len(t, srv.SideConversations(1), 1)
			assert.Empty(t, srv.SideConversations(2))
			assert.Len(t, srv.Events(1, known.ID), 1)
			assert.Len(t, srv.SentMessages(), 1)
		})
	}
}

func TestIntegrationUnknownAttachment(t *testing.T) {
	t.Parallel()
	srv, client := startServer(t)
	ctx := context.Background()
	const bogus = "s3-f0000000-0000-4000-8000-00000000dead"

	req := emailRequest("With a missing file")
	req.Message.AttachmentIDs = []string{bogus}
	res, resp, err := client.SideConversations.Create(ctx, 1, req)
	assert.Nil(t, res)
	var apiErr *zendesk.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnprocessableEntity, apiErr.StatusCode)
	assert.ErrorIs(t, err, zendesk.ErrUnprocessable)
	assert.NotErrorIs(t, err, zendesk.ErrMaybeSent)
	assert.Equal(t, "RecordInvalid", apiErr.Code)
	assert.Contains(t, string(apiErr.Details), "attachment_ids")
	assert.Contains(t, string(apiErr.Details), bogus)
	require.NotNil(t, resp)
	assert.Equal(t, 1, resp.Attempts, "a 422 is final")
	assert.Empty(t, srv.SideConversations(1))
	assert.Empty(t, srv.SentMessages())

	// The same in a reply.
	sc := mustCreate(t, client, 1, "Thread")
	rq := replyRequest("With a missing file")
	rq.Message.AttachmentIDs = []string{bogus}
	_, _, err = client.SideConversations.Reply(ctx, 1, sc.ID, rq)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnprocessableEntity, apiErr.StatusCode)
	assert.Contains(t, string(apiErr.Details), "attachment_ids")
	assert.Len(t, srv.Events(1, sc.ID), 1)
	assert.Len(t, srv.SentMessages(), 1)
}

// TestIntegrationOffsetLimit: a page that starts past the 10,000th record
// is refused before it reaches the server, whether PerPage is set or left
// to Zendesk's default of 100.
func TestIntegrationOffsetLimit(t *testing.T) {
	t.Parallel()
	list := func(ctx context.Context, c *zendesk.Client, _ string, opts *zendesk.ListOptions) error {
		_, _, err := c.SideConversations.List(ctx, 1, opts)
		return err
	}
	iterate := func(ctx context.Context, c *zendesk.Client, _ string, opts *zendesk.ListOptions) error {
		var errs []error
		for _, err := range c.SideConversations.ListIter(ctx, 1, opts) {
			errs = append(errs, err)
		}
		if len(errs) != 1 {
			return errors.New("the iterator yielded " + strconv.Itoa(len(errs)) + " values, want one error")
		}
		return errs[0]
	}
	events := func(ctx context.Context, c *zendesk.Client, id string, opts *zendesk.ListOptions) error {
		_, _, err := c.SideConversations.ListEvents(ctx, 1, id, opts)
		return err
	}
	cases := []struct {
		name string
		opts zendesk.ListOptions
		call func(ctx context.Context, c *zendesk.Client, id string, opts *zendesk.ListOptions) error
	}{
		{"list page 10001", zendesk.ListOptions{Page: 10001}, list},
		{"list page 101", zendesk.ListOptions{Page: 101}, list},
		{"list page 101 of 100", zendesk.ListOptions{Page: 101, PerPage: 100}, list},
		{"list huge page", zendesk.ListOptions{Page: 1 << 62}, list},
		{"list iterator from page 101", zendesk.ListOptions{Page: 101}, iterate},
		{"events page 101", zendesk.ListOptions{Page: 101}, events},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, client := startServer(t)
			sc := mustCreate(t, client, 1, "Any")
			srv.ResetRequests()

			err := tc.call(context.Background(), client, sc.ID, &tc.opts)
			var ve *zendesk.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, "page", ve.Field)
			assert.Contains(t, err.Error(), "10000 records")
			assert.ErrorIs(t, err, zendesk.ErrInvalidRequest)
			assert.Empty(t, srv.Requests(), "nothing reached the server")
		})
	}

	// The last page the limit allows is sent.
	srv, client := startServer(t)
	_, _, err := client.SideConversations.List(context.Background(), 1, &zendesk.ListOptions{Page: 100})
	require.NoError(t, err)
	require.Len(t, srv.Requests(), 1)
}

// TestIntegrationPathIDsRefused: an id that would leave its path segment
// never reaches the server, not even escaped.
func TestIntegrationPathIDsRefused(t *testing.T) {
	t.Parallel()
	srv, client := startServer(t)
	sc := mustCreate(t, client, 1, "Any")
	srv.ResetRequests()
	ctx := context.Background()
	for _, id := range []string{"../../users/me", sc.ID + "/../x", "..", sc.ID + "%2F", sc.ID + "?include=events", " " + sc.ID} {
		_, _, err := client.SideConversations.Show(ctx, 1, id, nil)
		var ve *zendesk.ValidationError
		require.ErrorAs(t, err, &ve, id)
		assert.Equal(t, "id", ve.Field)
		_, _, err = client.SideConversations.Reply(ctx, 1, id, replyRequest("never sent"))
		require.ErrorAs(t, err, &ve, id)
		assert.Equal(t, "id", ve.Field)
	}
	assert.Empty(t, srv.Requests(), "nothing reached the server")
	assert.Len(t, srv.SentMessages(), 1)
}

func TestIntegrationRateLimited(t *testing.T) {
	t.Parallel()
	// The fake's windows follow the real clock: a day-long one cannot end
	// between the two creates.
	srv, _ := startServer(t, zendesktest.WithCreateReplyLimit(1, 24*time.Hour))
	w := &waitRecorder{}
	client := srv.Client(zendesk.WithRetryPolicy(zendesk.RetryPolicy{MaxRetryAfter: time.Second, Wait: w.wait}))
	ctx := context.Background()

	_, resp, err := client.SideConversations.Create(ctx, 1, emailRequest("First"))
	require.NoError(t, err)
	assert.Equal(t, 1, resp.Rate.Limit)
	assert.Equal(t, 0, resp.Rate.Remaining)
	assert.Positive(t, resp.Rate.Reset)

	res, resp, err := client.SideConversations.Create(ctx, 1, emailRequest("Second"))
	assert.Nil(t, res)
	require.ErrorIs(t, err, zendesk.ErrRateLimited)
	assert.NotErrorIs(t, err, zendesk.ErrMaybeSent, "a 429 was not processed")
	var apiErr *zendesk.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
	assert.Greater(t, apiErr.RetryAfter, time.Second, "longer than MaxRetryAfter")
	assert.LessOrEqual(t, apiErr.RetryAfter, 24*time.Hour)
	require.NotNil(t, resp)
	assert.Equal(t, 1, resp.Attempts, "failed at once")
	assert.Empty(t, w.all(), "nothing waited")

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, http.MethodPost, reqs[1].Method)
	assert.Len(t, srv.SentMessages(), 1)
	require.Len(t, srv.SideConversations(1), 1)
	assert.Equal(t, "First", srv.SideConversations(1)[0].Subject)

	// Reads are not charged to the create/reply budget.
	convs, _, err := client.SideConversations.List(ctx, 1, nil)
	require.NoError(t, err)
	assert.Len(t, convs, 1)
}

func TestIntegrationClientRefusals(t *testing.T) {
	t.Parallel()
	const id = "5c000000-0000-4000-8000-000000000001"
	emailTo := []zendesk.Participant{zendesk.Email("someone@example.com")}
	cases := []struct {
		name  string
		field string
		mixed bool
		call  func(ctx context.Context, sc *zendesk.SideConversationsService) (any, error)
	}{
		{"create without to", "message.to", false,
			func(ctx context.Context, sc *zendesk.SideConversationsService) (any, error) {
				res, _, err := sc.Create(ctx, 1, zendesk.CreateRequest{Message: zendesk.Message{Body: "Hello"}})
				return res, err
			}},
		{"create with mixed participants", "message.to[1]", true,
			func(ctx context.Context, sc *zendesk.SideConversationsService) (any, error) {
				res, _, err := sc.Create(ctx, 1, zendesk.CreateRequest{Message: zendesk.Message{
					Body: "Hello",
					To:   []zendesk.Participant{zendesk.Email("someone@example.com"), zendesk.SlackChannel("T1", "C1")},
				}})
				return res, err
			}},
		{"reply from a Slack channel to e-mail", "message.from", true,
			func(ctx context.Context, sc *zendesk.SideConversationsService) (any, error) {
				res, _, err := sc.Reply(ctx, 1, id, zendesk.ReplyRequest{Message: zendesk.Message{
					Body: "Hello", From: zendesk.SlackChannel("T1", "C1"), To: emailTo,
				}})
				return res, err
			}},
		{"update to a bad state", "side_conversation.state", false,
			func(ctx context.Context, sc *zendesk.SideConversationsService) (any, error) {
				res, _, err := sc.Update(ctx, 1, id, zendesk.UpdateRequest{State: "archived"})
				return res, err
			}},
		{"create with an e-mail sender to Slack", "message.from", true,
			func(ctx context.Context, sc *zendesk.SideConversationsService) (any, error) {
				res, _, err := sc.Create(ctx, 1, zendesk.CreateRequest{Message: zendesk.Message{
					Body: "Hello", From: zendesk.Email("someone-else@example.com"),
					To: []zendesk.Participant{zendesk.SlackChannel("T1", "C1")},
				}})
				return res, err
			}},
		{"create with an HTML body only", "message.html_body", false,
			func(ctx context.Context, sc *zendesk.SideConversationsService) (any, error) {
				res, _, err := sc.Create(ctx, 1, zendesk.CreateRequest{Message: zendesk.Message{HTMLBody: "<p>Hello</p>", To: emailTo}})
				return res, err
			}},
		{"import with a bad state", "side_conversation.state", false,
			func(ctx context.Context, sc *zendesk.SideConversationsService) (any, error) {
				res, _, err := sc.Import(ctx, 1, zendesk.ImportRequest{
					SideConversation: zendesk.ImportedSideConversation{State: "pending"},
					Events:           []zendesk.ImportEvent{{CreatedAt: t0, Message: zendesk.Message{Body: "x", To: emailTo}}},
				})
				return res, err
			}},
		{"import events without events", "events", false,
			func(ctx context.Context, sc *zendesk.SideConversationsService) (any, error) {
				res, _, err := sc.ImportEvents(ctx, 1, id, nil)
				return res, err
			}},
		{"page past the offset limit", "page", false,
			func(ctx context.Context, sc *zendesk.SideConversationsService) (any, error) {
				res, _, err := sc.List(ctx, 1, &zendesk.ListOptions{Page: 101, PerPage: 100})
				return res, err
			}},
		{"per page over 100", "per_page", false,
			func(ctx context.Context, sc *zendesk.SideConversationsService) (any, error) {
				res, _, err := sc.ListEvents(ctx, 1, id, &zendesk.ListOptions{PerPage: 101})
				return res, err
			}},
		{"upload with a directory", "filename", false,
			func(ctx context.Context, sc *zendesk.SideConversationsService) (any, error) {
				res, _, err := sc.UploadAttachment(ctx, "../etc/passwd", strings.NewReader("x"))
				return res, err
			}},
		{"show with an empty id", "id", false,
			func(ctx context.Context, sc *zendesk.SideConversationsService) (any, error) {
				res, _, err := sc.Show(ctx, 1, "", nil)
				return res, err
			}},
		{"list a ticket id of 0", "ticketID", false,
			func(ctx context.Context, sc *zendesk.SideConversationsService) (any, error) {
				res, _, err := sc.List(ctx, 0, nil)
				return res, err
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, client := startServer(t)
			res, err := tc.call(context.Background(), client.SideConversations)

			var ve *zendesk.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field, "reason: %s", ve.Reason)
			assert.NotEmpty(t, ve.Reason)
			assert.ErrorIs(t, err, zendesk.ErrInvalidRequest)
			if tc.mixed {
				assert.ErrorIs(t, err, zendesk.ErrMixedParticipants)
			} else {
				assert.NotErrorIs(t, err, zendesk.ErrMixedParticipants)
			}
			assert.Nil(t, res, "the result of a failure is nil")
			assert.Empty(t, srv.Requests(), "nothing reached the server")
		})
	}
}

// --- Attachment downloads ----------------------------------------------

// An attachment uploaded with a message comes back byte for byte from the
// content_url of its event.
func TestIntegrationDownloadAttachment(t *testing.T) {
	t.Parallel()
	srv, client := startServer(t)
	ctx := context.Background()
	content := "12:01 printer 3: fuser at 310°C\n"
	up, _, err := client.SideConversations.UploadAttachment(ctx, "printer.log", strings.NewReader(content))
	require.NoError(t, err)
	req := emailRequest("With a log")
	req.Message.AttachmentIDs = []string{up.ID}
	res, _, err := client.SideConversations.Create(ctx, 1, req)
	require.NoError(t, err)

	events, _, err := client.SideConversations.ListEvents(ctx, 1, res.SideConversation.ID, nil)
	require.NoError(t, err)
	require.NotEmpty(t, events)
	require.Len(t, events[0].Message.Attachments, 1)
	att := events[0].Message.Attachments[0]
	var buf bytes.Buffer
	n, resp, err := client.SideConversations.DownloadAttachment(ctx, att, &buf)
	require.NoError(t, err)
	assert.EqualValues(t, len(content), n)
	assert.Equal(t, content, buf.String())
	assert.NotEmpty(t, resp.RequestID)
	assert.Len(t, srv.SentMessages(), 1)
}

// Zendesk may redirect a download to its file storage: the redirect is
// followed, without the credentials.
func TestIntegrationDownloadRedirectedWithoutCredentials(t *testing.T) {
	t.Parallel()
	var storageAuth []string
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		storageAuth = append(storageAuth, r.Header.Get("Authorization"))
		_, _ = io.WriteString(w, "stored bytes")
	}))
	t.Cleanup(storage.Close)
	var accountAuth string
	account := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		accountAuth = r.Header.Get("Authorization")
		http.Redirect(w, r, storage.URL+"/signed/log.txt?sig=abc", http.StatusFound)
	}))
	t.Cleanup(account.Close)
	client, err := zendesk.NewClient("", zendesk.APIToken("agent@example.com", "download-secret"), zendesk.WithBaseURL(account.URL))
	require.NoError(t, err)
	var buf bytes.Buffer
	_, _, err = client.SideConversations.DownloadAttachment(context.Background(),
		zendesk.Attachment{ContentURL: account.URL + "/api/v2/tickets/1/side_conversations/sc/attachments/s3-1/download/log.txt"}, &buf)
	require.NoError(t, err)
	assert.Equal(t, "stored bytes", buf.String())
	assert.NotEmpty(t, accountAuth, "the account's own host gets the credentials")
	assert.Equal(t, []string{""}, storageAuth, "the storage host does not")
}

// movingClock is a clock that moves only when the client waits.
type movingClock struct {
	mu  sync.Mutex
	now time.Time
	d   []time.Duration
}

func (c *movingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *movingClock) wait(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.d = append(c.d, d)
	c.mu.Unlock()
	return ctx.Err()
}

// With the server's rate windows and the client on one clock that moves
// as the client waits, a used-up budget is waited out exactly: the second
// create waits for the window's reset and runs into no 429.
func TestIntegrationBudgetWaitedOutOnOneClock(t *testing.T) {
	t.Parallel()
	clock := &movingClock{now: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)}
	srv := zendesktest.Start(t, zendesktest.WithCreateReplyLimit(1, 10*time.Minute), zendesktest.WithRateClock(clock.Now))
	client := srv.Client(zendesk.WithRetryPolicy(zendesk.RetryPolicy{MaxRetryAfter: 15 * time.Minute, Wait: clock.wait}))
	zendesk.SetClock(client, clock.Now)
	ctx := context.Background()

	_, _, err := client.SideConversations.Create(ctx, 1, emailRequest("First"))
	require.NoError(t, err)
	_, resp, err := client.SideConversations.Create(ctx, 1, emailRequest("Second"))
	require.NoError(t, err)
	assert.Equal(t, 1, resp.Attempts, "no 429 to retry after")
	assert.Equal(t, []time.Duration{10 * time.Minute}, clock.d, "the client waited for the window's reset, once")
	for _, r := range srv.Requests() {
		assert.Equal(t, http.MethodPost, r.Method)
	}
	assert.Len(t, srv.Requests(), 2)
	assert.Len(t, srv.SentMessages(), 2)
}
