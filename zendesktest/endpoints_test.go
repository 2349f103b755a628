package zendesktest_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	zendesk "github.com/sideconv/zendesk"
	"github.com/sideconv/zendesk/zendesktest"
)

func sameTime(t *testing.T, want, got time.Time, field string) {
	t.Helper()
	assert.Truef(t, want.Equal(got), "%s: want %s, got %s", field, want, got)
}

func agent() zendesk.Participant {
	return zendesk.Participant{UserID: zendesktest.AgentUserID, Name: zendesktest.AgentName, Email: zendesktest.DefaultEmail}
}

func TestCreateEmail(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t, zendesktest.WithClock(fixedClock(t0)))
	c := srv.Client(noWait())

	req := emailCreate("My printer is on fire!", "The smoke is very colorful.", "someone@example.com")
	req.Message.ExternalIDs = map[string]string{"message-external": "xyz"}
	req.ExternalIDs = map[string]string{"conversation-external": "zyx"}
	res, resp, err := c.SideConversations.Create(ctx(t), 1, req)
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, "zendesktest-00000001", resp.RequestID)

	sc := res.SideConversation
	assert.Equal(t, "5c000000-0000-4000-8000-000000000001", sc.ID)
	assert.Equal(t, int64(1), sc.TicketID)
	assert.Equal(t, "My printer is on fire!", sc.Subject)
	assert.Equal(t, "The smoke is very colorful.", sc.PreviewText)
	assert.Equal(t, zendesk.StateOpen, sc.State)
	assert.Equal(t, srv.URL()+"/api/v2/tickets/1/side_conversations/"+sc.ID, sc.URL)
	assert.Equal(t, map[string]string{"conversation-external": "zyx"}, sc.ExternalIDs)
	assert.Equal(t, []zendesk.Participant{agent(), zendesk.Email("someone@example.com")}, sc.Participants)
	for name, got := range map[string]time.Time{"created_at": sc.CreatedAt, "updated_at": sc.UpdatedAt,
		"message_added_at": sc.MessageAddedAt, "state_updated_at": sc.StateUpdatedAt} {
		sameTime(t, t0, got, name)
	}

	ev := res.Event
	assert.Equal(t, "e0000000-0000-4000-8000-000000000001", ev.ID)
	assert.Equal(t, zendesk.EventCreate, ev.Type)
	assert.Equal(t, "api", ev.Via)
	assert.Equal(t, agent(), ev.Actor)
	assert.Equal(t, sc.ID, ev.SideConversationID)
	assert.Zero(t, ev.TicketID, "the reference's example event has no ticket_id")
	assert.Empty(t, ev.URL, "nor url")
	sameTime(t, t0, ev.CreatedAt, "event created_at")
	require.NotNil(t, ev.Message)
	assert.Equal(t, zendesk.Message{
		Subject:     "My printer is on fire!",
		Body:        "The smoke is very colorful.",
		HTMLBody:    `<div class="zd-comment"><p>The smoke is very colorful.</p></div>`,
		PreviewText: "My printer is on fire!",
		From:        agent(),
		To:          []zendesk.Participant{zendesk.Email("someone@example.com")},
		ExternalIDs: map[string]string{"message-external": "xyz"},
		Attachments: []zendesk.Attachment{}, // Zendesk writes "attachments": []
	}, *ev.Message)
	assert.Equal(t, zendesk.Updates{}, res.Updates)

	sent := srv.SentMessages()
	require.Len(t, sent, 1)
	assert.Equal(t, ev.ID, sent[0].ID)
	assert.Equal(t, "The smoke is very colorful.", sent[0].Message.Body)

	state := srv.SideConversations(1)
	require.Len(t, state, 1)
	assert.Equal(t, sc.ID, state[0].ID)
	require.Len(t, state[0].Events, 1)
	assert.Equal(t, ev.ID, state[0].Events[0].ID)
	assert.Equal(t, state[0].Events, srv.Events(1, sc.ID))
	assert.Nil(t, srv.Events(2, sc.ID), "the conversation is not on ticket 2")
}

// TestCreateWireShape checks the raw JSON: envelope keys, time formats,
// nulls where Zendesk writes them.
func TestCreateWireShape(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t, zendesktest.WithClock(fixedClock(t0)))
	a := post(t, srv, "/api/v2/tickets/1/side_conversations.json",
		`{"message":{"subject":"Hi","body":"Hello","to":[{"email":"someone@example.com"}]}}`)
	require.Equal(t, http.StatusCreated, a.Status, "%s", a.Body)
	assert.Equal(t, "application/json; charset=utf-8", a.Header.Get("Content-Type"))
	assert.Empty(t, a.Header.Get("X-Rate-Limit"), "no rate-limit headers without limits")

	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(a.Body, &raw))
	assert.ElementsMatch(t, []string{"event", "side_conversation", "updates"}, keys(raw))
	assert.JSONEq(t, `{}`, string(raw["updates"]))

	var sc map[string]any
	require.NoError(t, json.Unmarshal(raw["side_conversation"], &sc))
	assert.Equal(t, "2025-03-14T09:26:53.589+00:00", sc["created_at"])
	assert.Equal(t, map[string]any{}, sc["external_ids"])
	assert.Equal(t, float64(1), sc["ticket_id"])
	assert.Contains(t, sc["participants"], map[string]any{"email": "someone@example.com", "name": nil, "user_id": nil})

	var ev map[string]any
	require.NoError(t, json.Unmarshal(raw["event"], &ev))
	assert.Equal(t, "2025-03-14T09:26:53.589Z", ev["created_at"])
	msg := ev["message"].(map[string]any)
	assert.Equal(t, []any{}, msg["attachments"])
	assert.NotContains(t, ev, "updates", "only update events carry updates")
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestCreateChannels(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	c := srv.Client(noWait())
	cases := []struct {
		name  string
		to    []zendesk.Participant
		child int64
	}{
		{"user id", []zendesk.Participant{zendesk.Agent(35436)}, 0},
		{"named email", []zendesk.Participant{zendesk.NamedEmail("john@example.com", "John Doe")}, 0},
		{"two emails", []zendesk.Participant{zendesk.Email("a@example.com"), zendesk.Email("b@example.com")}, 0},
		{"slack", []zendesk.Participant{zendesk.SlackChannel("T123ABC", "C456DEF")}, 0},
		{"teams", []zendesk.Participant{zendesk.TeamsChannel("19:abc@thread.skype")}, 0},
		{"child ticket group", []zendesk.Participant{zendesk.SupportGroup(123)}, 10001},
		{"child ticket agent", []zendesk.Participant{zendesk.SupportAgent(123, 456)}, 10002},
	}
	for _, tc := range cases { // sequential: child ticket ids count up
		res, _, err := c.SideConversations.Create(ctx(t), 1, zendesk.CreateRequest{
			Message: zendesk.Message{Subject: tc.name, Body: "Please help", To: tc.to},
		})
		require.NoError(t, err, tc.name)
		sc := res.SideConversation
		assert.Equal(t, append([]zendesk.Participant{agent()}, tc.to...), sc.Participants, tc.name)
		assert.Equal(t, tc.to, res.Event.Message.To, tc.name)
		child, ok := sc.ChildTicketID()
		if tc.child == 0 {
			assert.False(t, ok, tc.name)
			continue
		}
		require.True(t, ok, tc.name)
		assert.Equal(t, tc.child, child, tc.name)
		assert.Equal(t, strconv.FormatInt(tc.child, 10), sc.ExternalIDs["targetTicketId"])
		// The child ticket exists now.
		list, _, err := c.SideConversations.List(ctx(t), child, nil)
		require.NoError(t, err, tc.name)
		assert.Empty(t, list)
	}
}

func TestCreateBodies(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	c := srv.Client(noWait())

	long := strings.Repeat("é", 130)
	res, _, err := c.SideConversations.Create(ctx(t), 1, zendesk.CreateRequest{Message: zendesk.Message{
		Body: long + "\n\nSecond <b>paragraph</b>\nnext line",
		To:   []zendesk.Participant{zendesk.Email("someone@example.com")},
	}})
	require.NoError(t, err)
	m := res.Event.Message
	assert.Equal(t, `<div class="zd-comment"><p>`+long+`</p><p>Second &lt;b&gt;paragraph&lt;/b&gt;<br>next line</p></div>`, m.HTMLBody)
	assert.Equal(t, strings.Repeat("é", 100), m.PreviewText, "no subject: the body cut to 100 runes")
	assert.Equal(t, strings.Repeat("é", 120), res.SideConversation.PreviewText, "cut to 120 runes")
	assert.Empty(t, res.SideConversation.Subject)

	// A named sender of the recipients' type is kept.
	res, _, err = c.SideConversations.Create(ctx(t), 1, zendesk.CreateRequest{Message: zendesk.Message{
		Subject: "From another agent",
		Body:    "Hello & welcome",
		From:    zendesk.NamedEmail("other-agent@example.com", "Other"),
		To:      []zendesk.Participant{zendesk.Email("someone@example.com")},
	}})
	require.NoError(t, err)
	m = res.Event.Message
	assert.Equal(t, `<div class="zd-comment"><p>Hello &amp; welcome</p></div>`, m.HTMLBody)
	assert.Equal(t, zendesk.NamedEmail("other-agent@example.com", "Other"), m.From, "the given sender is kept")
	assert.Equal(t, agent(), res.Event.Actor, "the actor is still the agent")
	assert.Equal(t, []zendesk.Participant{zendesk.NamedEmail("other-agent@example.com", "Other"), zendesk.Email("someone@example.com")},
		res.SideConversation.Participants)
}

func TestListAndShow(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t, zendesktest.WithClock(fixedClock(t0)), zendesktest.WithTickets(1, 2))
	c := srv.Client(noWait())
	first := mustCreate(t, c, 1, "first")
	second := mustCreate(t, c, 1, "second")
	mustCreate(t, c, 2, "other ticket")
	_, _, err := c.SideConversations.Reply(ctx(t), 1, first.ID, zendesk.ReplyRequest{Message: zendesk.Message{
		Body: "More", To: []zendesk.Participant{zendesk.Email("someone@example.com")},
	}})
	require.NoError(t, err)

	list, resp, err := c.SideConversations.List(ctx(t), 1, nil)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, []string{first.ID, second.ID}, []string{list[0].ID, list[1].ID}, "oldest first")
	assert.Equal(t, 2, resp.Count)
	assert.Empty(t, resp.NextPage)
	assert.Empty(t, resp.PreviousPage)
	assert.Empty(t, list[0].Events, "events only when included")

	list, _, err = c.SideConversations.List(ctx(t), 1, &zendesk.ListOptions{IncludeEvents: true})
	require.NoError(t, err)
	require.Len(t, list, 2)
	require.Len(t, list[0].Events, 2)
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventReply}, []zendesk.EventType{list[0].Events[0].Type, list[0].Events[1].Type})
	require.Len(t, list[1].Events, 1)

	a := get(t, srv, "/api/v2/tickets/1/side_conversations?include=events")
	m := a.JSON(t)
	assert.Len(t, m["events"], 3, "one flat events array")

	sc, _, err := c.SideConversations.Show(ctx(t), 1, first.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, first.ID, sc.ID)
	assert.Empty(t, sc.Events)
	sameTime(t, t0.Add(3*time.Second), sc.MessageAddedAt, "message_added_at moved by the reply")

	sc, _, err = c.SideConversations.Show(ctx(t), 1, first.ID, &zendesk.ShowOptions{IncludeEvents: true})
	require.NoError(t, err)
	require.Len(t, sc.Events, 2)
	assert.Equal(t, "More", sc.Events[1].Message.Body)

	a = get(t, srv, "/api/v2/tickets/1/side_conversations/"+first.ID+".json")
	assert.Equal(t, http.StatusOK, a.Status, ".json suffix accepted")
	assert.NotContains(t, a.JSON(t), "events")
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t, zendesktest.WithClock(fixedClock(t0)))
	c := srv.Client(noWait())
	// At t0:
	sc := mustCreate(t, c, 1, "subject")

	// At t0+1:
	closed, resp, err := c.SideConversations.Update(ctx(t), 1, sc.ID, zendesk.UpdateRequest{State: zendesk.StateClosed})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, zendesk.StateClosed, closed.State)
	sameTime(t, t0.Add(time.Second), closed.UpdatedAt, "updated_at")
	sameTime(t, t0.Add(time.Second), closed.StateUpdatedAt, "state_updated_at")
	sameTime(t, t0, closed.MessageAddedAt, "message_added_at stays")

	// At t0+2:
	renamed, _, err := c.SideConversations.Update(ctx(t), 1, sc.ID, zendesk.UpdateRequest{Subject: "new subject", State: zendesk.StateClosed})
	require.NoError(t, err)
	assert.Equal(t, "new subject", renamed.Subject)
	sameTime(t, t0.Add(2*time.Second), renamed.UpdatedAt, "updated_at")
	sameTime(t, t0.Add(time.Second), renamed.StateUpdatedAt, "state_updated_at stays: the state did not change")

	events := srv.Events(1, sc.ID)
	require.Len(t, events, 3)
	assert.Equal(t, zendesk.EventUpdate, events[1].Type)
	assert.Equal(t, zendesk.Updates{State: zendesk.StateClosed}, events[1].Updates)
	assert.Nil(t, events[1].Message)
	assert.Equal(t, zendesk.Updates{Subject: "new subject"}, events[2].Updates, "only what changed")
	assert.Len(t, srv.SentMessages(), 1, "updates send nothing")

	a := get(t, srv, "/api/v2/tickets/1/side_conversations/"+sc.ID+"/events")
	evs := a.JSON(t)["events"].([]any)
	assert.Equal(t, map[string]any{"state": "closed"}, evs[1].(map[string]any)["updates"])

	// The same PUT again, as a retry after a lost answer would send it:
	// accepted, and nothing happens.
	again, _, err := c.SideConversations.Update(ctx(t), 1, sc.ID, zendesk.UpdateRequest{Subject: "new subject", State: zendesk.StateClosed})
	require.NoError(t, err)
	sameTime(t, t0.Add(2*time.Second), again.UpdatedAt, "updated_at stays")
	assert.Len(t, srv.Events(1, sc.ID), 3, "no event for an update that changes nothing")
}

func TestReply(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t, zendesktest.WithClock(fixedClock(t0)))
	c := srv.Client(noWait())
	// At t0:
	sc := mustCreate(t, c, 1, "Printer")
	// At t0+1:
	_, _, err := c.SideConversations.Update(ctx(t), 1, sc.ID, zendesk.UpdateRequest{State: zendesk.StateClosed})
	require.NoError(t, err)

	// At t0+2:
	res, resp, err := c.SideConversations.Reply(ctx(t), 1, sc.ID, zendesk.ReplyRequest{Message: zendesk.Message{
		Body: "Any news?",
		To:   []zendesk.Participant{zendesk.Email("someone@example.com"), zendesk.Email("new@example.com")},
	}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	now := t0.Add(2 * time.Second)
	got := res.SideConversation
	assert.Equal(t, zendesk.StateOpen, got.State, "a reply reopens")
	sameTime(t, now, got.StateUpdatedAt, "state_updated_at")
	sameTime(t, now, got.MessageAddedAt, "message_added_at")
	sameTime(t, now, got.UpdatedAt, "updated_at")
	sameTime(t, t0, got.CreatedAt, "created_at")
	assert.Equal(t, []zendesk.Participant{agent(), zendesk.Email("someone@example.com"), zendesk.Email("new@example.com")}, got.Participants)
	assert.Equal(t, "Any news?", got.PreviewText)
	assert.Empty(t, res.Event.ID, "the documented answer carries no event")
	assert.Equal(t, zendesk.Updates{}, res.Updates, "nor updates")

	sent := srv.SentMessages()
	require.Len(t, sent, 2)
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventReply}, []zendesk.EventType{sent[0].Type, sent[1].Type})
	reply := sent[1]
	assert.Equal(t, "Printer", reply.Message.Subject, "the conversation's subject by default")
	sameTime(t, now, reply.CreatedAt, "event created_at")
	events, _, err := c.SideConversations.ListEvents(ctx(t), 1, sc.ID, nil)
	require.NoError(t, err)
	require.Len(t, events, 3)
	assert.Equal(t, reply.ID, events[2].ID, "the reply's event is the latest one")

	// Replying to an open conversation changes no state.
	res, _, err = c.SideConversations.Reply(ctx(t), 1, sc.ID, zendesk.ReplyRequest{Message: zendesk.Message{
		Body: "Again", To: []zendesk.Participant{zendesk.Email("someone@example.com")},
	}})
	require.NoError(t, err)
	assert.Equal(t, zendesk.Updates{}, res.Updates)
	sameTime(t, now, res.SideConversation.StateUpdatedAt, "state_updated_at stays")
	assert.Len(t, res.SideConversation.Participants, 3)
}

func importEvents(times ...time.Time) []zendesk.ImportEvent {
	out := make([]zendesk.ImportEvent, len(times))
	for i, at := range times {
		out[i] = zendesk.ImportEvent{CreatedAt: at, Message: zendesk.Message{
			Subject: "My printer is on fire!",
			Body:    "Message " + strconv.Itoa(i),
			From:    zendesk.Email("someone-else@example.com"),
			To:      []zendesk.Participant{zendesk.Email("someone@example.com")},
		}}
	}
	return out
}

func TestImport(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t, zendesktest.WithClock(fixedClock(t0)))
	c := srv.Client(noWait())
	early := time.Date(2022, 10, 5, 20, 47, 2, 230_000_000, time.UTC)
	late := early.Add(time.Hour)

	res, resp, err := c.SideConversations.Import(ctx(t), 1, zendesk.ImportRequest{
		SideConversation: zendesk.ImportedSideConversation{
			Subject: "I have problems", State: zendesk.StateClosed,
			ExternalIDs: map[string]string{"threadExternalId": "thread-external"},
		},
		Events: importEvents(early, late),
	})
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	sc := res.SideConversation
	assert.Equal(t, "I have problems", sc.Subject)
	assert.Equal(t, zendesk.StateClosed, sc.State)
	assert.Equal(t, map[string]string{"threadExternalId": "thread-external"}, sc.ExternalIDs)
	sameTime(t, early, sc.CreatedAt, "created_at is the earliest event")
	sameTime(t, late, sc.MessageAddedAt, "message_added_at is the latest event")
	assert.Equal(t, "Message 1", sc.PreviewText)
	assert.Equal(t, []zendesk.Participant{zendesk.Email("someone-else@example.com"), zendesk.Email("someone@example.com")}, sc.Participants)

	assert.Equal(t, zendesk.EventCreate, res.Event.Type, "the first imported event")
	sameTime(t, early, res.Event.CreatedAt, "event created_at kept")
	assert.Equal(t, zendesk.Email("someone-else@example.com"), res.Event.Actor)
	assert.Equal(t, zendesk.Updates{}, res.Updates)

	events := srv.Events(1, sc.ID)
	require.Len(t, events, 2)
	assert.Equal(t, zendesk.EventReply, events[1].Type)
	sameTime(t, late, events[1].CreatedAt, "second event created_at kept")
	assert.Empty(t, srv.SentMessages(), "imports send nothing")

	// ImportEvents appends, keeping the times.
	later := late.Add(time.Hour)
	res, resp, err = c.SideConversations.ImportEvents(ctx(t), 1, sc.ID, importEvents(later))
	require.NoError(t, err)
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, zendesk.EventReply, res.Event.Type)
	sameTime(t, later, res.Event.CreatedAt, "imported event created_at")
	sameTime(t, later, res.SideConversation.MessageAddedAt, "message_added_at moves")
	assert.Equal(t, zendesk.StateClosed, res.SideConversation.State, "imports do not reopen")
	assert.Len(t, srv.Events(1, sc.ID), 3)
	assert.Empty(t, srv.SentMessages())

	// Older history is sorted in, not appended.
	_, _, err = c.SideConversations.ImportEvents(ctx(t), 1, sc.ID, importEvents(early.Add(-time.Hour)))
	require.NoError(t, err)
	events = srv.Events(1, sc.ID)
	require.Len(t, events, 4)
	sameTime(t, early.Add(-time.Hour), events[0].CreatedAt, "oldest first")
}

func TestListEventsRaw(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t, zendesktest.WithClock(fixedClock(t0)))
	c := srv.Client(noWait())
	sc := mustCreate(t, c, 1, "events")
	for i := range 4 {
		_, _, err := c.SideConversations.Reply(ctx(t), 1, sc.ID, zendesk.ReplyRequest{Message: zendesk.Message{
			Body: "Reply " + strconv.Itoa(i), To: []zendesk.Participant{zendesk.Email("someone@example.com")},
		}})
		require.NoError(t, err)
	}
	base := "/api/v2/tickets/1/side_conversations/" + sc.ID + "/events"
	m := get(t, srv, base+"?per_page=2&page=2").JSON(t)
	assert.Equal(t, float64(5), m["count"])
	evs := m["events"].([]any)
	require.Len(t, evs, 2)
	assert.Equal(t, "Reply 1", evs[0].(map[string]any)["message"].(map[string]any)["body"])
	assert.Equal(t, srv.URL()+base+"?page=3&per_page=2", m["next_page"])
	assert.Equal(t, srv.URL()+base+"?page=1&per_page=2", m["previous_page"])

	m = get(t, srv, base+"?per_page=2&page=3").JSON(t)
	assert.Len(t, m["events"], 1)
	assert.Nil(t, m["next_page"])

	a := get(t, srv, "/api/v2/tickets/1/side_conversations/nope/events")
	assertZendeskError(t, a, http.StatusNotFound, "RecordNotFound")
}

func TestIncrementalExport(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t, zendesktest.WithClock(fixedClock(t0)), zendesktest.WithTickets(1, 2),
		zendesktest.WithIncrementalPageSize(2))
	c := srv.Client(noWait())
	// At t0:
	a := mustCreate(t, c, 1, "A")
	// At t0+1:
	b := mustCreate(t, c, 2, "B")
	// At t0+2:
	_, _, err := c.SideConversations.Reply(ctx(t), 1, a.ID, zendesk.ReplyRequest{Message: zendesk.Message{
		Body: "reply", To: []zendesk.Participant{zendesk.Email("someone@example.com")},
	}})
	require.NoError(t, err)
	// At t0+3:
	_, _, err = c.SideConversations.Update(ctx(t), 2, b.ID, zendesk.UpdateRequest{State: zendesk.StateClosed})
	require.NoError(t, err)

	base := "/api/v2/tickets/side_conversations/events"
	next := srv.URL() + base + "?start_time=" + strconv.FormatInt(t0.Unix(), 10)
	var seen []string
	seenSet := map[string]bool{}
	repeated := 0
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10, "the export must end")
		require.True(t, strings.HasPrefix(next, srv.URL()+base+"?start_time="), next)
		m := get(t, srv, strings.TrimPrefix(next, srv.URL())).JSON(t)
		evs := m["events"].([]any)
		assert.LessOrEqual(t, len(evs), 2, "page size")
		assert.Equal(t, float64(len(evs)), m["count"])
		require.NotNil(t, m["next_page"], "Zendesk never sends a null next_page here")
		fresh := 0
		var last float64
		for _, e := range evs {
			ev := e.(map[string]any)
			id := ev["id"].(string)
			created, err := time.Parse(time.RFC3339, ev["created_at"].(string))
			require.NoError(t, err)
			last = float64(created.Unix())
			if seenSet[id] {
				repeated++
				continue
			}
			seenSet[id] = true
			seen = append(seen, id)
			fresh++
		}
		if len(evs) > 0 {
			assert.Equal(t, last, m["end_time"], "end_time is the last event's second")
		}
		if fresh == 0 {
			break
		}
		next = m["next_page"].(string)
	}
	require.Len(t, seen, 4, "every event of every ticket")
	assert.Equal(t, []zendesk.EventType{zendesk.EventCreate, zendesk.EventCreate, zendesk.EventReply, zendesk.EventUpdate},
		[]zendesk.EventType{
			srv.Events(1, a.ID)[0].Type, srv.Events(2, b.ID)[0].Type, srv.Events(1, a.ID)[1].Type, srv.Events(2, b.ID)[1].Type,
		})
	assert.Equal(t, []string{srv.Events(1, a.ID)[0].ID, srv.Events(2, b.ID)[0].ID, srv.Events(1, a.ID)[1].ID, srv.Events(2, b.ID)[1].ID}, seen,
		"oldest first across tickets")
	assert.Positive(t, repeated, "start_time is inclusive, so the last second repeats")

	future := strconv.FormatInt(t0.Add(time.Hour).Unix(), 10)
	m := get(t, srv, base+"?start_time="+future).JSON(t)
	assert.Equal(t, []any{}, m["events"])
	assert.Equal(t, float64(0), m["count"])
	assert.Equal(t, float64(t0.Add(time.Hour).Unix()), m["end_time"], "start_time when there is nothing")
	assert.Equal(t, srv.URL()+base+"?start_time="+future, m["next_page"])

	for _, q := range []string{"", "?start_time=", "?start_time=yesterday", "?start_time=-5"} {
		a := get(t, srv, base+q)
		m := assertZendeskError(t, a, http.StatusBadRequest, "InvalidParameter")
		assert.Contains(t, m["description"], "start_time", q)
	}
}

// pngBytes is a w×h PNG image.
func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, w, h))))
	return buf.Bytes()
}

// multipartBody builds a form with one part.
func multipartBody(t *testing.T, field, filename, contentType string, data []byte) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	disp := `form-data; name="` + field + `"`
	if filename != "" {
		disp += `; filename="` + filename + `"`
	}
	h.Set("Content-Disposition", disp)
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	w, err := mw.CreatePart(h)
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), buf.Bytes()
}

func upload(t *testing.T, srv *zendesktest.Server, field, filename, contentType string, data []byte) answer {
	t.Helper()
	ct, body := multipartBody(t, field, filename, contentType, data)
	return call(t, srv, http.MethodPost, "/api/v2/tickets/side_conversations/attachments", body, http.Header{"Content-Type": {ct}})
}

func TestUploadAndAttach(t *testing.T) {
	t.Parallel()
	srv := zendesktest.Start(t)
	img := pngBytes(t, 3, 2)

	a := upload(t, srv, "file", "pixel.png", "image/png", img)
	require.Equal(t, http.StatusCreated, a.Status, "%s", a.Body)
	var up zendesk.UploadedAttachment
	require.NoError(t, json.Unmarshal(a.Body, &up))
	assert.Equal(t, zendesk.UploadedAttachment{
		ID: "s3-f0000000-0000-4000-8000-000000000001", Name: "pixel.png", ContentType: "image/png",
		Size: int64(len(img)), Width: 3, Height: 2,
	}, up)
	assert.ElementsMatch(t, []string{"id", "name", "content_type", "size", "width", "height"}, keys(a.JSON(t)), "a bare object")

	// The type comes from the extension when the part has none, or only
	// the generic one.
	a = upload(t, srv, "file", "notes.txt", "application/octet-stream", []byte("hello"))
	require.Equal(t, http.StatusCreated, a.Status)
	assert.Equal(t, "text/plain", a.JSON(t)["content_type"])
	assert.Equal(t, float64(0), a.JSON(t)["width"])
	a = upload(t, srv, "file", "blob.unknownext", "", []byte{1, 2, 3})
	require.Equal(t, http.StatusCreated, a.Status)
	assert.Equal(t, "application/octet-stream", a.JSON(t)["content_type"])
	assert.Equal(t, float64(3), a.JSON(t)["size"])

	uploads := srv.Uploads()
	require.Len(t, uploads, 3)
	assert.Equal(t, up, uploads[0])

	// Refusals.
	assertZendeskError(t, upload(t, srv, "document", "pixel.png", "image/png", img), http.StatusBadRequest, "InvalidParameter")
	assertZendeskError(t, upload(t, srv, "file", "", "image/png", img), http.StatusBadRequest, "InvalidParameter")
	assertZendeskError(t, post(t, srv, "/api/v2/tickets/side_conversations/attachments", `{"file":"x"}`), http.StatusBadRequest, "InvalidParameter")
	assert.Len(t, srv.Uploads(), 3)

	// Attach it.
	c := srv.Client(noWait())
	req := emailCreate("With a picture", "See attached", "someone@example.com")
	req.Message.AttachmentIDs = []string{up.ID}
	res, _, err := c.SideConversations.Create(ctx(t), 1, req)
	require.NoError(t, err)
	sc := res.SideConversation
	wantURL := srv.URL() + "/api/v2/tickets/1/side_conversations/" + sc.ID + "/attachments/" + up.ID + "/download/pixel.png"
	assert.Equal(t, []zendesk.Attachment{{
		ID: up.ID, FileName: "pixel.png", ContentType: "image/png", ContentURL: wantURL,
		Size: int64(len(img)), Width: 3, Height: 2, Inline: false,
	}}, res.Event.Message.Attachments)

	dl := get(t, srv, strings.TrimPrefix(wantURL, srv.URL()))
	require.Equal(t, http.StatusOK, dl.Status)
	assert.Equal(t, img, dl.Body)
	assert.Equal(t, "image/png", dl.Header.Get("Content-Type"))
	assert.Equal(t, http.StatusNotFound, get(t, srv, strings.TrimSuffix(strings.TrimPrefix(wantURL, srv.URL()), "pixel.png")+"other.png").Status)

	// An id that was never uploaded.
	req.Message.AttachmentIDs = []string{"s3-never-uploaded"}
	_, _, err = c.SideConversations.Create(ctx(t), 1, req)
	require.ErrorIs(t, err, zendesk.ErrUnprocessable)
	var apiErr *zendesk.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "RecordInvalid", apiErr.Code)
	assert.Contains(t, string(apiErr.Details), "attachment_ids")
	assert.Len(t, srv.SentMessages(), 1)
}
